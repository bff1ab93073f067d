import type { Db } from './connection'
import { claimUnderLease, renewLease, type LeasedTable } from './lease-claim'
import type { ClaimObserver } from '../ops/observers'

/**
 * received: waiting for the mail dispatcher; mailing: a dispatcher holds it (next_attempt_at is
 * its lease's end); forwarded / replied: handed to the relay for the forward list / the last
 * sender; kept: routed, but the account has nowhere to send it; unrouted: no account owns the
 * number; opt_out / opt_in: a STOP or START keyword, acted on and not mailed; failed: the relay
 * refused it until the dispatcher gave up.
 */
export type InboundStatus =
  | 'received'
  | 'mailing'
  | 'forwarded'
  | 'replied'
  | 'kept'
  | 'unrouted'
  | 'opt_out'
  | 'opt_in'
  | 'failed'

export interface InboundSms {
  id: number
  accountId: number | null
  /** E.164 when it is a number; an alphanumeric sender as given. */
  fromNumber: string
  toNumber: string
  body: string
  encoding: string
  parts: number
  missingParts: number
  source: string
  carrierId: string | null
  status: InboundStatus
  replyToSmsId: number | null
  mailAttempts: number
  nextAttemptAt: number | null
  lastError: string | null
  receivedAt: number
  mailedAt: number | null
}

function toInboundSms(row: Record<string, unknown>): InboundSms {
  const optionalNumber = (v: unknown) => (v === null || v === undefined ? null : Number(v))
  return {
    id: Number(row.id),
    accountId: optionalNumber(row.account_id),
    fromNumber: String(row.from_number),
    toNumber: String(row.to_number),
    body: String(row.body),
    encoding: String(row.encoding),
    parts: Number(row.parts),
    missingParts: Number(row.missing_parts ?? 0),
    source: String(row.source),
    carrierId: (row.carrier_id as string | null) ?? null,
    status: row.status as InboundStatus,
    replyToSmsId: optionalNumber(row.reply_to_sms_id),
    mailAttempts: Number(row.mail_attempts),
    nextAttemptAt: optionalNumber(row.next_attempt_at),
    lastError: (row.last_error as string | null) ?? null,
    receivedAt: Number(row.received_at),
    mailedAt: optionalNumber(row.mailed_at),
  }
}

/** An inbound SMS a dispatcher holds; `lease` is its lease's end, which also proves ownership. */
export interface ClaimedInbound {
  sms: InboundSms
  lease: number
}

/** While an inbound SMS is 'mailing', next_attempt_at holds the lease's end (and its fence). */
const INBOUND_LEASE: LeasedTable = {
  work: 'inbound',
  table: 'inbound_sms',
  leaseColumn: 'next_attempt_at',
}

/**
 * Takes up to `limit` due SMS under lease (lib/db/lease-claim.ts): 'mailing' ones whose lease
 * ran out (their dispatcher died) first, then 'received' ones whose time has come. No lock is
 * held across the mail: the lease keeps other dispatchers away.
 */
export async function claimDueInbound(
  db: Db,
  opts: { limit: number; leaseMs: number; now: number; observer?: ClaimObserver },
): Promise<ClaimedInbound[]> {
  const { ids, leaseUntil: lease } = await claimUnderLease(
    db,
    {
      ...INBOUND_LEASE,
      due: [{ where: { status: 'mailing' } }, { where: { status: 'received' } }],
      set: { status: 'mailing', mail_attempts: db.raw('mail_attempts + 1') },
    },
    opts,
  )
  if (ids.length === 0) return []
  const rows = await db('inbound_sms').whereIn('id', ids).orderBy('id')
  return rows.map((row) => ({ sms: toInboundSms(row), lease }))
}

/**
 * Moves a held claim's lease end to `until`, so that a slow relay does not let another
 * dispatcher take the SMS and mail it again. False when the claim was no longer held.
 */
export async function extendInboundLease(
  db: Db,
  claim: ClaimedInbound,
  until: number,
): Promise<boolean> {
  const held = { id: claim.sms.id, status: 'mailing', next_attempt_at: claim.lease }
  const extended = (await renewLease(db, INBOUND_LEASE, held, until)) === 1
  if (extended) claim.lease = until
  return extended
}

export type InboundOutcome =
  | {
      kind: 'mailed'
      status: 'forwarded' | 'replied'
      replyToSmsId: number | null
      /** The addresses it was mailed to, kept for the admin's received SMS page. */
      to?: string[]
      at: number
    }
  | { kind: 'kept'; at: number; reason: string }
  | { kind: 'retry'; at: number; retryAt: number; error: string }
  | { kind: 'failed'; at: number; error: string }

/**
 * Records what became of a claimed SMS, if the lease is still this dispatcher's. Returns false
 * when it was not (the lease ran out and another dispatcher took the row).
 */
export async function settleInbound(
  db: Db,
  claim: ClaimedInbound,
  outcome: InboundOutcome,
): Promise<boolean> {
  let update: Record<string, unknown>
  switch (outcome.kind) {
    case 'mailed':
      update = {
        status: outcome.status,
        reply_to_sms_id: outcome.replyToSmsId,
        mailed_to: outcome.to?.join(', ') ?? null,
        mailed_at: outcome.at,
        next_attempt_at: null,
        last_error: null,
      }
      break
    case 'kept':
      update = { status: 'kept', next_attempt_at: null, last_error: outcome.reason.slice(0, 500) }
      break
    case 'retry':
      update = {
        status: 'received',
        next_attempt_at: outcome.retryAt,
        last_error: outcome.error.slice(0, 500),
      }
      break
    case 'failed':
      update = { status: 'failed', next_attempt_at: null, last_error: outcome.error.slice(0, 500) }
      break
  }
  const n = await db('inbound_sms')
    .where({ id: claim.sms.id, status: 'mailing', next_attempt_at: claim.lease })
    .update(update)
  return n === 1
}

/**
 * An SMPP MO's dedupe key once the SMSC has our acknowledgement: unique to the row (the column
 * is), and never a key a delivery looks up.
 */
export const releasedKey = (id: number): string => `released:${id}`

/**
 * Gives up an SMPP MO's dedupe key (see lib/inbound/redelivery.ts): an identical MO after this
 * is a new SMS. False when the row no longer had that key (released already).
 */
export async function releaseInboundKey(db: Db, id: number, key: string): Promise<boolean> {
  const n = await db('inbound_sms')
    .where({ id, dedupe_key: key })
    .update({ dedupe_key: releasedKey(id) })
  return n === 1
}
