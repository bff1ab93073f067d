import crypto from 'node:crypto'
import { isMysql, type Db } from './connection'
import type { SmsEncoding } from '../sms/segments'

/**
 * An SMS's state. Final: delivered, undeliverable, expired, failed (refused at submit), partial
 * (some parts delivered, others not: its sender gets a notice) and unknown (the carrier took it
 * but no final receipt came within worker.receipt_timeout_ms: no notice, nothing is known).
 */
export type SmsStatus =
  | 'queued'
  | 'sending'
  | 'sent'
  | 'delivered'
  | 'failed'
  | 'expired'
  | 'undeliverable'
  | 'partial'
  | 'unknown'

export interface NewSms {
  accountId: number
  senderId: number | null
  senderEmail: string
  recipient: string
  body: string
  encoding: SmsEncoding
  segments: number
  sourceMessageId: string | null
  dedupeKey: string
  mxTransaction: string | null
}

export interface EnqueueResult {
  /** One id per item, in the order given; a retried email gets its earlier rows' ids. */
  ids: number[]
  duplicates: number
}

/**
 * What makes a retry of the same email recognisable: its Message-ID, or, when it has none, a
 * digest of its content that the sending MTA will reproduce byte for byte on the next attempt.
 */
export function dedupeKeyFor(source: string, recipient: string): string {
  return crypto.createHash('sha256').update(source).update('\0').update(recipient).digest('hex')
}

/**
 * Commits the SMS of one or more emails with a single multi-row INSERT, which is atomic on both
 * backends: every row is stored, or none. Rows whose dedupe key already exists (a retry of the
 * same email) are skipped by the insert and looked up afterwards. For the usual single SMS on
 * MySQL that is one statement and no read: this runs on the SMTP path for every message.
 * Each email's `mxTransaction` must be unique per attempt: it tells its new rows from old ones.
 */
export async function insertEmails(
  db: Db,
  emails: NewSms[][],
  now = Date.now(),
): Promise<EnqueueResult[]> {
  const unique = new Map<string, Record<string, unknown>>()
  for (const items of emails) {
    for (const item of items)
      if (!unique.has(item.dedupeKey)) unique.set(item.dedupeKey, toRow(item, now))
  }
  const rows = [...unique.values()]
  const found = new Map<string, { id: number; batch: unknown }>()
  if (rows.length === 0) return emails.map(() => ({ ids: [], duplicates: 0 }))
  if (isMysql(db)) {
    // Not INSERT IGNORE: it would also turn a NOT NULL or length error into a warning and store
    // a damaged row. The no-op update skips duplicates only; with FOUND_ROWS off (see
    // connection.ts) affectedRows counts just the rows inserted.
    const { sql, bindings } = db('outbound_sms').insert(rows).toSQL().toNative()
    const [header] = await db.raw(`${sql} on duplicate key update id = id`, bindings)
    if (rows.length === 1 && header.affectedRows === 1) {
      found.set(rows[0].dedupe_key as string, {
        id: Number(header.insertId),
        batch: rows[0].mx_transaction,
      })
    }
  } else {
    const inserted = await db('outbound_sms')
      .insert(rows)
      .onConflict('dedupe_key')
      .ignore()
      .returning(['id', 'dedupe_key', 'mx_transaction'])
    for (const row of inserted)
      found.set(row.dedupe_key, { id: Number(row.id), batch: row.mx_transaction })
  }
  const missing = [...unique.keys()].filter((k) => !found.has(k))
  if (missing.length > 0) {
    const known = await db('outbound_sms')
      .whereIn('dedupe_key', missing)
      .select('id', 'dedupe_key', 'mx_transaction')
    for (const row of known)
      found.set(row.dedupe_key, { id: Number(row.id), batch: row.mx_transaction })
  }
  return emails.map((items) => {
    const ids = items.map((i) => found.get(i.dedupeKey)?.id as number)
    const keys = new Set(items.map((i) => i.dedupeKey))
    const fresh = [...keys].filter((k) => found.get(k)?.batch === items[0].mxTransaction).length
    return { ids, duplicates: items.length - fresh }
  })
}

function toRow(item: NewSms, now: number): Record<string, unknown> {
  return {
    account_id: item.accountId,
    sender_id: item.senderId,
    sender_email: item.senderEmail,
    recipient: item.recipient,
    body: item.body,
    encoding: item.encoding,
    segments: item.segments,
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    source_message_id: item.sourceMessageId?.slice(0, 255) ?? null,
    dedupe_key: item.dedupeKey,
    mx_transaction: item.mxTransaction,
    created_at: now,
    updated_at: now,
  }
}

export interface OutboundSms {
  id: number
  accountId: number
  senderEmail: string
  recipient: string
  body: string
  encoding: SmsEncoding
  segments: number
  status: SmsStatus
  attempts: number
  sourceMessageId: string | null
  createdAt: number
}

function toOutbound(row: Record<string, unknown>): OutboundSms {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    senderEmail: String(row.sender_email),
    recipient: String(row.recipient),
    body: String(row.body),
    encoding: row.encoding as SmsEncoding,
    segments: Number(row.segments),
    status: row.status as SmsStatus,
    attempts: Number(row.attempts),
    sourceMessageId: (row.source_message_id as string | null) ?? null,
    createdAt: Number(row.created_at),
  }
}

export interface ListSmsFilter {
  accountId?: number
  status?: SmsStatus
  limit?: number
  /** Keyset pagination: only rows with a smaller id. */
  beforeId?: number
}

export async function listSms(db: Db, filter: ListSmsFilter = {}): Promise<OutboundSms[]> {
  const q = db('outbound_sms')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50)
  if (filter.accountId !== undefined) q.where({ account_id: filter.accountId })
  if (filter.status) q.where({ status: filter.status })
  if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId)
  return (await q).map(toOutbound)
}

/** Statuses an SMS leaves again: counted from the table (the final ones grow without end). */
export const LIVE_STATUSES = ['queued', 'sending', 'sent'] as const
export type LiveStatus = (typeof LIVE_STATUSES)[number]

/**
 * How many SMS are in each live status: one grouped statement that reads only the live part
 * of the (status, next_attempt_at) index, however many final rows the table holds.
 */
export async function countLiveSms(db: Db): Promise<Record<LiveStatus, number>> {
  const rows = (await db('outbound_sms')
    .whereIn('status', LIVE_STATUSES)
    .groupBy('status')
    .select('status')
    .count({ n: '*' })) as Array<{ status: string; n: number | string }>
  const counts: Record<LiveStatus, number> = { queued: 0, sending: 0, sent: 0 }
  for (const r of rows) counts[r.status as LiveStatus] = Number(r.n)
  return counts
}

export interface DueQueue {
  /** SMS a worker may claim now: queued and due, or sending with their lease run out. */
  depth: number
  /** When the longest-waiting of them became due (epoch ms); null when there is none. */
  oldestDueAt: number | null
}

/** The due part of the queue, from the (status, next_attempt_at) index alone. */
export async function dueQueue(db: Db, now: number): Promise<DueQueue> {
  const rows = (await db('outbound_sms')
    .whereIn('status', ['queued', 'sending'])
    .where('next_attempt_at', '<=', now)
    .groupBy('status')
    .select('status')
    .count({ n: '*' })
    .min({ oldest: 'next_attempt_at' })) as Array<{ n: number | string; oldest: number | string }>
  let depth = 0
  let oldestDueAt: number | null = null
  for (const r of rows) {
    depth += Number(r.n)
    const oldest = Number(r.oldest)
    if (oldestDueAt === null || oldest < oldestDueAt) oldestDueAt = oldest
  }
  return { depth, oldestDueAt }
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
