/**
 * The worker's two status changes of every SMS, to 'sent' and to 'delivered', made for a batch
 * at once and counted in the daily counts (./daily-rollup.ts) by the same transaction: one
 * delta per account, day, sender and status for the whole batch, where the update trigger
 * writes two per SMS. The statement raises outbound_sms.counted_changes on the rows it moves,
 * which tells the trigger to leave those changes to it (migrations 20261206141000 and
 * 20261206141100). The rows are locked and read first, so the counts are those of the rows
 * the statement moves, no more.
 */
import { isMysql, type Db } from '../connection'
import { marks, sqlPerCount, tuples } from '../sql-text'
import { runStatement } from '../statement'

/** An SMS row as a transaction that changes its status locked it. */
export interface LockedSms {
  id: number
  status: string
  leaseOwner: string | null
  /** submit_sm PDUs, null before its first record. */
  parts: number | null
  /** When the carrier took it (epoch ms), null before. */
  sentAt: number | null
  accountId: number
  /** The day it is counted on; null: not counted yet (see the counts' fill). */
  localDay: number | null
  senderEmail: string
  segments: number
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

/**
 * Locks these SMS rows and reads what changing their status needs (MySQL: two workers settling
 * parts of one SMS at once would each miss the other's part). In id order, by primary key
 * alone: with a status condition MariaDB may choose the (status, next_attempt_at) index when
 * few rows have that status, and then read and lock every SMS in it, other workers' too. The
 * caller filters the statuses. SQLite: a plain read under its single writer.
 */
export async function lockSmsRows(trx: Db, smsIds: number[]): Promise<LockedSms[]> {
  if (smsIds.length === 0) return []
  const rows = await runStatement<Array<Record<string, unknown>>>(
    trx,
    'select',
    lockSmsSql(smsIds.length, isMysql(trx)),
    smsIds,
  )
  return rows.map((r) => ({
    id: Number(r.id),
    status: String(r.status),
    leaseOwner: (r.lease_owner as string | null) ?? null,
    parts: num(r.parts),
    sentAt: num(r.sent_at),
    accountId: Number(r.account_id),
    localDay: num(r.local_day),
    senderEmail: String(r.sender_email),
    segments: Number(r.segments),
  }))
}

const lockSmsSql = sqlPerCount(
  (count, mysql) =>
    `SELECT id, status, lease_owner, parts, sent_at, account_id, local_day, sender_email, segments
     FROM outbound_sms${mysql ? ' FORCE INDEX (PRIMARY)' : ''}
     WHERE id IN (${marks(count)}) ORDER BY id${mysql ? ' FOR UPDATE' : ''}`,
)

/**
 * Moves these SMS, locked by this transaction and held under `owner`'s lease, from 'sending'
 * to 'sent', all with `parts` parts: next_attempt_at becomes the time their receipt is given
 * up for, so that the (status, next_attempt_at) index finds the SMS that waited too long.
 */
export async function moveToSent(
  trx: Db,
  owner: string,
  sms: LockedSms[],
  parts: number,
  now: number,
  receiptTimeoutMs: number,
): Promise<void> {
  if (sms.length === 0) return
  await runStatement(trx, 'update', sentSql(sms.length, isMysql(trx)), [
    now,
    now + receiptTimeoutMs,
    now,
    parts,
    ...sms.map((s) => s.id),
    owner,
  ])
  await countMoves(trx, sms, 'queued', 'sent')
}

// By primary key, named (see lockSmsRows). The status and lease conditions change nothing when
// the caller locked the rows and checked them; they keep the statement safe on its own.
const sentSql = sqlPerCount(
  (count, mysql) =>
    `UPDATE outbound_sms${mysql ? ' FORCE INDEX (PRIMARY)' : ''}
     SET status = 'sent', sent_at = ?, next_attempt_at = ?, lease_owner = NULL, updated_at = ?,
       parts = ?, last_error = NULL, counted_changes = counted_changes + 1
     WHERE id IN (${marks(count)}) AND status = 'sending' AND lease_owner = ?`,
)

/** These SMS, locked by this transaction and 'sent', reached the phone, every part of them. */
export async function moveToDelivered(trx: Db, sms: LockedSms[], now: number): Promise<void> {
  if (sms.length === 0) return
  await runStatement(trx, 'update', deliveredSql(sms.length, isMysql(trx)), [
    now,
    now,
    ...sms.map((s) => s.id),
  ])
  await countMoves(trx, sms, 'sent', 'delivered')
}

const deliveredSql = sqlPerCount(
  (count, mysql) =>
    `UPDATE outbound_sms${mysql ? ' FORCE INDEX (PRIMARY)' : ''}
     SET status = 'delivered', final_at = ?, updated_at = ?, counted_changes = counted_changes + 1
     WHERE id IN (${marks(count)}) AND status = 'sent'`,
)

/**
 * The daily counts of SMS moved from status `from` (as counted: 'sending' is 'queued') to
 * `to`: −n on the one, +n on the other, per account, day and sender. Rows without a day are
 * not counted yet, as the trigger leaves them.
 */
async function countMoves(trx: Db, sms: LockedSms[], from: string, to: string): Promise<void> {
  const groups = new Map<string, { sms: LockedSms; n: number; segments: number }>()
  for (const s of sms) {
    if (s.localDay === null) continue
    const key = `${s.accountId} ${s.localDay} ${s.senderEmail}`
    const group = groups.get(key)
    if (group) {
      group.n += 1
      group.segments += s.segments
    } else groups.set(key, { sms: s, n: 1, segments: s.segments })
  }
  if (groups.size === 0) return
  const values: unknown[] = []
  for (const { sms: s, n, segments } of groups.values()) {
    values.push(s.accountId, s.localDay, from, s.senderEmail, -n, -segments)
    values.push(s.accountId, s.localDay, to, s.senderEmail, n, segments)
  }
  await runStatement(trx, 'insert', deltasSql(groups.size * 2, isMysql(trx)), values)
}

const deltasSql = sqlPerCount(
  (rows) =>
    `INSERT INTO sms_daily_delta (account_id, day, status, sender_email, sms, segments)
     VALUES ${tuples(rows, 6)}`,
)
