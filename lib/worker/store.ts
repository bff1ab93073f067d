/**
 * The worker's record of a try that reached the SMSC: the SMS rows and their parts, and the
 * settling of SMS whose parts are all final, in one transaction.
 */
import type { Db } from '../db/connection'
import { insertPartRows, markSmsSent, type PartRow } from '../db/outbound'
import { settleFromParts, type SettledSms, type SettleListener } from './receipts'

export interface SentSms {
  id: number
  /**
   * Canonical SMSC ids of parts 1..n, all taken on this try. Shorthand for `newParts` when every
   * part went at once (the common case).
   */
  messageIds?: string[]
  /** Part rows this try settled: accepted, refused for good, or given up at expiry. */
  newParts?: PartRow[]
  /** submit_sm PDUs the SMS takes; default messageIds.length. */
  parts?: number
  /** Why some parts will not reach the phone; null when all were taken. */
  error?: string | null
}

function partRowsOf(s: SentSms): PartRow[] {
  if (s.newParts) return s.newParts
  return (s.messageIds ?? []).map((messageId, i) => ({ partNo: i + 1, messageId, state: 'sent' }))
}

/**
 * Records SMS whose every part has an outcome and at least one was taken: status 'sent', and a
 * part row for each part settled on this try (the rows of earlier tries exist already). A
 * receipt that arrived before this record is matched afterwards by matchUnmatchedReceipts.
 * next_attempt_at becomes the time the receipt is given up for (worker.receipt_timeout_ms), so
 * the (status, next_attempt_at) index finds the SMS that waited too long. The status only
 * moves while the lease is still this worker's; the part rows are written regardless, since
 * the SMSC did take those parts.
 */
export async function recordSent(
  db: Db,
  owner: string,
  sent: SentSms[],
  now: number,
  receiptTimeoutMs = 72 * 3600_000,
  onSettled?: SettleListener,
): Promise<void> {
  if (sent.length === 0) return
  const settled: SettledSms[] = []
  await db.transaction(async (trx) => {
    settled.length = 0
    await markSmsSent(
      trx,
      owner,
      sent.map((s) => ({ id: s.id, parts: s.parts ?? partRowsOf(s).length, error: s.error })),
      now,
      receiptTimeoutMs,
    )
    await insertPartRows(
      trx,
      sent.map((s) => ({ id: s.id, newParts: partRowsOf(s) })),
      now,
    )
    // Parts taken on an earlier try may have their receipts already, and refused or expired
    // parts are final: such an SMS can be settled the moment it is sent.
    const partly = sent.filter((s) => s.newParts !== undefined).map((s) => s.id)
    if (partly.length > 0) await settleFromParts(trx, partly, now, new Map(), settled)
  })
  // Told once committed, as the receipts' own settlements are (the metrics' delay to the end).
  if (settled.length > 0) onSettled?.(settled, now)
}
