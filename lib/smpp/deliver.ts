/**
 * A deliver_sm read from its own bytes.
 *
 * smpp@0.5.1 decodes short_message by itself (GSM table for data_coding 0 and 1, bytes above
 * 0x7F become spaces, the UDH is split off) and reads C-string TLVs up to the next NUL whatever
 * their length says. Receipts and MO messages need the octets as sent, so the client re-reads the
 * PDU here: mandatory parameters in SMPP 3.4 §4.6.1 order, then every TLV by its length.
 */

export const TLV_TAG = {
  receiptedMessageId: 0x001e,
  sarMsgRefNum: 0x020c,
  sarTotalSegments: 0x020e,
  sarSegmentSeqnum: 0x020f,
  networkErrorCode: 0x0423,
  messagePayload: 0x0424,
  messageState: 0x0427,
} as const

export const DELIVER_SM_ID = 0x00000005

export interface DeliverSm {
  sequenceNumber: number
  serviceType: string
  sourceAddrTon: number
  sourceAddrNpi: number
  sourceAddr: string
  destAddrTon: number
  destAddrNpi: number
  destinationAddr: string
  esmClass: number
  protocolId: number
  priorityFlag: number
  registeredDelivery: number
  dataCoding: number
  /** The octets as sent, UDH included when esm_class has 0x40. */
  shortMessage: Buffer
  /** Optional parameters by tag, each value exactly its TLV length. */
  tlvs: Map<number, Buffer>
}

export class PduFormatError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PduFormatError'
  }
}

class Reader {
  offset = 16

  constructor(
    private readonly pdu: Buffer,
    private readonly end: number,
  ) {}

  octet(field: string): number {
    if (this.offset >= this.end) throw new PduFormatError(`deliver_sm ends before ${field}`)
    return this.pdu[this.offset++]
  }

  cString(field: string): string {
    const nul = this.pdu.indexOf(0, this.offset)
    if (nul < 0 || nul >= this.end) throw new PduFormatError(`deliver_sm ${field} has no NUL`)
    const value = this.pdu.toString('latin1', this.offset, nul)
    this.offset = nul + 1
    return value
  }

  octets(length: number, field: string): Buffer {
    if (this.offset + length > this.end) throw new PduFormatError(`deliver_sm ${field} is cut`)
    // A copy, so listeners may keep it without pinning the socket's read buffer.
    const value = Buffer.from(this.pdu.subarray(this.offset, this.offset + length))
    this.offset += length
    return value
  }

  remaining(): number {
    return this.end - this.offset
  }
}

/** Parses a whole deliver_sm PDU (header included). Throws PduFormatError when malformed. */
export function parseDeliverSm(pdu: Buffer): DeliverSm {
  if (pdu.length < 16) throw new PduFormatError('deliver_sm shorter than its header')
  const length = pdu.readUInt32BE(0)
  if (length < 16 || length > pdu.length) throw new PduFormatError('deliver_sm length is wrong')
  if (pdu.readUInt32BE(4) !== DELIVER_SM_ID) throw new PduFormatError('not a deliver_sm')
  const r = new Reader(pdu, length)
  const serviceType = r.cString('service_type')
  const sourceAddrTon = r.octet('source_addr_ton')
  const sourceAddrNpi = r.octet('source_addr_npi')
  const sourceAddr = r.cString('source_addr')
  const destAddrTon = r.octet('dest_addr_ton')
  const destAddrNpi = r.octet('dest_addr_npi')
  const destinationAddr = r.cString('destination_addr')
  const esmClass = r.octet('esm_class')
  const protocolId = r.octet('protocol_id')
  const priorityFlag = r.octet('priority_flag')
  r.cString('schedule_delivery_time')
  r.cString('validity_period')
  const registeredDelivery = r.octet('registered_delivery')
  r.octet('replace_if_present_flag')
  const dataCoding = r.octet('data_coding')
  r.octet('sm_default_msg_id')
  const shortMessage = r.octets(r.octet('sm_length'), 'short_message')
  const tlvs = new Map<number, Buffer>()
  while (r.remaining() > 0) {
    if (r.remaining() < 4) throw new PduFormatError('deliver_sm has a cut TLV header')
    const tag = (r.octet('tag') << 8) | r.octet('tag')
    const size = (r.octet('length') << 8) | r.octet('length')
    tlvs.set(tag, r.octets(size, `TLV 0x${tag.toString(16)}`))
  }
  return {
    sequenceNumber: pdu.readUInt32BE(12),
    serviceType,
    sourceAddrTon,
    sourceAddrNpi,
    sourceAddr,
    destAddrTon,
    destAddrNpi,
    destinationAddr,
    esmClass,
    protocolId,
    priorityFlag,
    registeredDelivery,
    dataCoding,
    shortMessage,
    tlvs,
  }
}
