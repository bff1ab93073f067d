import { isMysql, type Db } from '../db/connection'
import { canonicalMessageId, normaliseMessageId } from '../smpp/message-id'
import type { DeliveryReceipt, ReceiptState } from '../smpp/receipt'
import { noticeDueColumns } from './store'

export type ReceiptMode = 'per_part' | 'per_message' | 'auto'
type PartState = 'delivered' | 'undeliverable' | 'expired'

/** Final receipt states, as the state of one part; interim ones (enroute, accepted…) are null. */
function partStateOf(state: ReceiptState): PartState | null {
  switch (state) {
    case 'delivered':
      return 'delivered'
    case 'expired':
      return 'expired'
    case 'undeliverable':
    case 'rejected':
    case 'deleted':
      return 'undeliverable'
    default:
      return null
  }
}

/** An SMS is settled by its parts: delivered when all are; otherwise by the worst outcome. */
function smsStateOf(parts: string[]): PartState | null {
  if (parts.some((p) => p === 'sent')) return null
  if (parts.every((p) => p === 'delivered')) return 'delivered'
  return parts.includes('undeliverable') ? 'undeliverable' : 'expired'
}

interface Match {
  partId: number
  smsId: number
  state: PartState
  error: string | null
}

async function settle(trx: Db, matches: Match[], mode: ReceiptMode, now: number): Promise<void> {
  if (matches.length === 0) return
  if (isMysql(trx)) {
    // Two workers settling parts of one SMS at once would each miss the other's uncommitted
    // part and leave the SMS 'sent' for ever: the parent row serialises them.
    const parents = [...new Set(matches.map((m) => m.smsId))].sort((a, b) => a - b)
    await trx('outbound_sms').whereIn('id', parents).orderBy('id').select('id').forUpdate()
  }
  const byState = new Map<PartState, number[]>()
  for (const m of matches) byState.set(m.state, [...(byState.get(m.state) ?? []), m.partId])
  for (const [state, ids] of byState) {
    await trx('outbound_sms_parts').whereIn('id', ids).update({ state, final_at: now })
  }
  const smsIds = [...new Set(matches.map((m) => m.smsId))]
  const outcome = new Map<number, PartState>()
  if (mode === 'per_message') {
    for (const m of matches) outcome.set(m.smsId, m.state)
  } else {
    const rows = await trx('outbound_sms_parts').whereIn('sms_id', smsIds).select('sms_id', 'state')
    const states = new Map<number, string[]>()
    for (const r of rows)
      states.set(Number(r.sms_id), [...(states.get(Number(r.sms_id)) ?? []), r.state])
    for (const [smsId, parts] of states) {
      const state = smsStateOf(parts)
      if (state) outcome.set(smsId, state)
    }
  }
  const errors = new Map(matches.filter((m) => m.error).map((m) => [m.smsId, m.error as string]))
  const byOutcome = new Map<PartState, number[]>()
  for (const [smsId, state] of outcome)
    byOutcome.set(state, [...(byOutcome.get(state) ?? []), smsId])
  for (const [state, ids] of byOutcome) {
    const update: Record<string, unknown> = { status: state, final_at: now, updated_at: now }
    if (state !== 'delivered') {
      // Failures are rare: one statement each, so each keeps its own reason.
      for (const id of ids) {
        await trx('outbound_sms')
          .where({ id, status: 'sent' })
          .update({
            ...update,
            ...noticeDueColumns(now),
            last_error: `receipt: ${state}${errors.get(id) ? ` (error ${errors.get(id)})` : ''}`,
          })
      }
      continue
    }
    await trx('outbound_sms').whereIn('id', ids).where({ status: 'sent' }).update(update)
  }
}

interface KnownPart {
  id: number
  smsId: number
  /** The SMS's number without '+', to compare with a receipt's handset. */
  handset: string
}

/** Parts stored under any reading of these ids, newest first per key. */
async function partsByKey(trx: Db, keys: string[]): Promise<Map<string, KnownPart>> {
  const found = new Map<string, KnownPart>()
  if (keys.length === 0) return found
  const rows = await trx('outbound_sms_parts as p')
    .join('outbound_sms as o', 'o.id', 'p.sms_id')
    .whereIn('p.smsc_message_id', [...new Set(keys)])
    .orderBy('p.id', 'desc')
    .select('p.id', 'p.sms_id', 'p.smsc_message_id', 'o.recipient')
  for (const r of rows) {
    if (found.has(r.smsc_message_id)) continue
    found.set(r.smsc_message_id, {
      id: Number(r.id),
      smsId: Number(r.sms_id),
      handset: String(r.recipient).replace(/^\+/, ''),
    })
  }
  return found
}

/**
 * The part a receipt is about. Its id as given wins. Another reading of it (hex for decimal or
 * the reverse, see lib/smpp/message-id.ts) can also name an older, unrelated SMS when ids are
 * sequential, so such a match needs the receipt's handset to be that SMS's number; without a
 * handset in the receipt it is taken as it is.
 */
function findPart(
  candidates: string[],
  handset: string | null | undefined,
  parts: Map<string, KnownPart>,
): KnownPart | undefined {
  const [own, ...others] = candidates
  const exact = own !== undefined ? parts.get(own) : undefined
  if (exact) return exact
  const wanted = handset?.replace(/^\+/, '')
  for (const key of others) {
    const part = parts.get(key)
    if (part && (!wanted || part.handset === wanted)) return part
  }
  return undefined
}

/**
 * Records delivery receipts and settles the SMS they complete. Every receipt is kept as a
 * delivery event; one whose message id is not known yet (it overtook the worker's record of
 * the submit) stays unmatched until recordSent settles it.
 */
export async function applyReceipts(
  db: Db,
  receipts: DeliveryReceipt[],
  mode: ReceiptMode,
  now: number,
): Promise<{ matched: number; unmatched: number }> {
  if (receipts.length === 0) return { matched: 0, unmatched: 0 }
  return db.transaction(async (trx) => {
    await takeWriteLock(trx)
    const candidates = receipts.map((r) => normaliseMessageId(r.messageId))
    const parts = await partsByKey(trx, candidates.flat())
    const matches: Match[] = []
    const events = receipts.map((r, i) => {
      const part = findPart(candidates[i], r.handset, parts)
      const state = partStateOf(r.state)
      if (part && state) matches.push({ partId: part.id, smsId: part.smsId, state, error: r.error })
      return {
        sms_id: part?.smsId ?? null,
        smsc_message_id: canonicalMessageId(r.messageId).slice(0, 72),
        state: r.state,
        error: r.error?.slice(0, 64) ?? null,
        handset: r.handset?.slice(0, 21) ?? null,
        raw: r.raw.slice(0, 500),
        received_at: now,
      }
    })
    for (let i = 0; i < events.length; i += 500) {
      await trx('delivery_events').insert(events.slice(i, i + 500))
    }
    await settle(trx, matches, mode, now)
    const matched = events.filter((e) => e.sms_id !== null).length
    return { matched, unmatched: events.length - matched }
  })
}

/**
 * SQLite: a transaction that reads before it writes cannot wait for the write lock and fails
 * at once with SQLITE_BUSY when another process (the MX) is writing. A write that changes
 * nothing, first, takes the lock and waits on busy_timeout like any write. MySQL locks rows.
 */
async function takeWriteLock(trx: Db): Promise<void> {
  if (isMysql(trx)) return
  await trx('delivery_events').where('id', -1).update({ sms_id: null })
}

/**
 * Receipts that arrived before their message ids were recorded (the SMSC answered faster than
 * the sending worker wrote the submit, possibly a worker other than the one that got the
 * receipt): matched again now. Only recent ones are looked at: `since` bounds the scan.
 */
export async function settleUnmatchedReceipts(
  db: Db,
  since: number,
  mode: ReceiptMode,
  now: number,
): Promise<number> {
  return db.transaction(async (trx) => {
    await takeWriteLock(trx)
    const early = await trx('delivery_events')
      .whereNull('sms_id')
      .where('received_at', '>=', since)
      .select('id', 'smsc_message_id', 'state', 'error', 'handset')
    if (early.length === 0) return 0
    const parts = await partsByKey(
      trx,
      early.flatMap((e) => normaliseMessageId(e.smsc_message_id)),
    )
    const matches: Match[] = []
    for (const e of early) {
      const part = findPart(normaliseMessageId(e.smsc_message_id), e.handset, parts)
      if (!part) continue
      await trx('delivery_events').where({ id: e.id }).update({ sms_id: part.smsId })
      const state = partStateOf(e.state as ReceiptState)
      if (state) matches.push({ partId: part.id, smsId: part.smsId, state, error: e.error })
    }
    await settle(trx, matches, mode, now)
    return matches.length
  })
}
