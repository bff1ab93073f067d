/** Failure notices owed to senders, claimed under lease on the SMS rows (notice_* columns). */
import type { Db } from '../connection'
import { claimUnderLease, renewLease, type LeasedTable } from '../lease-claim'
import { partStatesBySms } from './results'
import type { ClaimObserver } from '../../ops/observers'
import type { FailedSms } from '../../notices/failure-notice'
import type { FailedStatus } from '../../notices/failure-reason'
import type { PartsReport } from '../../notices/part-outcomes'

/** A due notice one sender holds under lease, with the SMS it is about. */
export interface ClaimedNotice {
  sms: FailedSms
  accountId: number
  /** The account's "failure notices" setting, read when the notice is sent. */
  accountWantsNotices: boolean
  /** Claims so far, this one included. */
  attempts: number
  /** The SMS's MX transaction id: the trace of the notice's log lines. */
  trace: string | null
  /**
   * The lease's end, as written in notice_next_at. It doubles as the claim's fence: a sender
   * whose lease ran out and was claimed again finds another value there and changes nothing.
   */
  lease: number
}

export interface NoticeClaimOptions {
  limit: number
  leaseMs: number
  now: number
  observer?: ClaimObserver
}

/** A notice's due time, and while it is claimed, its lease's end (and the claim's fence). */
const NOTICE_LEASE: LeasedTable = {
  work: 'notices',
  table: 'outbound_sms',
  leaseColumn: 'notice_next_at',
}

/**
 * Takes up to `limit` due notices under lease (lib/db/lease-claim.ts), so that no other sender
 * sees them due until it runs out (a sender that died mid-send leaves them to be taken again).
 */
export async function claimDueNotices(db: Db, opts: NoticeClaimOptions): Promise<ClaimedNotice[]> {
  const { ids, leaseUntil: lease } = await claimUnderLease(
    db,
    {
      ...NOTICE_LEASE,
      due: [{ where: { notice_status: 'due' } }],
      set: { notice_attempts: db.raw('notice_attempts + 1') },
    },
    opts,
  )
  if (ids.length === 0) return []
  const rows = await db('outbound_sms as o')
    .join('accounts as a', 'a.id', 'o.account_id')
    .whereIn('o.id', ids)
    .orderBy('o.id')
    .select(
      'o.id',
      'o.account_id',
      'o.sender_email',
      'o.recipient',
      'o.body',
      'o.status',
      'o.segments',
      'o.parts',
      'o.error_code',
      'o.last_error',
      'o.source_message_id',
      'o.created_at',
      'o.final_at',
      'o.notice_attempts',
      'o.mx_transaction',
      'a.failure_notices',
    )
  const partial = rows.filter((r) => r.status === 'partial')
  const parts = await partStatesBySms(
    db,
    partial.map((r) => Number(r.id)),
  )
  return rows.map((r) => ({
    sms: {
      id: Number(r.id),
      senderEmail: String(r.sender_email ?? '').trim(),
      recipient: String(r.recipient),
      body: String(r.body),
      status: r.status as FailedStatus,
      errorCode: r.error_code === null ? null : Number(r.error_code),
      lastError: (r.last_error as string | null) ?? null,
      sourceMessageId: (r.source_message_id as string | null) ?? null,
      createdAt: Number(r.created_at),
      finalAt: r.final_at === null ? null : Number(r.final_at),
      parts: r.status === 'partial' ? partsReport(r, parts) : undefined,
    },
    accountId: Number(r.account_id),
    accountWantsNotices: Boolean(r.failure_notices),
    attempts: Number(r.notice_attempts),
    trace: (r.mx_transaction as string | null) ?? null,
    lease,
  }))
}

function partsReport(
  row: Record<string, unknown>,
  parts: Map<number, Map<number, string>>,
): PartsReport {
  // parts is set by the worker at the first submit; segments is what the MX planned, the same
  // but for rows older than the parts column.
  const count = Number(row.parts ?? row.segments)
  return { count, states: parts.get(Number(row.id)) ?? new Map() }
}

/** Only while the claim is still this sender's (see ClaimedNotice.lease). */
function held(db: Db, notice: ClaimedNotice) {
  return db('outbound_sms').where({
    id: notice.sms.id,
    notice_status: 'due',
    notice_next_at: notice.lease,
  })
}

/** The relay took the notice: it is never sent again. */
export async function markNoticeSent(db: Db, notice: ClaimedNotice): Promise<boolean> {
  return (await held(db, notice).update({ notice_status: 'sent', notice_next_at: null })) > 0
}

/** No notice for this SMS: the account does not want them, nobody to send to, or given up. */
export async function markNoticeSkipped(db: Db, notice: ClaimedNotice): Promise<boolean> {
  return (await held(db, notice).update({ notice_status: 'skipped', notice_next_at: null })) > 0
}

/** The relay failed: the notice is due again at `at`. */
export async function scheduleNoticeRetry(
  db: Db,
  notice: ClaimedNotice,
  at: number,
): Promise<boolean> {
  return (await held(db, notice).update({ notice_next_at: at })) > 0
}

/**
 * Moves a held claim's lease end to `until` while its mail is still with a slow relay, so that
 * no other sender takes it meanwhile. False when the claim was no longer held.
 */
export async function extendNoticeLease(
  db: Db,
  notice: ClaimedNotice,
  until: number,
): Promise<boolean> {
  const held = { id: notice.sms.id, notice_status: 'due', notice_next_at: notice.lease }
  const extended = (await renewLease(db, NOTICE_LEASE, held, until)) > 0
  if (extended) notice.lease = until
  return extended
}
