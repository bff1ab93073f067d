import type { PDU, Session } from 'smpp'
// One layout for both test SMSCs; each still reads the octets with its own code.
import type { ShortMessageBody } from './carrier-pdu'

/**
 * The fields of a submit_sm or deliver_sm (SMPP 3.4 §4.4.1 and §4.6.1 share one layout), read
 * from the raw PDU. The `smpp` package decodes short_message into text with its own (lossy)
 * tables and reads TLV strings up to the first NUL, so the simulator reads the octets itself.
 */
export interface ShortMessagePdu extends ShortMessageBody {
  sequenceNumber: number
}

export const TLV = {
  receiptedMessageId: 0x001e,
  sarMsgRefNum: 0x020c,
  sarTotalSegments: 0x020e,
  sarSegmentSeqnum: 0x020f,
  messagePayload: 0x0424,
  messageState: 0x0427,
} as const

const HEADER_LENGTH = 16

export class MalformedPduError extends Error {}

export function parseShortMessagePdu(raw: Buffer): ShortMessagePdu {
  const commandLength = raw.readUInt32BE(0)
  if (commandLength !== raw.length) throw new MalformedPduError('command_length mismatch')
  let at = HEADER_LENGTH
  const need = (n: number): void => {
    if (at + n > raw.length) throw new MalformedPduError(`PDU ends at ${raw.length}`)
  }
  const octet = (): number => {
    need(1)
    return raw[at++]
  }
  const cString = (): string => {
    const end = raw.indexOf(0, at)
    if (end < 0) throw new MalformedPduError('unterminated C-Octet String')
    const value = raw.toString('latin1', at, end)
    at = end + 1
    return value
  }
  const octets = (n: number): Buffer => {
    need(n)
    const value = raw.subarray(at, at + n)
    at += n
    return value
  }
  const fields = {
    sequenceNumber: raw.readUInt32BE(12),
    serviceType: cString(),
    sourceTon: octet(),
    sourceNpi: octet(),
    sourceAddr: cString(),
    destTon: octet(),
    destNpi: octet(),
    destAddr: cString(),
    esmClass: octet(),
    protocolId: octet(),
    priorityFlag: octet(),
    scheduleDeliveryTime: cString(),
    validityPeriod: cString(),
    registeredDelivery: octet(),
    replaceIfPresent: octet(),
    dataCoding: octet(),
    smDefaultMsgId: octet(),
    shortMessage: Buffer.from(octets(octet())),
  }
  const tlvs = new Map<number, Buffer>()
  while (at < raw.length) {
    need(4)
    const tag = raw.readUInt16BE(at)
    const length = raw.readUInt16BE(at + 2)
    at += 4
    tlvs.set(tag, Buffer.from(octets(length)))
  }
  return { ...fields, tlvs }
}

/** Reads an integer TLV of 1 or 2 octets; undefined when absent or of another size. */
export function tlvInteger(tlvs: Map<number, Buffer>, tag: number): number | undefined {
  const value = tlvs.get(tag)
  if (value?.length === 1) return value[0]
  if (value?.length === 2) return value.readUInt16BE(0)
  return undefined
}

/**
 * Calls `onPdu` with each PDU the session reads and the octets it was read from. The `smpp`
 * Session reads a PDU with exactly two `socket.read()` calls (length, then the rest) and emits
 * 'pdu' at once, so the octets read since the last 'pdu' are that PDU. Call this right after the
 * session is made, before its first 'readable'.
 */
export function captureRawPdus(session: Session, onPdu: (pdu: PDU, raw: Buffer) => void): void {
  const socket = session.socket
  const read = socket.read.bind(socket)
  let chunks: Buffer[] = []
  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size)
    if (Buffer.isBuffer(chunk) && size) chunks.push(chunk)
    return chunk
  }
  session.on('pdu', (pdu: PDU) => {
    const raw = Buffer.concat(chunks)
    chunks = []
    if (raw.length !== pdu.command_length) {
      session.emit('error', new Error(`raw capture got ${raw.length} octets for a ${pdu.command}`))
      return
    }
    onPdu(pdu, raw)
  })
}
