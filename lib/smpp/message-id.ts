/**
 * Matching SMSC message ids between submit_sm_resp and delivery receipts.
 *
 * SMPP 3.4 only says a message id is a C-string of up to 65 octets. In practice an SMSC may
 * answer submit_sm with a hex id ("0000001A2B") and quote it in the receipt in decimal ("6699"),
 * or the reverse, or change its case and zero padding. The rule:
 *
 * 1. canonical form (what the worker stores for each part): the id without surrounding
 *    whitespace and NULs, lower-cased; if it is then made only of hex digits [0-9a-f], leading
 *    zeros are dropped (an all-zero id becomes "0"). No base conversion: what the SMSC gave
 *    stays recognisable in the database.
 * 2. candidates (what a receipt is looked up by), in this order:
 *    a. its canonical form;
 *    b. if that is all decimal digits: the same number written in hex (lower case, no padding);
 *    c. if that is all hex digits (decimal ones included): the same number read as hex and
 *       written in decimal.
 *    Duplicates are removed. Non-numeric ids have only their canonical form.
 *
 * So a receipt id matches a stored id whenever both denote the same number, whichever bases the
 * two sides used. With all-digit ids the other readings can hit a different message (decimal
 * "4660" is hex "1234", which may also be another message's decimal id): look candidates up in
 * order and take the first hit, and narrow the search by destination number and send time.
 */

const HEX = /^[0-9a-f]+$/
const DECIMAL = /^[0-9]+$/

/** The one form of an SMSC message id to store; '' when the id is empty. */
export function canonicalMessageId(id: string): string {
  // eslint-disable-next-line no-control-regex -- NULs are what a C-string TLV leaves behind.
  const trimmed = id.replace(/^[\s\u0000]+|[\s\u0000]+$/g, '').toLowerCase()
  if (!HEX.test(trimmed)) return trimmed
  const unpadded = trimmed.replace(/^0+/, '')
  return unpadded === '' ? '0' : unpadded
}

/** Every key a receipt with this id may have been stored under, the canonical one first. */
export function normaliseMessageId(id: string): string[] {
  const canonical = canonicalMessageId(id)
  if (canonical === '') return []
  const candidates = [canonical]
  if (DECIMAL.test(canonical)) candidates.push(BigInt(canonical).toString(16))
  if (HEX.test(canonical)) candidates.push(BigInt(`0x${canonical}`).toString(10))
  return [...new Set(candidates)]
}

/** How a carrier writes message ids in receipts compared with its submit_sm_resp. */
export type ReceiptIdFormat = 'auto' | 'same' | 'hex' | 'decimal'

/** The keys to look a receipt up by: its own id first, then other readings of it. */
export interface ReceiptIdReadings {
  own: string
  others: string[]
  /**
   * True when the carrier is known to convert ids (format 'hex' or 'decimal'): a hit on another
   * reading is then the message itself. In 'auto' it may be an unrelated SMS (sequential ids),
   * so the receipt's phone number must agree.
   */
  othersTrusted: boolean
}

/**
 * The readings of a receipt id under a declared format. 'hex': the receipt writes the number in
 * hex whatever the response used, so the only other reading is that hex read as decimal;
 * 'decimal' the reverse; 'same' none; 'auto' every reading of normaliseMessageId().
 */
export function receiptIdReadings(id: string, format: ReceiptIdFormat): ReceiptIdReadings {
  const [own = '', ...others] = normaliseMessageId(id)
  const canonical = canonicalMessageId(id)
  switch (format) {
    case 'same':
      return { own, others: [], othersTrusted: false }
    case 'hex':
      return {
        own,
        others: HEX.test(canonical) ? [BigInt(`0x${canonical}`).toString(10)] : [],
        othersTrusted: true,
      }
    case 'decimal':
      return {
        own,
        others: DECIMAL.test(canonical) ? [BigInt(canonical).toString(16)] : [],
        othersTrusted: true,
      }
    default:
      return { own, others, othersTrusted: false }
  }
}
