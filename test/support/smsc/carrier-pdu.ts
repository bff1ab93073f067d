/**
 * A small SMPP 3.4 PDU codec for the carrier-like test SMSC, written from the specification
 * rather than borrowed from the `smpp` package or the product, so that the two sides of a test
 * do not share a reading of the protocol.
 *
 * Every PDU is a 16-octet header (command_length, command_id, command_status, sequence_number,
 * all big-endian 32-bit; §3.2) and a body of mandatory fields (C-octet strings end with NUL,
 * integers are 1 octet here) followed by optional TLVs (tag 16 bits, length 16 bits; §3.2.4).
 */

export const HEADER_LENGTH = 16
/** Longer than any PDU a well-behaved ESME sends: a longer length means a broken stream. */
export const MAX_PDU_LENGTH = 64 * 1024

/** command_id values (§5.1.2). */
export const CMD = {
  generic_nack: 0x80000000,
  bind_receiver: 0x00000001,
  bind_transmitter: 0x00000002,
  submit_sm: 0x00000004,
  submit_sm_resp: 0x80000004,
  deliver_sm: 0x00000005,
  deliver_sm_resp: 0x80000005,
  unbind: 0x00000006,
  unbind_resp: 0x80000006,
  bind_transceiver: 0x00000009,
  bind_transceiver_resp: 0x80000009,
  enquire_link: 0x00000015,
  enquire_link_resp: 0x80000015,
} as const

/** command_status values used by the carrier (§5.1.3). */
export const ESME = {
  ROK: 0x00,
  RINVCMDLEN: 0x02,
  RINVCMDID: 0x03,
  RINVBNDSTS: 0x04,
  RALYBND: 0x05,
  RINVPASWD: 0x0e,
  RINVSYSID: 0x0f,
  RMSGQFUL: 0x14,
  RTHROTTLED: 0x58,
} as const

/** TLV tags (§5.3.2). */
export const TLV = {
  receipted_message_id: 0x001e,
  sar_msg_ref_num: 0x020c,
  sar_total_segments: 0x020e,
  sar_segment_seqnum: 0x020f,
  message_payload: 0x0424,
  message_state: 0x0427,
} as const

const EMPTY: Buffer = Buffer.alloc(0)

export interface Pdu {
  commandId: number
  status: number
  sequence: number
  body: Buffer
}

export function encodePdu(
  commandId: number,
  status: number,
  sequence: number,
  body: Buffer = EMPTY,
): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH)
  header.writeUInt32BE(HEADER_LENGTH + body.length, 0)
  header.writeUInt32BE(commandId >>> 0, 4)
  header.writeUInt32BE(status >>> 0, 8)
  header.writeUInt32BE(sequence >>> 0, 12)
  return Buffer.concat([header, body])
}

/**
 * Cuts a TCP stream into PDUs. `push` returns the complete PDUs received so far, or throws on
 * a command_length no PDU can have (the caller then drops the connection, as SMSCs do).
 */
export class PduReader {
  private pending: Buffer = EMPTY

  push(chunk: Buffer): Pdu[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    const out: Pdu[] = []
    while (this.pending.length >= HEADER_LENGTH) {
      const length = this.pending.readUInt32BE(0)
      if (length < HEADER_LENGTH || length > MAX_PDU_LENGTH) {
        throw new Error(`command_length ${length} out of range`)
      }
      if (this.pending.length < length) break
      out.push({
        commandId: this.pending.readUInt32BE(4),
        status: this.pending.readUInt32BE(8),
        sequence: this.pending.readUInt32BE(12),
        body: Buffer.from(this.pending.subarray(HEADER_LENGTH, length)),
      })
      this.pending = this.pending.subarray(length)
    }
    return out
  }
}

/** Reads mandatory fields in order; reading past the end throws (a malformed body). */
export class BodyReader {
  private at = 0

  constructor(private readonly body: Buffer) {}

  cstring(): string {
    const end = this.body.indexOf(0, this.at)
    if (end < 0) throw new Error('C-octet string without its NUL')
    const value = this.body.toString('latin1', this.at, end)
    this.at = end + 1
    return value
  }

  u8(): number {
    if (this.at >= this.body.length) throw new Error('body too short')
    return this.body[this.at++]
  }

  bytes(length: number): Buffer {
    if (this.at + length > this.body.length) throw new Error('body too short')
    const value = this.body.subarray(this.at, this.at + length)
    this.at += length
    return Buffer.from(value)
  }

  /** The TLVs after the mandatory fields, by tag (the last of a repeated tag wins). */
  tlvs(): Map<number, Buffer> {
    const out = new Map<number, Buffer>()
    while (this.at + 4 <= this.body.length) {
      const tag = this.body.readUInt16BE(this.at)
      const length = this.body.readUInt16BE(this.at + 2)
      this.at += 4
      out.set(tag, this.bytes(length))
    }
    if (this.at !== this.body.length) throw new Error('trailing octets after the TLVs')
    return out
  }
}

/** Builds a body field by field. */
export class BodyWriter {
  private readonly parts: Buffer[] = []

  cstring(value: string): this {
    this.parts.push(Buffer.from(value, 'latin1'), Buffer.from([0]))
    return this
  }

  u8(value: number): this {
    this.parts.push(Buffer.from([value & 0xff]))
    return this
  }

  bytes(value: Buffer): this {
    this.parts.push(value)
    return this
  }

  tlv(tag: number, value: Buffer): this {
    const head = Buffer.alloc(4)
    head.writeUInt16BE(tag, 0)
    head.writeUInt16BE(value.length, 2)
    this.parts.push(head, value)
    return this
  }

  build(): Buffer {
    return Buffer.concat(this.parts)
  }
}

export interface BindBody {
  systemId: string
  password: string
  systemType: string
  interfaceVersion: number
}

export function readBind(body: Buffer): BindBody {
  const r = new BodyReader(body)
  return {
    systemId: r.cstring(),
    password: r.cstring(),
    systemType: r.cstring(),
    interfaceVersion: r.u8(),
  }
}

/** The fields submit_sm and deliver_sm share (§4.4.1, §4.6.1). */
export interface ShortMessageBody {
  serviceType: string
  sourceTon: number
  sourceNpi: number
  sourceAddr: string
  destTon: number
  destNpi: number
  destAddr: string
  esmClass: number
  protocolId: number
  priorityFlag: number
  scheduleDeliveryTime: string
  validityPeriod: string
  registeredDelivery: number
  replaceIfPresent: number
  dataCoding: number
  smDefaultMsgId: number
  shortMessage: Buffer
  tlvs: Map<number, Buffer>
}

export function readShortMessage(body: Buffer): ShortMessageBody {
  const r = new BodyReader(body)
  const head = {
    serviceType: r.cstring(),
    sourceTon: r.u8(),
    sourceNpi: r.u8(),
    sourceAddr: r.cstring(),
    destTon: r.u8(),
    destNpi: r.u8(),
    destAddr: r.cstring(),
    esmClass: r.u8(),
    protocolId: r.u8(),
    priorityFlag: r.u8(),
    scheduleDeliveryTime: r.cstring(),
    validityPeriod: r.cstring(),
    registeredDelivery: r.u8(),
    replaceIfPresent: r.u8(),
    dataCoding: r.u8(),
    smDefaultMsgId: r.u8(),
  }
  const shortMessage = r.bytes(r.u8())
  return { ...head, shortMessage, tlvs: r.tlvs() }
}

export function writeShortMessage(
  m: Partial<ShortMessageBody> & Pick<ShortMessageBody, 'sourceAddr' | 'destAddr'>,
): Buffer {
  const shortMessage = m.shortMessage ?? EMPTY
  if (shortMessage.length > 254) throw new Error('short_message over 254 octets')
  const w = new BodyWriter()
    .cstring(m.serviceType ?? '')
    .u8(m.sourceTon ?? 0)
    .u8(m.sourceNpi ?? 0)
    .cstring(m.sourceAddr)
    .u8(m.destTon ?? 0)
    .u8(m.destNpi ?? 0)
    .cstring(m.destAddr)
    .u8(m.esmClass ?? 0)
    .u8(m.protocolId ?? 0)
    .u8(m.priorityFlag ?? 0)
    .cstring(m.scheduleDeliveryTime ?? '')
    .cstring(m.validityPeriod ?? '')
    .u8(m.registeredDelivery ?? 0)
    .u8(m.replaceIfPresent ?? 0)
    .u8(m.dataCoding ?? 0)
    .u8(m.smDefaultMsgId ?? 0)
    .u8(shortMessage.length)
    .bytes(shortMessage)
  for (const [tag, value] of m.tlvs ?? []) w.tlv(tag, value)
  return w.build()
}

/** esm_class bit 6: the short message starts with a user data header (§5.2.12). */
export const ESM_UDHI = 0x40
/** esm_class message type "SMSC delivery receipt" (§5.2.12). */
export const ESM_DELIVERY_RECEIPT = 0x04

export interface Concat {
  ref: number
  total: number
  seq: number
}

export interface UserData {
  /** The user data without the UDH. */
  payload: Buffer
  concat: Concat | null
}

/**
 * The user data of a submit_sm: short_message (or message_payload when it is empty), its UDH
 * removed, and the concatenation facts from UDH IE 0x00 / 0x08 (3GPP TS 23.040 §9.2.3.24.1/8)
 * or the SAR TLVs.
 */
export function readUserData(m: ShortMessageBody): UserData {
  const data =
    m.shortMessage.length === 0 ? (m.tlvs.get(TLV.message_payload) ?? EMPTY) : m.shortMessage
  const sarRef = m.tlvs.get(TLV.sar_msg_ref_num)
  const sarTotal = m.tlvs.get(TLV.sar_total_segments)
  const sarSeq = m.tlvs.get(TLV.sar_segment_seqnum)
  const sar =
    sarRef?.length === 2 && sarTotal?.length === 1 && sarSeq?.length === 1
      ? { ref: sarRef.readUInt16BE(0), total: sarTotal[0], seq: sarSeq[0] }
      : null
  if (!(m.esmClass & ESM_UDHI) || data.length === 0) return { payload: data, concat: sar }
  const udhLength = data[0]
  const udh = data.subarray(1, 1 + udhLength)
  let concat: Concat | null = sar
  for (let i = 0; i + 2 <= udh.length;) {
    const ie = udh[i]
    const length = udh[i + 1]
    const value = udh.subarray(i + 2, i + 2 + length)
    if (ie === 0x00 && length === 3) concat = { ref: value[0], total: value[1], seq: value[2] }
    if (ie === 0x08 && length === 4)
      concat = { ref: value.readUInt16BE(0), total: value[2], seq: value[3] }
    i += 2 + length
  }
  return { payload: Buffer.from(data.subarray(1 + udhLength)), concat }
}
