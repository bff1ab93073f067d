/**
 * The figures the operator sees (mail2sms status, the services' metrics): SMS by live status,
 * the due queue, the latest failures, notices the relay keeps refusing.
 */
import type { Db } from '../connection'
import type { SmsStatus } from './sms-status'

/** Statuses an SMS leaves again: counted from the table (the final ones grow without end). */
export const LIVE_STATUSES = ['queued', 'sending', 'sent'] as const
export type LiveStatus = (typeof LIVE_STATUSES)[number]

export interface DueQueue {
  /** SMS a worker may claim now: queued and due, or sending with their lease run out. */
  depth: number
  /** When the longest-waiting of them became due (epoch ms); null when there is none. */
  oldestDueAt: number | null
}

export interface QueueFigures {
  /** How many SMS are in each live status. */
  live: Record<LiveStatus, number>
  due: DueQueue
}

/**
 * SMS by live status and the due part of the queue, in one grouped statement that reads only
 * the live part of the (status, next_attempt_at) index, once: however many final rows the
 * table holds, and with a backlog of a million SMS, one pass over them rather than one per
 * figure (each pass took 0.3 to 1 s of MariaDB on the 2-CPU test machine).
 */
export async function readQueueFigures(db: Db, now: number): Promise<QueueFigures> {
  const rows = (await db('outbound_sms')
    .whereIn('status', LIVE_STATUSES)
    .groupBy('status')
    .select(
      'status',
      db.raw('count(*) as n'),
      db.raw('sum(case when next_attempt_at <= ? then 1 else 0 end) as due', [now]),
      db.raw('min(case when next_attempt_at <= ? then next_attempt_at end) as oldest', [now]),
    )) as Array<{
    status: string
    n: number | string
    due: number | string | null
    oldest: unknown
  }>
  const live: Record<LiveStatus, number> = { queued: 0, sending: 0, sent: 0 }
  const due: DueQueue = { depth: 0, oldestDueAt: null }
  for (const r of rows) {
    live[r.status as LiveStatus] = Number(r.n)
    // A 'sent' SMS waits for its receipt until next_attempt_at: that is not the queue.
    if (r.status === 'sent' || r.oldest === null || r.oldest === undefined) continue
    due.depth += Number(r.due)
    const oldest = Number(r.oldest)
    if (due.oldestDueAt === null || oldest < due.oldestDueAt) due.oldestDueAt = oldest
  }
  return { live, due }
}

export interface FailedSms {
  id: number
  status: SmsStatus
  recipient: string
  senderEmail: string
  error: string | null
  /** When it got its final status (epoch ms). */
  at: number
}

/** The newest SMS that ended in failure (failed, undeliverable, expired, partial), newest first. */
export async function lastFailedSms(db: Db, limit: number): Promise<FailedSms[]> {
  const rows = await db('outbound_sms')
    .whereIn('status', ['failed', 'undeliverable', 'expired', 'partial'])
    .orderBy('id', 'desc')
    .limit(limit)
    .select('id', 'status', 'recipient', 'sender_email', 'last_error', 'final_at', 'updated_at')
  return rows.map((r) => ({
    id: Number(r.id),
    status: r.status as SmsStatus,
    recipient: String(r.recipient),
    senderEmail: String(r.sender_email),
    error: (r.last_error as string | null) ?? null,
    at: Number(r.final_at ?? r.updated_at),
  }))
}

export interface PendingNotice {
  smsId: number
  senderEmail: string
  /** Tries so far (each claim counts one). */
  attempts: number
  /** When it is due again, or its current try's lease ends (epoch ms). */
  nextAt: number | null
}

/**
 * Failure notices tried and still not sent (the relay refused them, or a try is under way),
 * most tried first. Read through the (notice_status, notice_next_at) index.
 */
export async function pendingNoticesTried(db: Db, limit: number): Promise<PendingNotice[]> {
  const rows = await db('outbound_sms')
    .where('notice_status', 'due')
    .where('notice_attempts', '>', 0)
    .orderBy('notice_attempts', 'desc')
    .limit(limit)
    .select('id', 'sender_email', 'notice_attempts', 'notice_next_at')
  return rows.map((r) => ({
    smsId: Number(r.id),
    senderEmail: String(r.sender_email),
    attempts: Number(r.notice_attempts),
    nextAt: r.notice_next_at === null ? null : Number(r.notice_next_at),
  }))
}
