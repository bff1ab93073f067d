/**
 * Delivery receipts (SMPP 3.4 §2.11 and Appendix B).
 *
 * An SMSC reports the fate of a message in a deliver_sm whose esm_class says "delivery
 * receipt". The facts come twice: in TLVs (receipted_message_id, message_state,
 * network_error_code) when the SMSC sets them, and in the text of Appendix B, which every SMSC
 * sends but each writes a little differently:
 *
 *   id:0123456789 sub:001 dlvrd:001 submit date:2411271530 done date:2411271531 stat:DELIVRD
 *   err:000 text:Hello
 *
 * TLVs win when present. The text is read case-insensitively, field by field, ignoring the free
 * `text:` tail (which the recipient's own words may fill). It may have been damaged on the way:
 * smpp@0.5.1 decodes data_coding 0 with the GSM table, so ASCII `_ $ @` arrive as `§ ¤ ¡` (and
 * `[ \ ] ^ \` { | } ~` likewise), and an SMSC that writes GSM-7 octets turns them into the control
 * codes 0x11, 0x02 and 0x00. Both are mapped back before reading the fields.
 */

import { decodeUcs2 } from '../sms'

export type ReceiptState =
  | 'delivered'
  | 'undeliverable'
  | 'expired'
  | 'rejected'
  | 'deleted'
  | 'accepted'
  | 'unknown'
  | 'enroute'

export interface DeliveryReceipt {
  /** The SMSC's id of the submitted message, as written in the receipt (see message-id.ts). */
  messageId: string
  state: ReceiptState
  /** The network or SMSC error, null when the receipt reports none. */
  error: string | null
  /** When the SMSC reached the final state (receipt text, read as UTC), null if not given. */
  doneAt: Date | null
  /** The receipt text as received (trailing NULs removed). */
  raw: string
  /** The deliver_sm's source_addr: the phone the SMS went to, when the SMSC says so. */
  handset?: string
  /** source_addr_ton of that address (1 international, 2 national…): how to read its digits. */
  handsetTon?: number
}

type TextLike = Buffer | string | { message?: Buffer | string | null } | null | undefined

/** The fields of a deliver_sm this module reads: our parser's or smpp@0.5.1's. */
export interface ReceiptPduLike {
  esm_class: number
  data_coding?: number
  short_message?: TextLike
  message_payload?: TextLike
  receipted_message_id?: string | Buffer | null
  message_state?: number | null
  network_error_code?: Buffer | null
}

// esm_class bits 5..2 give the message type (SMPP 3.4 §5.2.12).
const MESSAGE_TYPE_MASK = 0x3c
const SMSC_DELIVERY_RECEIPT = 0x04
const INTERMEDIATE_NOTIFICATION = 0x20

/** True when esm_class marks an SMSC delivery receipt or intermediate notification. */
export function isReceiptEsmClass(esmClass: number): boolean {
  const type = esmClass & MESSAGE_TYPE_MASK
  return type === SMSC_DELIVERY_RECEIPT || type === INTERMEDIATE_NOTIFICATION
}

// message_state values (SMPP 3.4 §5.2.28; 0 and 9 are SMPP 5.0).
const MESSAGE_STATES: Readonly<Record<number, ReceiptState>> = {
  0: 'enroute',
  1: 'enroute',
  2: 'delivered',
  3: 'expired',
  4: 'deleted',
  5: 'undeliverable',
  6: 'accepted',
  7: 'unknown',
  8: 'rejected',
  9: 'unknown',
}

// Appendix B's seven-letter states, recognised by prefix so that spelled-out variants
// (DELIVERED, UNDELIVERABLE, REJECTED) count too. FAILED is not standard but common.
const STAT_PREFIXES: ReadonlyArray<readonly [string, ReceiptState]> = [
  ['DELIV', 'delivered'],
  ['UNDEL', 'undeliverable'],
  ['EXPIR', 'expired'],
  ['DELET', 'deleted'],
  ['REJEC', 'rejected'],
  ['ACCEP', 'accepted'],
  ['ENROU', 'enroute'],
  ['UNKNO', 'unknown'],
  ['FAIL', 'undeliverable'],
]

// network_error_code's first octet (SMPP 3.4 §5.3.2.31).
const NETWORK_TYPES: Readonly<Record<number, string>> = {
  1: 'ANSI-136',
  2: 'IS-95',
  3: 'GSM',
  4: 'ANSI-136-cause',
  5: 'IS-95-cause',
  6: 'ANSI-41',
  7: 'SMPP',
  8: 'SMSC',
}

// What ASCII characters become when read through the GSM 03.38 table, and what GSM-7 octets
// become when read as ASCII. Neither set can appear in a genuine receipt's fields.
const DAMAGE_REPAIRS: ReadonlyMap<string, string> = new Map([
  ['¤', '$'],
  ['¡', '@'],
  ['Ä', '['],
  ['Ö', '\\'],
  ['Ñ', ']'],
  ['Ü', '^'],
  ['§', '_'],
  ['¿', '`'],
  ['ä', '{'],
  ['ö', '|'],
  ['ñ', '}'],
  ['ü', '~'],
  ['\u0000', '@'],
  ['\u0002', '$'],
  ['\u0011', '_'],
])
function repairText(text: string): string {
  let repaired = ''
  for (const ch of text) repaired += DAMAGE_REPAIRS.get(ch) ?? ch
  return repaired
}

function textOf(value: TextLike, dataCoding: number | undefined): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) {
    return dataCoding === 0x08 ? decodeUcs2(value) : value.toString('latin1')
  }
  return textOf(value.message, dataCoding)
}

/** A TLV string up to its first control character: smpp@0.5.1 reads on past the TLV's end. */
function tlvString(value: string | Buffer | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = Buffer.isBuffer(value) ? value.toString('latin1') : value
  // eslint-disable-next-line no-control-regex -- the cut is exactly at the first control code.
  return text.replace(/[\u0000-\u001f\u007f][\s\S]*$/, '').trim()
}

function field(fields: string, pattern: RegExp): string | null {
  return pattern.exec(fields)?.[1] ?? null
}

function stateFromStat(stat: string | null): ReceiptState {
  if (stat === null) return 'unknown'
  const upper = stat.toUpperCase()
  return STAT_PREFIXES.find(([prefix]) => upper.startsWith(prefix))?.[1] ?? 'unknown'
}

/** YYMMDDhhmm, YYMMDDhhmmss or YYYYMMDDhhmmss, read as UTC; null unless a real instant. */
export function parseReceiptDate(value: string | null): Date | null {
  if (value === null) return null
  const match = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value)
  if (!match || (match[1].length === 4 && match[6] === undefined)) return null
  const [year, month, day, hour, minute, second] = match
    .slice(1)
    .map((part) => (part === undefined ? 0 : Number(part)))
  const fullYear = match[1].length === 2 ? 2000 + year : year
  const date = new Date(Date.UTC(fullYear, month - 1, day, hour, minute, second))
  const roundTrips =
    date.getUTCFullYear() === fullYear &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second
  return roundTrips ? date : null
}

function networkError(code: Buffer | null | undefined): string | null {
  if (!code || code.length < 3) return null
  const value = code.readUInt16BE(1)
  if (value === 0) return null
  return `${NETWORK_TYPES[code[0]] ?? `type${code[0]}`}:${value}`
}

function textError(err: string | null): string | null {
  if (err === null || /^0+$/.test(err)) return null
  return err
}

/**
 * The receipt in a deliver_sm, or null when it is not one (or names no message). A deliver_sm
 * counts as a receipt when esm_class says so, or when it carries receipted_message_id, a TLV
 * only an SMSC can set: a handset can type receipt-like text, so text alone proves nothing.
 */
export function parseDeliveryReceipt(pdu: ReceiptPduLike): DeliveryReceipt | null {
  const tlvId = tlvString(pdu.receipted_message_id)
  if (!isReceiptEsmClass(pdu.esm_class) && tlvId === '') return null
  const shortText = textOf(pdu.short_message, pdu.data_coding)
  const text = shortText !== '' ? shortText : textOf(pdu.message_payload, pdu.data_coding)
  // eslint-disable-next-line no-control-regex -- some SMSCs NUL-terminate short_message.
  const raw = text.replace(/\u0000+$/, '')
  const repaired = repairText(raw)
  const fields = repaired.split(/\btext:/i)[0]
  const textId = field(fields, /\bid:\s*(\S+)/i)
  const messageId = tlvId !== '' ? tlvId : (textId ?? '')
  if (messageId === '') return null
  const tlvState =
    typeof pdu.message_state === 'number' ? MESSAGE_STATES[pdu.message_state] : undefined
  return {
    messageId,
    state: tlvState ?? stateFromStat(field(fields, /\bstat:\s*(\S+)/i)),
    error: networkError(pdu.network_error_code) ?? textError(field(fields, /\berr:\s*(\S+)/i)),
    doneAt: parseReceiptDate(field(fields, /\bdone[\s_]?date:\s*(\d+)/i)),
    raw,
  }
}

export { canonicalMessageId, normaliseMessageId } from './message-id'
