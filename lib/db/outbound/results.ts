/**
 * The worker's record of each try: sent (the status part, see lib/worker/store.ts for the
 * transaction), queued again, failed or expired, with the part rows the try settled.
 */
import { isMysql, type Db } from '../connection'
import { groupBy } from '../../group-by'
import { sqlPerCount, tuples } from '../sql-text'
import { lockSmsRows, moveToSent } from './status-moves'
import { insertRows } from '../statement'

/** The state of each part of these SMS (outbound_sms_parts), by SMS id then part number. */
export async function partStatesBySms(
  db: Db,
  smsIds: number[],
): Promise<Map<number, Map<number, string>>> {
  const bySms = new Map<number, Map<number, string>>()
  if (smsIds.length === 0) return bySms
  const rows = (await db('outbound_sms_parts')
    .whereIn('sms_id', smsIds)
    .select('sms_id', 'part_no', 'state')) as Array<Record<string, unknown>>
  for (const r of rows) {
    const id = Number(r.sms_id)
    const states = bySms.get(id) ?? new Map<number, string>()
    const no = Number(r.part_no)
    // Two rows for one part (an SMSC that answered twice): delivered wins, it is what arrived.
    if (states.get(no) !== 'delivered') states.set(no, String(r.state))
    bySms.set(id, states)
  }
  return bySms
}

/** A part row the worker writes when a part gets its outcome at submit. */
export interface PartRow {
  partNo: number
  /** Canonical SMSC id; '' for a part the carrier never took. */
  messageId: string
  /** 'sent' (accepted), 'refused' (refused for good), 'expired' (never taken before expiry). */
  state: 'sent' | 'refused' | 'expired'
}

/**
 * Columns that make a failed SMS owe its sender a failure notice (lib/notices). Written by the
 * same statement that records the failure, so no failure goes without its notice and the hot
 * path gains no statement; the notice sender decides later whether the account wants it.
 */
export function noticeDueColumns(now: number): { notice_status: 'due'; notice_next_at: number } {
  return { notice_status: 'due', notice_next_at: now }
}

/**
 * Moves these SMS from 'sending' to 'sent' while the lease is still `owner`'s: the status, the
 * part count, and next_attempt_at as the time their receipt is given up for (the
 * (status, next_attempt_at) index then finds the SMS that waited too long). `error` says why
 * some parts will not reach the phone. Call inside recordSent's transaction.
 */
export async function markSmsSent(
  trx: Db,
  owner: string,
  sent: Array<{ id: number; parts: number; error?: string | null }>,
  now: number,
  receiptTimeoutMs: number,
): Promise<void> {
  const common = {
    status: 'sent',
    sent_at: now,
    next_attempt_at: now + receiptTimeoutMs,
    lease_owner: null,
    updated_at: now,
  }
  const plain: Array<{ id: number; parts: number }> = []
  for (const s of sent) {
    // SMS with a part lost are rare: one statement each, counted by the trigger.
    if (s.error) {
      await trx('outbound_sms')
        .where({ id: s.id, status: 'sending', lease_owner: owner })
        .update({ ...common, parts: s.parts, last_error: s.error.slice(0, 500) })
    } else plain.push(s)
  }
  if (plain.length === 0) return
  if (!isMysql(trx)) {
    // SQLite keeps the simple path: a read first would make this transaction fail with
    // SQLITE_BUSY, not wait, when another process writes; the trigger counts the changes.
    for (const [parts, ids] of groupBy(plain, (s) => s.parts)) {
      await trx('outbound_sms')
        .whereIn(
          'id',
          ids.map((s) => s.id),
        )
        .where({ status: 'sending', lease_owner: owner })
        .update({ ...common, parts, last_error: null })
    }
    return
  }
  // One statement per part count for the common case, on the rows still held: another worker
  // that took an SMS whose lease ran out records it itself.
  const partsOf = new Map(plain.map((s) => [s.id, s.parts]))
  const held = (await lockSmsRows(trx, [...partsOf.keys()])).filter(
    (row) => row.status === 'sending' && row.leaseOwner === owner,
  )
  for (const [parts, rows] of groupBy(held, (row) => partsOf.get(row.id) as number)) {
    await moveToSent(trx, owner, rows, parts, now, receiptTimeoutMs)
  }
}

const insertPartsSql = sqlPerCount(
  (rows) =>
    `INSERT INTO outbound_sms_parts (sms_id, part_no, smsc_message_id, state, created_at, final_at)
     VALUES ${tuples(rows, 6)}`,
)

/** The part rows of some SMS, settled at submit: taken by the SMSC, refused, or expired. */
export async function insertPartRows(
  trx: Db,
  items: Array<{ id: number; newParts?: PartRow[] }>,
  now: number,
): Promise<void> {
  const values: unknown[] = []
  for (const item of items) {
    for (const p of item.newParts ?? []) {
      values.push(item.id, p.partNo, p.messageId, p.state, now, p.state === 'sent' ? null : now)
    }
  }
  await insertRows(trx, insertPartsSql, 6, values)
}

export interface RetryOrFailure {
  id: number
  error: string
  code: number | null
  /** Set for a retry; null for a final failure. */
  retryAt: number | null
  /** The status to record when not retried. */
  finalStatus: 'failed' | 'expired'
  /** Part rows this try settled (parts taken or refused before the others failed). */
  newParts?: PartRow[]
  /** submit_sm PDUs the SMS takes, when known. */
  parts?: number
}

/**
 * Records tries that did not reach the SMSC, while the lease is still `owner`'s: queued again
 * for `retryAt`, or failed for good (the sender is then owed a notice); with the part rows the
 * try settled before it stopped.
 */
export async function recordUnsent(
  db: Db,
  owner: string,
  items: RetryOrFailure[],
  now: number,
): Promise<void> {
  if (items.length === 0) return
  await db.transaction(async (trx) => {
    for (const item of items) {
      const common = {
        lease_owner: null,
        last_error: item.error.slice(0, 500),
        error_code: item.code,
        updated_at: now,
        ...(item.parts !== undefined ? { parts: item.parts } : {}),
      }
      const update =
        item.retryAt !== null
          ? { ...common, status: 'queued', next_attempt_at: item.retryAt }
          : { ...common, status: item.finalStatus, final_at: now, ...noticeDueColumns(now) }
      await trx('outbound_sms')
        .where({ id: item.id, status: 'sending', lease_owner: owner })
        .update(update)
    }
    await insertPartRows(trx, items, now)
  })
}

/** SMS that are too old to try: expired without being sent. */
export async function expireStale(
  db: Db,
  owner: string,
  ids: number[],
  now: number,
): Promise<void> {
  if (ids.length === 0) return
  await db('outbound_sms')
    .whereIn('id', ids)
    .where({ status: 'sending', lease_owner: owner })
    .update({
      status: 'expired',
      lease_owner: null,
      last_error: 'expired before the carrier accepted it',
      final_at: now,
      updated_at: now,
      ...noticeDueColumns(now),
    })
}
