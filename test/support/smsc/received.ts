import { TLV, tlvInteger, type ShortMessagePdu } from './pdu'
import { decodeText } from './text'
import { splitUdh, type ConcatInfo } from './udh'

/** One submit_sm as the simulator received it, octets exactly as sent. */
export interface ReceivedSubmit {
  /** The id given in submit_sm_resp; null when the submit was refused or dropped. */
  messageId: string | null
  /** The command_status decided for it; null when the connection was dropped instead. */
  status: number | null
  /** True once submit_sm_resp was written (false while held, delayed, or lost with the socket). */
  answered: boolean
  sessionId: number
  sequenceNumber: number
  serviceType: string
  sourceAddr: string
  sourceTon: number
  sourceNpi: number
  destAddr: string
  destTon: number
  destNpi: number
  dataCoding: number
  esmClass: number
  protocolId: number
  registeredDelivery: number
  shortMessage: Buffer
  messagePayload?: Buffer
  /** From the sar_* TLVs, when all three are present. */
  sar?: ConcatInfo
  /** From the concatenation element of the UDH, when esm_class has 0x40. */
  udh?: ConcatInfo
  tlvs: Map<number, Buffer>
  /** Date.now() when it arrived. */
  at: number
}

/** A message to one destination, put back together from its accepted parts. */
export interface ReassembledMessage {
  dest: string
  source: string
  dataCoding: number
  /** Each part decoded on its own, then joined: a character split across parts shows as U+FFFD. */
  text: string
  parts: number
  /** False when some parts (by UDH or SAR numbering) never arrived. */
  complete: boolean
  messageIds: string[]
  submits: ReceivedSubmit[]
}

const UDHI = 0x40

export function toReceivedSubmit(
  pdu: ShortMessagePdu,
  sessionId: number,
): Omit<ReceivedSubmit, 'messageId' | 'status' | 'answered'> {
  const messagePayload = pdu.tlvs.get(TLV.messagePayload)
  const ref = tlvInteger(pdu.tlvs, TLV.sarMsgRefNum)
  const total = tlvInteger(pdu.tlvs, TLV.sarTotalSegments)
  const seq = tlvInteger(pdu.tlvs, TLV.sarSegmentSeqnum)
  const udhi = (pdu.esmClass & UDHI) !== 0
  return {
    sessionId,
    sequenceNumber: pdu.sequenceNumber,
    serviceType: pdu.serviceType,
    sourceAddr: pdu.sourceAddr,
    sourceTon: pdu.sourceTon,
    sourceNpi: pdu.sourceNpi,
    destAddr: pdu.destAddr,
    destTon: pdu.destTon,
    destNpi: pdu.destNpi,
    dataCoding: pdu.dataCoding,
    esmClass: pdu.esmClass,
    protocolId: pdu.protocolId,
    registeredDelivery: pdu.registeredDelivery,
    shortMessage: pdu.shortMessage,
    ...(messagePayload && { messagePayload }),
    ...(ref !== undefined &&
      total !== undefined &&
      seq !== undefined && { sar: { ref, total, seq } }),
    ...(udhi && { udh: splitUdh(messagePayload ?? pdu.shortMessage)?.concat }),
    tlvs: pdu.tlvs,
    at: Date.now(),
  }
}

/** The user data of a submit without its UDH: what the handset shows. */
export function userData(submit: ReceivedSubmit): Buffer {
  const data = submit.messagePayload ?? submit.shortMessage
  if ((submit.esmClass & UDHI) === 0) return data
  return splitUdh(data)?.body ?? data
}

export function submitText(submit: ReceivedSubmit): string {
  return decodeText(submit.dataCoding, userData(submit))
}

/** Concatenated parts belong together when they share source, destination, scheme and ref. */
export function concatKey(submit: ReceivedSubmit): string | null {
  const concat = submit.udh ?? submit.sar
  if (!concat || concat.total < 2) return null
  const scheme = submit.udh ? 'udh' : 'sar'
  return `${scheme}|${submit.sourceAddr}|${submit.destAddr}|${concat.ref}|${concat.total}`
}

function seqOf(submit: ReceivedSubmit): number {
  return (submit.udh ?? submit.sar)?.seq ?? 1
}

/**
 * Groups accepted submits (status 0) into messages in order of arrival. A part whose sequence
 * number is already in every open group with its key starts a new group, so a message sent
 * twice shows as two messages rather than being merged away.
 */
export function reassemble(submits: readonly ReceivedSubmit[]): ReassembledMessage[] {
  const groups: ReceivedSubmit[][] = []
  const open = new Map<string, ReceivedSubmit[][]>()
  for (const submit of submits) {
    if (submit.status !== 0) continue
    const key = concatKey(submit)
    if (key === null) {
      groups.push([submit])
      continue
    }
    const candidates = open.get(key) ?? []
    let group = candidates.find((parts) => parts.every((part) => seqOf(part) !== seqOf(submit)))
    if (!group) {
      group = []
      candidates.push(group)
      open.set(key, candidates)
      groups.push(group)
    }
    group.push(submit)
  }
  return groups.map((group) => {
    const parts = [...group].sort((a, b) => seqOf(a) - seqOf(b))
    const first = parts[0]
    const total = (first.udh ?? first.sar)?.total ?? 1
    return {
      dest: first.destAddr,
      source: first.sourceAddr,
      dataCoding: first.dataCoding,
      text: parts.map(submitText).join(''),
      parts: parts.length,
      complete: parts.length === total && parts.every((part, i) => seqOf(part) === i + 1),
      messageIds: parts.flatMap((part) => (part.messageId === null ? [] : [part.messageId])),
      submits: parts,
    }
  })
}
