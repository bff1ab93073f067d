/**
 * The submit_sm PDUs of one SMS.
 *
 * The text is always encoded by lib/sms and handed to smpp@0.5.1 as a Buffer with an explicit
 * data_coding: the package's own encoder sends GSM text as data_coding 1 and turns what it cannot
 * encode into '@' without a word. Long messages go out in one of three ways an SMSC may expect:
 * - udh: one submit_sm per segment, each starting with a 6-octet UDH (IE 0x00, 8-bit reference)
 *   and esm_class 0x40 (TS 23.040 §9.2.3.24.1);
 * - sar: one submit_sm per segment, the same reference in sar_msg_ref_num, sar_total_segments and
 *   sar_segment_seqnum TLVs, and no UDH (the SMSC builds it);
 * - payload: the whole text in one submit_sm's message_payload TLV, short_message empty.
 */

import type { PduFields } from 'smpp'
import { encodeSmsForSmsc, type SmscAlphabet, type SmsEncoding } from '../sms'
import { SmppSubmitError } from './errors'

export type LongSmsMethod = 'udh' | 'sar' | 'payload'

export type SmsSender =
  | { type: 'alphanumeric'; name: string }
  | { type: 'number'; /** E.164 */ number: string }
  /** An empty source_addr: the carrier puts the sender its contract gives this account. */
  | { type: 'carrier-default' }

export interface SubmitMessage {
  from: SmsSender
  /** E.164 */
  to: string
  text: string
  requestReceipt: boolean
  /**
   * Concatenation reference (1..255) for the UDH or SAR TLVs of a long SMS. Given, it is used
   * instead of asking nextReference: a retry of some parts must carry the reference the parts
   * already on the handset have, or they are never joined.
   */
  reference?: number
}

export interface SubmitPlan {
  encoding: SmsEncoding
  /** Segments the handset shows; 1 for the empty text. */
  segments: number
  /** submit_sm fields, one PDU per entry, in part order. */
  pdus: PduFields[]
}

// TON / NPI values (SMPP 3.4 §5.2.5, §5.2.6).
const TON_INTERNATIONAL = 0x01
const TON_ALPHANUMERIC = 0x05
const NPI_UNKNOWN = 0x00
const NPI_ISDN = 0x01
const ESM_CLASS_UDHI = 0x40
// Handsets show at most 11 characters of an alphanumeric sender (TS 23.040 §9.1.2.5), and the
// package writes addresses as ASCII.
const ALPHANUMERIC_SENDER = /^(?=.*[^ ])[\x20-\x7e]{1,11}$/
const E164 = /^\+?([1-9][0-9]{1,14})$/
const MAX_SEGMENTS = 255

function e164Digits(number: string, role: string): string {
  const match = E164.exec(number)
  if (!match) throw new SmppSubmitError('permanent', `${role} ${number} is not an E.164 number`)
  return match[1]
}

function sourceFields(from: SmsSender): PduFields {
  if (from.type === 'carrier-default') {
    return { source_addr_ton: 0x00, source_addr_npi: NPI_UNKNOWN, source_addr: '' }
  }
  if (from.type === 'alphanumeric') {
    if (!ALPHANUMERIC_SENDER.test(from.name)) {
      throw new SmppSubmitError(
        'permanent',
        `sender name "${from.name}" must be 1 to 11 printable ASCII characters`,
      )
    }
    return {
      source_addr_ton: TON_ALPHANUMERIC,
      source_addr_npi: NPI_UNKNOWN,
      source_addr: from.name,
    }
  }
  return {
    source_addr_ton: TON_INTERNATIONAL,
    source_addr_npi: NPI_ISDN,
    source_addr: e164Digits(from.number, 'sender'),
  }
}

function concatenationHeader(reference: number, total: number, seqnum: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, reference, total, seqnum])
}

function concatenationReference(message: SubmitMessage, nextReference: () => number): number {
  const { reference } = message
  if (reference === undefined) return nextReference()
  if (!Number.isInteger(reference) || reference < 1 || reference > 255) {
    throw new RangeError(`concatenation reference ${reference} is not an integer from 1 to 255`)
  }
  return reference
}

/**
 * The submit_sm fields for `message`. `nextReference` (1..255) is called once, and only for a
 * message of several segments without a reference of its own. `defaultAlphabet` is what
 * data_coding 0 means to the SMSC (see lib/sms/smsc-alphabet.ts). Throws SmppSubmitError
 * 'permanent' for what no SMSC would take, and a RangeError for a reference out of range.
 */
export function planSubmit(
  message: SubmitMessage,
  method: LongSmsMethod,
  nextReference: () => number,
  defaultAlphabet: SmscAlphabet = 'gsm',
): SubmitPlan {
  const encoded = encodeSmsForSmsc(message.text, defaultAlphabet)
  const parts = encoded.parts.length > 0 ? encoded.parts : [Buffer.alloc(0)]
  if (parts.length > MAX_SEGMENTS) {
    throw new SmppSubmitError('permanent', `text needs ${parts.length} segments (max 255)`)
  }
  const common: PduFields = {
    ...sourceFields(message.from),
    dest_addr_ton: TON_INTERNATIONAL,
    dest_addr_npi: NPI_ISDN,
    destination_addr: e164Digits(message.to, 'destination'),
    registered_delivery: message.requestReceipt ? 1 : 0,
    data_coding: encoded.dataCoding,
    esm_class: 0,
  }
  const plan = { encoding: encoded.encoding, segments: parts.length }
  if (parts.length === 1) return { ...plan, pdus: [{ ...common, short_message: parts[0] }] }
  if (method === 'payload') {
    return {
      ...plan,
      pdus: [{ ...common, short_message: Buffer.alloc(0), message_payload: Buffer.concat(parts) }],
    }
  }
  const reference = concatenationReference(message, nextReference)
  const total = parts.length
  if (method === 'sar') {
    return {
      ...plan,
      pdus: parts.map((part, i) => ({
        ...common,
        short_message: part,
        sar_msg_ref_num: reference,
        sar_total_segments: total,
        sar_segment_seqnum: i + 1,
      })),
    }
  }
  return {
    ...plan,
    pdus: parts.map((part, i) => ({
      ...common,
      esm_class: ESM_CLASS_UDHI,
      short_message: Buffer.concat([concatenationHeader(reference, total, i + 1), part]),
    })),
  }
}
