import { parsePhoneNumberFromString } from 'libphonenumber-js/max'
import { isMysql, type Db } from '../db/connection'
import { groupBy } from '../group-by'
import {
  findLongSmsWithPartsFinalSince,
  findPartsByCarrierIds,
  insertDeliveryEvents,
  lockSmsRows,
  readPartStates,
  readPartsOfLockedSms,
  moveToDelivered,
  settleSmsAsFailed,
  settleSmsAsUnknown,
  settleWaitingPartsById,
  settleWaitingPartsOfOneSms,
  settleWaitingPartsOfSms,
  takeSmsPastReceiptDeadline,
  type DeliveryEvent,
  type LockedSms,
} from '../db/outbound'
import { normaliseAddress } from '../inbound/intake'
import {
  canonicalMessageId,
  receiptIdReadings,
  type ReceiptIdFormat,
  type ReceiptIdReadings,
} from '../smpp/message-id'
import type { DeliveryReceipt, ReceiptState } from '../smpp/receipt'

export type ReceiptMode = 'per_part' | 'per_message' | 'auto'
export type { ReceiptIdFormat } from '../smpp/message-id'
type PartState = 'delivered' | 'undeliverable' | 'expired'
/** What an SMS becomes once every part has an outcome (see smsOutcomeOf). */
export type SmsOutcome = PartState | 'partial'

/** Receipt states that end a part, as stored in delivery_events.state. */
const FINAL_RECEIPT_STATES: readonly ReceiptState[] = [
  'delivered',
  'undeliverable',
  'expired',
  'rejected',
  'deleted',
]
const RECEIPTED_PART_STATES: readonly PartState[] = ['delivered', 'undeliverable', 'expired']

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

/** The worst of some part outcomes: undeliverable, then expired, then delivered. */
function worstOf(states: PartState[]): PartState {
  if (states.includes('undeliverable')) return 'undeliverable'
  if (states.includes('expired')) return 'expired'
  return 'delivered'
}

/**
 * An SMS from the states of all its parts: null while one is still 'sent' (waiting for its
 * receipt); delivered when all are; partial when some are (the sender is told which); else
 * undeliverable when a part was, or was refused by the SMSC at submit, and expired otherwise.
 */
export function smsOutcomeOf(parts: string[]): SmsOutcome | null {
  if (parts.length === 0 || parts.includes('sent')) return null
  if (parts.every((p) => p === 'delivered')) return 'delivered'
  if (parts.includes('delivered')) return 'partial'
  return parts.some((p) => p === 'undeliverable' || p === 'refused') ? 'undeliverable' : 'expired'
}

/** An SMS settled by its parts' receipts: its outcome, and when the carrier took it (epoch ms). */
export interface SettledSms {
  id: number
  outcome: SmsOutcome
  sentAt: number | null
}

const outcomesOf = (settled: SettledSms[]): Map<number, SmsOutcome> =>
  new Map(settled.map((s) => [s.id, s.outcome]))

/** Told of the SMS settled by receipts once they are committed, with the time they settled. */
export type SettleListener = (settled: SettledSms[], now: number) => void

function lastErrorOf(
  outcome: SmsOutcome,
  parts: Array<{ part_no: number; state: string }>,
  error?: string,
): string {
  const detail =
    outcome === 'partial'
      ? ` (delivered parts ${parts
          .filter((p) => p.state === 'delivered')
          .map((p) => p.part_no)
          .sort((a, b) => a - b)
          .join(', ')} of ${parts.length})`
      : ''
  return `receipt: ${outcome}${detail}${error ? ` (error ${error})` : ''}`.slice(0, 500)
}

/**
 * Settles each of these SMS that is in 'sent' and has all its part rows (`parts` of them)
 * with none still 'sent', per smsOutcomeOf; failures owe a notice. Call inside the transaction
 * that wrote the parts. `errors` adds a receipt's error code to an SMS's last_error. Returns
 * the SMS settled; `out`, when given, receives each one's outcome and when it was sent.
 */
export async function settleFromParts(
  trx: Db,
  smsIds: number[],
  now: number,
  errors: ReadonlyMap<number, string> = new Map(),
  out?: SettledSms[],
): Promise<number[]> {
  const ids = [...new Set(smsIds)].sort((a, b) => a - b)
  if (ids.length === 0) return []
  return settleLockedFromParts(trx, await lockSmsRows(trx, ids), now, errors, out)
}

/** settleFromParts for SMS rows this transaction has locked already (lockSmsRows). */
async function settleLockedFromParts(
  trx: Db,
  locked: LockedSms[],
  now: number,
  errors: ReadonlyMap<number, string>,
  out?: SettledSms[],
): Promise<number[]> {
  const sms = locked.filter((s) => s.status === 'sent')
  if (sms.length === 0) return []
  const rows = await readPartsOfLockedSms(
    trx,
    sms.map((s) => s.id),
  )
  const partsOf = groupBy(rows, (r) => Number(r.sms_id))
  const delivered: LockedSms[] = []
  const settled: number[] = []
  for (const s of sms) {
    const id = s.id
    const parts = partsOf.get(id) ?? []
    // An SMS whose other parts are still to be submitted is not settled by the ones it has.
    if (parts.length < (s.parts ?? parts.length)) continue
    const outcome = smsOutcomeOf(parts.map((p) => String(p.state)))
    if (outcome === null) continue
    settled.push(id)
    out?.push({ id, outcome, sentAt: s.sentAt })
    if (outcome === 'delivered') {
      delivered.push(s)
      continue
    }
    // Failures are rare: one statement each, so each keeps its own reason.
    await settleSmsAsFailed(trx, id, outcome, lastErrorOf(outcome, parts, errors.get(id)), now)
  }
  await moveToDelivered(trx, delivered, now)
  return settled
}

/** The SMS holding a message id: the newest one, with every part of it under that id. */
interface IdHolder {
  smsId: number
  /** The SMS's MX transaction id, for the log. */
  trace: string | null
  /** E.164, to compare with a receipt's handset. */
  recipient: string
  /** submit_sm PDUs the SMS took; null when not known. */
  parts: number | null
  partIds: number[]
}

interface Match {
  holder: IdHolder
  state: PartState
  error: string | null
}

/**
 * Records the parts the receipts name (only parts still 'sent': a receipt repeated later changes
 * nothing), then settles their SMS. per_message: a receipt ends every part of its SMS still
 * waiting, so one receipt settles the SMS (partial when a part was refused at submit).
 */
async function settle(
  trx: Db,
  matches: Match[],
  mode: ReceiptMode,
  now: number,
  out?: SettledSms[],
): Promise<void> {
  if (matches.length === 0) return
  const smsIds = [...new Set(matches.map((m) => m.holder.smsId))].sort((a, b) => a - b)
  const locked = await lockSmsRows(trx, smsIds)
  if (mode === 'per_message') {
    const worst = new Map<number, PartState>()
    for (const [smsId, ms] of groupBy(matches, (m) => m.holder.smsId))
      worst.set(smsId, worstOf(ms.map((m) => m.state)))
    for (const [state, entries] of groupBy(worst, ([, s]) => s)) {
      await settleWaitingPartsOfSms(
        trx,
        entries.map(([id]) => id),
        state,
        now,
      )
    }
  } else {
    for (const [state, ms] of groupBy(matches, (m) => m.state)) {
      await settleWaitingPartsById(
        trx,
        ms.flatMap((m) => m.holder.partIds),
        state,
        now,
      )
    }
  }
  const errors = new Map(
    matches.filter((m) => m.error).map((m) => [m.holder.smsId, m.error as string]),
  )
  // Locked and read above, before the parts changed: the parts are read again, the SMS rows not.
  await settleLockedFromParts(trx, locked, now, errors, out)
}

/**
 * The SMS holding each of these ids. When a carrier reuses an id (ids restart, or count in a
 * range that wraps), the newest SMS with a part still waiting for its receipt holds it, else
 * the newest SMS: a receipt is far likelier about a message still in flight than a repeat for
 * one settled long ago.
 */
async function holdersByKey(trx: Db, keys: string[]): Promise<Map<string, IdHolder>> {
  const found = new Map<string, IdHolder>()
  if (keys.length === 0) return found
  const rows = await findPartsByCarrierIds(trx, keys)
  const candidates = new Map<string, Array<IdHolder & { waiting: boolean }>>()
  for (const r of rows) {
    const key = String(r.smsc_message_id)
    const list = candidates.get(key) ?? []
    candidates.set(key, list)
    let holder = list.find((h) => h.smsId === Number(r.sms_id))
    if (!holder) {
      holder = {
        smsId: Number(r.sms_id),
        trace: (r.mx_transaction as string | null) ?? null,
        recipient: String(r.recipient),
        parts: r.parts === null || r.parts === undefined ? null : Number(r.parts),
        partIds: [],
        waiting: false,
      }
      list.push(holder)
    }
    // An SMSC that gives every part of a long SMS one id: the receipt is about them all.
    holder.partIds.push(Number(r.id))
    if (r.state === 'sent') holder.waiting = true
  }
  for (const [key, list] of candidates) {
    const chosen = list.find((h) => h.waiting) ?? list[0]
    const holder: IdHolder = {
      smsId: chosen.smsId,
      trace: chosen.trace,
      recipient: chosen.recipient,
      parts: chosen.parts,
      partIds: chosen.partIds,
    }
    found.set(key, holder)
  }
  return found
}

/**
 * True when a receipt's handset is this E.164 number, whatever form the SMSC wrote it in:
 * international digits, "+…", "00…", or national ("0612345678", TON 2 or a trunk 0), read in
 * the number's own country.
 */
export function isSameHandset(recipient: string, handset: string, ton?: number): boolean {
  const country = parsePhoneNumberFromString(recipient)?.country
  return normaliseAddress(handset, ton, country) === recipient
}

/**
 * The SMS a receipt is about. In 'auto' its id as given wins unless the receipt names another
 * handset and a converted reading names an SMS to that handset: decimal "4000000002" may be one
 * SMS's own id and, read as hex, another's (ids are sequential, and several carriers or a
 * restarted SMSC reuse ranges). A converted reading alone needs the handset to agree (taken as
 * it is when the receipt names none). A declared format trusts its readings, preferring one
 * whose number agrees.
 */
function findHolder(
  readings: ReceiptIdReadings,
  handset: string | null | undefined,
  ton: number | null | undefined,
  holders: Map<string, IdHolder>,
): IdHolder | undefined {
  const agrees = (h: IdHolder) => !handset || isSameHandset(h.recipient, handset, ton ?? undefined)
  const own = holders.get(readings.own)
  const others = readings.others.flatMap((k) => holders.get(k) ?? [])
  if (readings.othersTrusted) {
    const hits = own ? [own, ...others] : others
    return hits.find(agrees) ?? hits[0]
  }
  const converted = others.find(agrees)
  if (own && handset && converted && !agrees(own)) return converted
  return own ?? converted
}

function allKeys(readings: ReceiptIdReadings[]): string[] {
  return readings.flatMap((r) => (r.own ? [r.own, ...r.others] : r.others))
}

/** A receipt and the SMS it was found to be about. */
export interface MatchedReceipt {
  receipt: DeliveryReceipt
  smsId: number
  trace: string | null
  /** submit_sm PDUs the SMS took; null when not known. */
  parts: number | null
}

export interface AppliedReceipts {
  matched: number
  unmatched: number
  /** The receipts that matched no SMS (kept in delivery_events for a later match). */
  unmatchedReceipts: DeliveryReceipt[]
  /** Each matched receipt with its SMS, in the order received. */
  matchedReceipts: MatchedReceipt[]
  /** The SMS these receipts settled, with the status each one got. */
  settled: Map<number, SmsOutcome>
}

/**
 * Records delivery receipts and settles the SMS they complete. Every receipt is kept as a
 * delivery event; one whose message id is not known yet (it overtook the worker's record of
 * the submit) stays unmatched until matchUnmatchedReceipts finds its SMS. `onSettled` hears
 * of the SMS settled once the transaction is committed.
 */
export async function applyReceipts(
  db: Db,
  receipts: DeliveryReceipt[],
  mode: ReceiptMode,
  now: number,
  idFormat: ReceiptIdFormat = 'auto',
  onSettled?: SettleListener,
): Promise<AppliedReceipts> {
  if (receipts.length === 0) {
    return {
      matched: 0,
      unmatched: 0,
      unmatchedReceipts: [],
      matchedReceipts: [],
      settled: new Map(),
    }
  }
  const settled: SettledSms[] = []
  const applied = await db.transaction(async (trx) => {
    // Emptied on each try: a transaction retried after a deadlock settles its SMS again.
    settled.length = 0
    await takeWriteLock(trx)
    const readings = receipts.map((r) => receiptIdReadings(r.messageId, idFormat))
    const holders = await holdersByKey(trx, allKeys(readings))
    const matches: Match[] = []
    const unmatchedReceipts: DeliveryReceipt[] = []
    const matchedReceipts: MatchedReceipt[] = []
    const events: DeliveryEvent[] = receipts.map((r, i) => {
      const holder = findHolder(readings[i], r.handset, r.handsetTon, holders)
      const state = partStateOf(r.state)
      if (holder) {
        matchedReceipts.push({
          receipt: r,
          smsId: holder.smsId,
          trace: holder.trace,
          parts: holder.parts,
        })
      } else unmatchedReceipts.push(r)
      if (holder && state) matches.push({ holder, state, error: r.error })
      return {
        smsId: holder?.smsId ?? null,
        messageId: canonicalMessageId(r.messageId).slice(0, 72),
        state: r.state,
        error: r.error?.slice(0, 64) ?? null,
        handset: r.handset?.slice(0, 21) ?? null,
        handsetTon: r.handset ? (r.handsetTon ?? null) : null,
        raw: r.raw.slice(0, 500),
      }
    })
    await insertDeliveryEvents(trx, events, now)
    await settle(trx, matches, mode, now, settled)
    return {
      matched: receipts.length - unmatchedReceipts.length,
      unmatched: unmatchedReceipts.length,
      unmatchedReceipts,
      matchedReceipts,
      settled: outcomesOf(settled),
    }
  })
  if (settled.length > 0) onSettled?.(settled, now)
  return applied
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

export interface RematchOptions {
  /** Only receipts received at or after this instant. */
  since: number
  /** Only delivery events after this id (a cursor over a long backlog); 0 for all. */
  afterId?: number
  /** Most events looked at. */
  limit?: number
  mode: ReceiptMode
  idFormat?: ReceiptIdFormat
  now: number
  onSettled?: SettleListener
}

export interface Rematched {
  matched: Array<{ messageId: string; smsId: number; trace: string | null; state: string }>
  /** The SMS these receipts settled, with the status each one got. */
  settled: Map<number, SmsOutcome>
  /** The last event id looked at (the next cursor), null when there was none. */
  lastId: number | null
  scanned: number
}

/**
 * Receipts that matched nothing when they arrived, matched again: they overtook the record of
 * their submit (another worker's, or one written late), or came from an SMSC slow to report.
 */
export async function matchUnmatchedReceipts(db: Db, opts: RematchOptions): Promise<Rematched> {
  const settled: SettledSms[] = []
  const found = await db.transaction(async (trx) => {
    settled.length = 0
    await takeWriteLock(trx)
    const query = trx('delivery_events')
      .whereNull('sms_id')
      .where('received_at', '>=', opts.since)
      .where('id', '>', opts.afterId ?? 0)
      .orderBy('id')
      .select('id', 'smsc_message_id', 'state', 'error', 'handset', 'handset_ton')
    if (opts.limit !== undefined) query.limit(opts.limit)
    const unmatched = await query
    if (unmatched.length === 0) return { matched: [], settled: new Map(), lastId: null, scanned: 0 }
    const readings = unmatched.map((e) =>
      receiptIdReadings(String(e.smsc_message_id), opts.idFormat ?? 'auto'),
    )
    const holders = await holdersByKey(trx, allKeys(readings))
    const matches: Match[] = []
    const matched: Rematched['matched'] = []
    for (const [i, e] of unmatched.entries()) {
      const ton = e.handset_ton === null ? undefined : Number(e.handset_ton)
      const holder = findHolder(readings[i], e.handset, ton, holders)
      if (!holder) continue
      await trx('delivery_events').where({ id: e.id }).update({ sms_id: holder.smsId })
      matched.push({
        messageId: String(e.smsc_message_id),
        smsId: holder.smsId,
        trace: holder.trace,
        state: String(e.state),
      })
      const state = partStateOf(e.state as ReceiptState)
      if (state) matches.push({ holder, state, error: e.error })
    }
    await settle(trx, matches, opts.mode, opts.now, settled)
    return {
      matched,
      settled: outcomesOf(settled),
      lastId: Number(unmatched[unmatched.length - 1].id),
      scanned: unmatched.length,
    }
  })
  if (settled.length > 0) opts.onSettled?.(settled, opts.now)
  return found
}

/**
 * receipts=auto: long SMS in 'sent' with a final receipt for some parts, received at least
 * `cutoff` ago, and none for the others (the SMSC reports once per message). The parts without
 * a receipt take the worst state of those with one, and the SMS is settled. Returns the SMS
 * settled, at most `limit`, in id order, with their trace and how they ended (for the log).
 */
export async function settleWaitedParts(
  db: Db,
  cutoff: number,
  now: number,
  limit: number,
  onSettled?: SettleListener,
): Promise<Array<{ id: number; trace: string | null; outcome: SmsOutcome }>> {
  const waiting = await findLongSmsWithPartsFinalSince(db, RECEIPTED_PART_STATES, cutoff, limit)
  if (waiting.length === 0) return []
  const traces = new Map(waiting.map((w) => [w.id, w.trace]))
  const ids = [...traces.keys()].sort((a, b) => a - b)
  const settled: SettledSms[] = []
  await db.transaction(async (trx) => {
    settled.length = 0
    await lockSmsRows(trx, ids)
    const rows = await readPartStates(trx, ids)
    const filled: number[] = []
    for (const [smsId, parts] of groupBy(rows, (r) => Number(r.sms_id))) {
      const states = parts.map((p) => String(p.state))
      if (!states.includes('sent')) continue
      const receipted = states.filter((s): s is PartState =>
        (RECEIPTED_PART_STATES as readonly string[]).includes(s),
      )
      if (receipted.length === 0) continue
      await settleWaitingPartsOfOneSms(trx, smsId, worstOf(receipted), now)
      filled.push(smsId)
    }
    await settleFromParts(trx, filled, now, new Map(), settled)
  })
  if (settled.length > 0) onSettled?.(settled, now)
  return settled
    .map((s) => ({ id: s.id, trace: traces.get(s.id) ?? null, outcome: s.outcome }))
    .sort((a, b) => a.id - b.id)
}

/**
 * SMS accepted by the carrier that never got a final receipt: in 'sent' since at least
 * `timeoutMs` (next_attempt_at is set to the deadline when an SMS is sent; rows sent before
 * that have an older one, hence the sent_at condition too). They become 'unknown', a final
 * status without a failure notice. Returns the SMS moved (with their trace), at most `limit`.
 */
export async function markUnknown(
  db: Db,
  now: number,
  timeoutMs: number,
  limit: number,
): Promise<Array<{ id: number; trace: string | null }>> {
  return db.transaction(async (trx) => {
    await takeWriteLock(trx)
    const found = await takeSmsPastReceiptDeadline(trx, now, timeoutMs, limit)
    if (found.length > 0) {
      await settleSmsAsUnknown(
        trx,
        found.map((f) => f.id),
        now,
      )
    }
    return found
  })
}

/**
 * One of these SMS that got final receipts under two or more distinct message ids (so the
 * SMSC reports per part), or null.
 */
export async function smsWithReceiptsForSeveralParts(
  db: Db,
  smsIds: number[],
): Promise<number | null> {
  if (smsIds.length === 0) return null
  const row = await db('delivery_events')
    .whereIn('sms_id', smsIds)
    .whereIn('state', FINAL_RECEIPT_STATES)
    .groupBy('sms_id')
    .havingRaw('count(distinct smsc_message_id) >= 2')
    .first('sms_id')
  return row ? Number(row.sms_id) : null
}
