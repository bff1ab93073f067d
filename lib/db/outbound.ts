import crypto from 'node:crypto'
import type { Db } from './connection'
import type { SmsEncoding } from '../sms/segments'

export type SmsStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'expired' | 'undeliverable'

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
 * Inserts every row in one transaction: all SMS of the email are committed, or none. The insert
 * comes first so that SQLite takes its write lock (waiting on busy_timeout) before any read:
 * a read-then-write transaction cannot wait and fails at once when another process writes.
 * Rows that were already there (a retry) keep the batch token of the transaction that made them.
 */
export async function enqueueSms(
  db: Db,
  items: NewSms[],
  now = Date.now(),
): Promise<EnqueueResult> {
  // The MX passes its SMTP transaction id, unique per attempt; other callers get a random one.
  const batch = items[0]?.mxTransaction ?? crypto.randomUUID()
  const keys = items.map((i) => i.dedupeKey)
  return db.transaction(async (trx) => {
    const unique = new Map(items.map((i) => [i.dedupeKey, i]))
    await trx('outbound_sms')
      .insert([...unique.values()].map((i) => toRow({ ...i, mxTransaction: batch }, now)))
      .onConflict('dedupe_key')
      .ignore()
    const rows = await trx('outbound_sms')
      .whereIn('dedupe_key', keys)
      .select('id', 'dedupe_key', 'mx_transaction')
    const ids = new Map<string, number>(rows.map((r) => [r.dedupe_key, Number(r.id)]))
    const fresh = rows.filter((r) => r.mx_transaction === batch).length
    return { ids: keys.map((k) => ids.get(k) as number), duplicates: items.length - fresh }
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
