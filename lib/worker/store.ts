import type { Db } from '../db/connection'
import { claimUnderLease, renewLease, type LeasedTable } from '../db/lease-claim'
import type { ClaimObserver } from '../ops/observers'
import type { SmsEncoding } from '../sms/segments'
import { settleFromParts } from './receipts'

/** An SMS a worker holds under lease, with what it needs to send it. */
export interface ClaimedSms {
  id: number
  accountId: number
  recipient: string
  body: string
  encoding: SmsEncoding
  segments: number
  /** submit_sm PDUs, once a try has counted them; null before. */
  parts: number | null
  attempts: number
  createdAt: number
  senderName: string | null
  virtualNumber: string | null
  /** Parts an earlier try settled, by number: the carrier took them, or refused them for good. */
  settledParts: Map<number, SettledPart>
  /** The MX transaction that queued it: the `trace` of every log line about this SMS. */
  trace: string | null
}

/** A part's fate at submit time: accepted (any receipt state since) or refused for good. */
export type SettledPart = 'accepted' | 'refused'

/** A part row the worker writes when a part gets its outcome at submit. */
export interface PartRow {
  partNo: number
  /** Canonical SMSC id; '' for a part the carrier never took. */
  messageId: string
  /** 'sent' (accepted), 'refused' (refused for good), 'expired' (never taken before expiry). */
  state: 'sent' | 'refused' | 'expired'
}

export interface ClaimOptions {
  owner: string
  limit: number
  leaseMs: number
  now: number
  observer?: ClaimObserver
}

/** While an SMS is leased ('sending'), next_attempt_at holds the lease's end. */
const SMS_LEASE: LeasedTable = { table: 'outbound_sms', leaseColumn: 'next_attempt_at' }

/**
 * Takes up to `limit` due SMS under lease (lib/db/lease-claim.ts): 'sending' ones whose lease
 * ran out (their worker died) first, then queued ones whose time has come.
 */
export async function claimDueSms(db: Db, opts: ClaimOptions): Promise<ClaimedSms[]> {
  const { ids } = await claimUnderLease(
    db,
    {
      ...SMS_LEASE,
      due: [{ where: { status: 'sending' } }, { where: { status: 'queued' } }],
      set: {
        status: 'sending',
        lease_owner: opts.owner,
        attempts: db.raw('attempts + 1'),
        updated_at: opts.now,
      },
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
      'o.recipient',
      'o.body',
      'o.encoding',
      'o.segments',
      'o.parts',
      'o.attempts',
      'o.created_at',
      'a.sender_name',
      'a.virtual_number',
      'o.mx_transaction',
    )
  // Only SMS tried before can have parts already settled: the first try (attempts 1) of the
  // common case costs no query.
  const settled = await settledPartsOf(
    db,
    rows.filter((r) => Number(r.attempts) > 1).map((r) => Number(r.id)),
  )
  return rows.map((r) => ({
    id: Number(r.id),
    accountId: Number(r.account_id),
    recipient: String(r.recipient),
    body: String(r.body),
    encoding: r.encoding as SmsEncoding,
    segments: Number(r.segments),
    parts: r.parts === null || r.parts === undefined ? null : Number(r.parts),
    attempts: Number(r.attempts),
    createdAt: Number(r.created_at),
    senderName: (r.sender_name as string | null) ?? null,
    virtualNumber: (r.virtual_number as string | null) ?? null,
    settledParts: settled.get(Number(r.id)) ?? new Map(),
    trace: (r.mx_transaction as string | null) ?? null,
  }))
}

async function settledPartsOf(
  db: Db,
  ids: number[],
): Promise<Map<number, Map<number, SettledPart>>> {
  const bySms = new Map<number, Map<number, SettledPart>>()
  if (ids.length === 0) return bySms
  const rows = await db('outbound_sms_parts')
    .whereIn('sms_id', ids)
    .select('sms_id', 'part_no', 'state')
  for (const r of rows) {
    const parts = bySms.get(Number(r.sms_id)) ?? new Map<number, SettledPart>()
    parts.set(Number(r.part_no), r.state === 'refused' ? 'refused' : 'accepted')
    bySms.set(Number(r.sms_id), parts)
  }
  return bySms
}

async function insertPartRows(
  trx: Db,
  items: Array<{ id: number; newParts?: PartRow[] }>,
  now: number,
): Promise<void> {
  const rows = items.flatMap((item) =>
    (item.newParts ?? []).map((p) => ({
      sms_id: item.id,
      part_no: p.partNo,
      smsc_message_id: p.messageId,
      state: p.state,
      created_at: now,
      final_at: p.state === 'sent' ? null : now,
    })),
  )
  for (let i = 0; i < rows.length; i += 500) {
    await trx('outbound_sms_parts').insert(rows.slice(i, i + 500))
  }
}

/**
 * Extends the lease of every SMS this worker still holds. Claimed SMS can wait in the SMPP
 * client's queue (window, throughput limit, a slow carrier) longer than one lease: without
 * renewal they would be claimed again and sent twice with no crash at all.
 */
export async function renewLeases(
  db: Db,
  owner: string,
  leaseMs: number,
  now: number,
): Promise<number> {
  return renewLease(db, SMS_LEASE, { status: 'sending', lease_owner: owner }, now + leaseMs)
}

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
): Promise<void> {
  if (sent.length === 0) return
  await db.transaction(async (trx) => {
    const common = {
      status: 'sent',
      sent_at: now,
      next_attempt_at: now + receiptTimeoutMs,
      lease_owner: null,
      updated_at: now,
    }
    // One statement per part count for the common case; SMS with a part lost are rare.
    const byParts = new Map<number, number[]>()
    for (const s of sent) {
      const parts = s.parts ?? partRowsOf(s).length
      if (s.error) {
        await trx('outbound_sms')
          .where({ id: s.id, status: 'sending', lease_owner: owner })
          .update({ ...common, parts, last_error: s.error.slice(0, 500) })
        continue
      }
      byParts.set(parts, [...(byParts.get(parts) ?? []), s.id])
    }
    for (const [parts, ids] of byParts) {
      await trx('outbound_sms')
        .whereIn('id', ids)
        .where({ status: 'sending', lease_owner: owner })
        .update({ ...common, parts, last_error: null })
    }
    await insertPartRows(
      trx,
      sent.map((s) => ({ id: s.id, newParts: partRowsOf(s) })),
      now,
    )
    // Parts taken on an earlier try may have their receipts already, and refused or expired
    // parts are final: such an SMS can be settled the moment it is sent.
    const partly = sent.filter((s) => s.newParts !== undefined).map((s) => s.id)
    if (partly.length > 0) await settleFromParts(trx, partly, now)
  })
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
 * Columns that make a failed SMS owe its sender a failure notice (lib/notices). Written by the
 * same statement that records the failure, so no failure goes without its notice and the hot
 * path gains no statement; the notice sender decides later whether the account wants it.
 */
export function noticeDueColumns(now: number): { notice_status: 'due'; notice_next_at: number } {
  return { notice_status: 'due', notice_next_at: now }
}

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
