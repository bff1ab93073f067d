/** Final states a delivery receipt can report, in the receipt text's spelling. */
export type ReceiptStat = 'DELIVRD' | 'UNDELIV' | 'EXPIRED' | 'REJECTD'

/** message_state TLV values (SMPP 3.4 §5.3.2.35). */
export const MESSAGE_STATE: Readonly<Record<ReceiptStat, number>> = {
  DELIVRD: 2,
  EXPIRED: 3,
  UNDELIV: 5,
  REJECTD: 8,
}

/** Network error codes are carrier-specific; these only need to differ from 000. */
const ERROR_CODE: Readonly<Record<ReceiptStat, string>> = {
  DELIVRD: '000',
  EXPIRED: '000',
  UNDELIV: '001',
  REJECTD: '002',
}

/** YYMMDDhhmm in UTC, as the receipt text's dates are written. */
export function receiptDate(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0')
  return (
    two(at.getUTCFullYear() % 100) +
    two(at.getUTCMonth() + 1) +
    two(at.getUTCDate()) +
    two(at.getUTCHours()) +
    two(at.getUTCMinutes())
  )
}

export interface ReceiptFields {
  messageId: string
  stat: ReceiptStat
  submittedAt: Date
  doneAt: Date
  /** The message's text; the receipt carries its first 20 characters. */
  text: string
}

/**
 * The de facto receipt format (SMPP 3.4 Appendix B):
 * `id:… sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000 text:…`.
 * The excerpt is kept to printable ASCII, since receipts travel as data_coding 0.
 */
export function receiptText({ messageId, stat, submittedAt, doneAt, text }: ReceiptFields): string {
  const excerpt = Array.from(text)
    .slice(0, 20)
    .map((char) => (char >= ' ' && char <= '~' ? char : '?'))
    .join('')
  return (
    `id:${messageId} sub:001 dlvrd:${stat === 'DELIVRD' ? '001' : '000'} ` +
    `submit date:${receiptDate(submittedAt)} done date:${receiptDate(doneAt)} ` +
    `stat:${stat} err:${ERROR_CODE[stat]} text:${excerpt}`
  )
}
