/** The worker's claim of due SMS under lease, and the renewal of the leases it holds. */
import type { Db } from '../connection'
import { claimUnderLease, renewLease, type LeasedTable } from '../lease-claim'
import { partStatesBySms } from './results'
import type { ClaimObserver } from '../../ops/observers'
import type { SmsEncoding } from '../../sms/segments'

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

export interface ClaimOptions {
  owner: string
  limit: number
  leaseMs: number
  now: number
  observer?: ClaimObserver
}

/** While an SMS is leased ('sending'), next_attempt_at holds the lease's end. */
const SMS_LEASE: LeasedTable = {
  work: 'sms',
  table: 'outbound_sms',
  leaseColumn: 'next_attempt_at',
}

/** The SMS columns a claim hands to the worker; the account's come from `accounts`. */
const SMS_COLUMNS = [
  'id',
  'account_id',
  'recipient',
  'body',
  'encoding',
  'segments',
  'parts',
  'attempts',
  'created_at',
  'mx_transaction',
] as const

/**
 * Takes up to `limit` due SMS under lease (lib/db/lease-claim.ts): 'sending' ones whose lease
 * ran out (their worker died) first, then queued ones whose time has come.
 */
export async function claimDueSms(db: Db, opts: ClaimOptions): Promise<ClaimedSms[]> {
  const { ids, rows: taken } = await claimUnderLease(
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
      read: SMS_COLUMNS,
    },
    opts,
  )
  if (ids.length === 0) return []
  // MySQL: the rows as the locking read found them, before the claim counted this try; the
  // accounts' two columns in a read of their own, rather than every row read again with a join.
  const rows = taken ?? (await readClaimed(db, ids))
  const tried = taken ? 1 : 0
  const accounts = await accountColumns(db, rows)
  rows.sort((a, b) => Number(a.id) - Number(b.id))
  // Only SMS tried before can have parts already settled: the first try (attempts 1) of the
  // common case costs no query.
  const settled = await settledPartsOf(
    db,
    rows.filter((r) => Number(r.attempts) + tried > 1).map((r) => Number(r.id)),
  )
  return rows.map((r) => {
    const account = accounts.get(Number(r.account_id))
    return {
      id: Number(r.id),
      accountId: Number(r.account_id),
      recipient: String(r.recipient),
      body: String(r.body),
      encoding: r.encoding as SmsEncoding,
      segments: Number(r.segments),
      parts: r.parts === null || r.parts === undefined ? null : Number(r.parts),
      attempts: Number(r.attempts) + tried,
      createdAt: Number(r.created_at),
      senderName: account?.senderName ?? null,
      virtualNumber: account?.virtualNumber ?? null,
      settledParts: settled.get(Number(r.id)) ?? new Map(),
      trace: (r.mx_transaction as string | null) ?? null,
    }
  })
}

/** SQLite: the SMS just claimed, read again (its claim returns ids only). */
function readClaimed(db: Db, ids: number[]): Promise<Array<Record<string, unknown>>> {
  return db('outbound_sms').whereIn('id', ids).select(SMS_COLUMNS)
}

/** The sender name and virtual number of the accounts of these SMS. */
async function accountColumns(
  db: Db,
  rows: Array<Record<string, unknown>>,
): Promise<Map<number, { senderName: string | null; virtualNumber: string | null }>> {
  const ids = [...new Set(rows.map((r) => Number(r.account_id)))]
  const found = await db('accounts')
    .whereIn('id', ids)
    .select('id', 'sender_name', 'virtual_number')
  return new Map(
    found.map((a) => [
      Number(a.id),
      {
        senderName: (a.sender_name as string | null) ?? null,
        virtualNumber: (a.virtual_number as string | null) ?? null,
      },
    ]),
  )
}

async function settledPartsOf(
  db: Db,
  ids: number[],
): Promise<Map<number, Map<number, SettledPart>>> {
  const bySms = new Map<number, Map<number, SettledPart>>()
  for (const [smsId, states] of await partStatesBySms(db, ids)) {
    const parts = new Map<number, SettledPart>()
    for (const [no, state] of states) parts.set(no, state === 'refused' ? 'refused' : 'accepted')
    bySms.set(smsId, parts)
  }
  return bySms
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
