/**
 * outbound_sms.last_error read back: the worker writes it in English for operators and logs
 * (lib/worker/worker.ts, receipts.ts, receipt-upkeep.ts, lib/db/outbound/results.ts, and the
 * SMPP client's SmppSubmitError messages); a page that shows it to an account admin needs to
 * know what it says, to word it in the page's language. Text from the carrier itself (a
 * receipt's error) is kept as it came. Anything else is 'other', with the text, so that a
 * page can still show it, labelled as untranslated.
 */
export type LastError =
  /** A delivery receipt settled the SMS; `carrierError` is its error field, when it had one. */
  | { kind: 'receipt'; carrierError: string | null }
  /** Expired before the carrier accepted it. */
  | { kind: 'not_taken_in_time' }
  /** Some parts taken, these never before the SMS expired. */
  | { kind: 'parts_not_taken_in_time'; parts: number[]; of: number }
  /** Retried until too old; `last` is why the last try failed. */
  | { kind: 'gave_up'; last: LastError }
  /** The carrier answered with an SMPP command_status: its name (ESME_…) or hex code. */
  | { kind: 'carrier_status'; status: string }
  /** The carrier did not answer a part in time. */
  | { kind: 'no_answer' }
  /** The worker had no session with the carrier. */
  | { kind: 'not_bound' }
  /** The session closed or broke while a part was on its way. */
  | { kind: 'connection_lost' }
  /** Not tried: an earlier part of the same SMS was not taken. */
  | { kind: 'earlier_part_failed' }
  /** The carrier answered with some other command than submit_sm_resp. */
  | { kind: 'unexpected_answer' }
  | { kind: 'not_encodable' }
  | { kind: 'bad_number' }
  | { kind: 'bad_sender' }
  | { kind: 'too_long'; segments: number }
  | { kind: 'no_final_receipt' }
  | { kind: 'other'; text: string }

const PART = String.raw`part \d+/\d+`

// In the order they are tried: the first that matches says what the text is.
const FORMS: Array<[RegExp, (m: RegExpExecArray) => LastError]> = [
  [
    /^receipt: \w+(?: \(delivered parts [\d, ]* of \d+\))?(?: \(error (.*)\))?$/s,
    (m) => ({ kind: 'receipt', carrierError: m[1] ?? null }),
  ],
  [/^expired before the carrier accepted it$/, () => ({ kind: 'not_taken_in_time' })],
  [
    /^part ([\d, ]+) of (\d+) expired before the carrier accepted it$/,
    (m) => ({
      kind: 'parts_not_taken_in_time',
      parts: m[1].split(', ').map(Number),
      of: Number(m[2]),
    }),
  ],
  [/^expired: (.*)$/s, (m) => ({ kind: 'gave_up', last: readLastError(m[1]) })],
  // `${statusName}: ${message}`, several refused parts joined with '; ': the first one's.
  [/^(ESME_[A-Z0-9_]+|0x[0-9a-f]{8}): /, (m) => ({ kind: 'carrier_status', status: m[1] })],
  [new RegExp(`^${PART}: submit_sm got no response in \\d+ ms$`), () => ({ kind: 'no_answer' })],
  [/^SMPP client is \w+, not bound$/, () => ({ kind: 'not_bound' })],
  [new RegExp(`^${PART}: submit_sm: `), () => ({ kind: 'connection_lost' })],
  [
    new RegExp(`^${PART} not sent: an earlier part was not taken$`),
    () => ({ kind: 'earlier_part_failed' }),
  ],
  [new RegExp(`^${PART} not sent: `), () => ({ kind: 'connection_lost' })],
  [new RegExp(`^${PART}: [a-z_]+$`), () => ({ kind: 'unexpected_answer' })],
  [new RegExp(`^${PART} not encodable: `), () => ({ kind: 'not_encodable' })],
  [/^destination \S* is not an E\.164 number$/, () => ({ kind: 'bad_number' })],
  [/^source \S* is not an E\.164 number$/, () => ({ kind: 'bad_sender' })],
  [
    /^sender name ".*" must be 1 to 11 printable ASCII characters$/s,
    () => ({ kind: 'bad_sender' }),
  ],
  [
    /^text needs (\d+) segments \(max 255\)$/,
    (m) => ({ kind: 'too_long', segments: Number(m[1]) }),
  ],
  [/^no final receipt in \d+ ms$/, () => ({ kind: 'no_final_receipt' })],
]

/** What a last_error says; 'other' with the text when it is none of the worker's own forms. */
export function readLastError(text: string): LastError {
  const trimmed = text.trim()
  for (const [form, read] of FORMS) {
    const match = form.exec(trimmed)
    if (match) return read(match)
  }
  return { kind: 'other', text: trimmed }
}

/**
 * Whether a carrier's error reads as a code (`GSM:1`, `012`, `ERR-34`) rather than words
 * (`Handset busy`): a code is shown as such, words as a quotation.
 */
export function isErrorCode(carrierError: string): boolean {
  return /^(?=.*\d)[\w:.-]{1,24}$/.test(carrierError)
}
