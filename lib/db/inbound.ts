import type { Db } from './connection'

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

/**
 * Takes up to `limit` due SMS: 'received' ones whose time has come and 'mailing' ones whose
 * lease ran out (their dispatcher died). Each row is taken by an UPDATE that only matches the
 * status and next_attempt_at just read, so of several dispatchers on one database exactly one
 * wins each row, on MySQL and SQLite alike, without holding locks across the mail.
 */
export async function claimDueInbound(
  db: Db,
  opts: { limit: number; leaseMs: number; now: number },
): Promise<ClaimedInbound[]> {
  const pick = (status: InboundStatus, limit: number) =>
    db('inbound_sms')
      .select('id', 'status', 'next_attempt_at')
      .where('status', status)
      .where('next_attempt_at', '<=', opts.now)
      .orderBy('next_attempt_at')
      .limit(limit)
  const abandoned = await pick('mailing', opts.limit)
  const due =
    abandoned.length < opts.limit ? await pick('received', opts.limit - abandoned.length) : []
  const lease = opts.now + opts.leaseMs
  const claimed: number[] = []
  for (const row of [...abandoned, ...due]) {
    const n = await db('inbound_sms')
      .where({ id: row.id, status: row.status, next_attempt_at: row.next_attempt_at })
      .update({
        status: 'mailing',
        next_attempt_at: lease,
        mail_attempts: db.raw('mail_attempts + 1'),
      })
    if (n === 1) claimed.push(Number(row.id))
  }
  if (claimed.length === 0) return []
  const rows = await db('inbound_sms').whereIn('id', claimed).orderBy('id')
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
  const n = await db('inbound_sms')
    .where({ id: claim.sms.id, status: 'mailing', next_attempt_at: claim.lease })
    .update({ next_attempt_at: until })
  if (n === 1) claim.lease = until
  return n === 1
}

export type InboundOutcome =
  | { kind: 'mailed'; status: 'forwarded' | 'replied'; replyToSmsId: number | null; at: number }
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
