/**
 * Reading an SMS that a phone sent (MO) from the deliver_sm octets: which part of which
 * concatenated message it is, and its text by data_coding.
 *
 * Parts are decoded after reassembly, from their joined octets: a surrogate pair or a GSM
 * escape that the phone split across two segments then comes out whole.
 */

import type { MoMessage } from '../smpp/client'
import { TLV_TAG } from '../smpp/deliver'
import { decodeGsm7 } from '../sms/gsm7'
import { decodeUcs2 } from '../sms/ucs2'

/** How the text of an inbound SMS was carried; 'binary' bodies are kept as hex. */
export type InboundEncoding = 'gsm7' | 'ascii' | 'latin1' | 'ucs2' | 'binary'

export interface ConcatInfo {
  /** The sender's reference, shared by every part of one message. */
  ref: number
  total: number
  /** 1-based. */
  seq: number
}

/** One deliver_sm reduced to what reassembly and intake need. */
export interface MoPart {
  from: string
  fromTon: number
  to: string
  toTon: number
  dataCoding: number
  /** The user data proper: UDH removed, message_payload used when short_message is empty. */
  body: Buffer
  /** null for a message in one part. */
  concat: ConcatInfo | null
}

const ESM_CLASS_UDHI = 0x40
const IEI_CONCAT_8BIT = 0x00
const IEI_CONCAT_16BIT = 0x08

/**
 * Splits the user data header off. A header that overruns the data is not one the phone could
 * have meant: the octets are then kept whole rather than dropped.
 */
export function splitUserDataHeader(data: Buffer): { body: Buffer; concat: ConcatInfo | null } {
  if (data.length === 0 || data[0] + 1 > data.length) return { body: data, concat: null }
  const end = data[0] + 1
  let concat: ConcatInfo | null = null
  for (let at = 1; at < end;) {
    if (at + 2 > end) return { body: data, concat: null }
    const iei = data[at]
    const length = data[at + 1]
    if (at + 2 + length > end) return { body: data, concat: null }
    if (iei === IEI_CONCAT_8BIT && length === 3) {
      concat = { ref: data[at + 2], total: data[at + 3], seq: data[at + 4] }
    } else if (iei === IEI_CONCAT_16BIT && length === 4) {
      concat = { ref: data.readUInt16BE(at + 2), total: data[at + 4], seq: data[at + 5] }
    }
    at += 2 + length
  }
  return { body: data.subarray(end), concat }
}

/** The SAR TLVs (SMPP 3.4 §5.3.2.22-24), when all three are there. */
export function readSarTlvs(tlvs: Map<number, Buffer>): ConcatInfo | null {
  const ref = tlvs.get(TLV_TAG.sarMsgRefNum)
  const total = tlvs.get(TLV_TAG.sarTotalSegments)
  const seq = tlvs.get(TLV_TAG.sarSegmentSeqnum)
  if (!ref?.length || !total?.length || !seq?.length) return null
  return {
    ref: ref.length >= 2 ? ref.readUInt16BE(0) : ref[0],
    total: total[0],
    seq: seq[0],
  }
}

// A part numbered 0 or beyond its total can never complete a set: read it as a whole message.
function usable(concat: ConcatInfo | null): ConcatInfo | null {
  if (concat === null || concat.total < 2 || concat.seq < 1 || concat.seq > concat.total) {
    return null
  }
  return concat
}

/** What data_coding 0 ("SMSC default alphabet", SMPP 3.4 §5.2.19) means to this SMSC. */
export type DefaultAlphabet = 'gsm' | 'latin1' | 'ascii'

const DATA_CODING_OF_DEFAULT: Readonly<Record<DefaultAlphabet, number>> = {
  gsm: 0x00,
  ascii: 0x01,
  latin1: 0x03,
}

/**
 * The MO's octets without their header, and its data_coding with 0 replaced by the coding the
 * SMSC's default alphabet has of its own: the parts kept for reassembly then say what they are.
 */
export function readMoPart(mo: MoMessage, defaultAlphabet: DefaultAlphabet = 'gsm'): MoPart {
  let data = mo.shortMessage
  if (data.length === 0) data = mo.tlvs.get(TLV_TAG.messagePayload) ?? data
  let body = data
  let concat: ConcatInfo | null = null
  if (mo.esmClass & ESM_CLASS_UDHI) ({ body, concat } = splitUserDataHeader(data))
  concat ??= readSarTlvs(mo.tlvs)
  return {
    from: mo.from,
    fromTon: mo.fromTon,
    to: mo.to,
    toTon: mo.toTon,
    dataCoding: mo.dataCoding === 0 ? DATA_CODING_OF_DEFAULT[defaultAlphabet] : mo.dataCoding,
    body,
    concat: usable(concat),
  }
}

/** The encoding SMPP data_coding names (SMPP 3.4 §5.2.19, GSM 03.38 message-class values). */
export function encodingOf(dataCoding: number): InboundEncoding {
  if (dataCoding === 0x00) return 'gsm7'
  if (dataCoding === 0x01) return 'ascii'
  if (dataCoding === 0x03) return 'latin1'
  if (dataCoding === 0x08) return 'ucs2'
  // 1111 0xCC: message class with the default alphabet (bit 2 clear) or 8-bit data (set).
  if ((dataCoding & 0xf0) === 0xf0) return dataCoding & 0x04 ? 'binary' : 'gsm7'
  // 00xx xxxx (from 0x10: below that SMPP has its own meanings) and 01xx xxxx: the general
  // coding groups a phone sets for a flash SMS (0x10, 0x18) and the like. Bit 5 is
  // compression, which no SMSC expands for us; bits 3-2 the alphabet.
  if (dataCoding >= 0x10 && dataCoding < 0x80) {
    if (dataCoding & 0x20) return 'binary'
    const alphabet = (dataCoding >> 2) & 0x03
    return alphabet === 0 ? 'gsm7' : alphabet === 2 ? 'ucs2' : 'binary'
  }
  // 1100 and 1101: message waiting, default alphabet; 1110: message waiting, UCS-2.
  if ((dataCoding & 0xe0) === 0xc0) return 'gsm7'
  if ((dataCoding & 0xf0) === 0xe0) return 'ucs2'
  return 'binary'
}

/** Text of the user data; binary data (ringtones, WAP, unknown codings) as upper-case hex. */
export function decodeUserData(
  dataCoding: number,
  body: Buffer,
): { text: string; encoding: InboundEncoding } {
  const encoding = encodingOf(dataCoding)
  switch (encoding) {
    case 'gsm7':
      return { text: decodeGsm7(body), encoding }
    case 'ascii':
      // IA5 is 7-bit: a stray high bit is line noise, not Latin-1.
      return { text: Buffer.from(body.map((b) => b & 0x7f)).toString('latin1'), encoding }
    case 'latin1':
      return { text: body.toString('latin1'), encoding }
    case 'ucs2':
      return { text: decodeUcs2(body), encoding }
    default:
      return { text: body.toString('hex').toUpperCase(), encoding }
  }
}
