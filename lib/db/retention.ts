import { isMysql, type Db } from './connection'
import { OUTBOUND_PURGES } from './outbound/retention'
import { PURGED_ADDRESSES, PURGED_TEXT } from './purged'

/**
 * The SQL of the retention purge ([retention] in config/mail2sms.ini): message text and
 * addresses are removed from SMS some days after they reached a final state, in small batches.
 *
 * Rows are blanked, never deleted: the ids, statuses, segment counts and times stay, so the
 * admin's charts and message counts, the spend limits and the exports keep adding up, and the
 * dedupe key stays, so an email its sender's server retries still finds its SMS and is not sent
 * twice. `purged` records what was removed (bits below); the retention index leads with it, so
 * each batch reads only rows that still hold data, however many were purged before.
 *
 * A batch is idempotent: its UPDATE repeats the conditions of the read that picked its ids, so
 * two workers purging at once only repeat each other's work, and a batch cut short is done
 * again by the next one.
 */

export { PURGED_ADDRESSES, PURGED_TEXT } from './purged'

/** Inbound states after which nothing happens to an SMS any more (see lib/db/inbound.ts). */
export const FINAL_INBOUND_STATES = [
  'forwarded',
  'replied',
  'kept',
  'unrouted',
  'opt_out',
  'opt_in',
  'failed',
] as const

/** 'both': text and addresses in one statement, for rows past both retentions. */
export type PurgeKind = 'text' | 'addresses' | 'both'

export type PurgeStepName =
  | 'outbound_text'
  | 'outbound_addresses'
  | 'outbound_both'
  | 'inbound_text'
  | 'inbound_addresses'
  | 'inbound_both'
  | 'unmatched_receipts'

/** One kind of data removed from one table, a batch of ids at a time. */
export interface PurgeStep {
  name: PurgeStepName
  /**
   * Ids of up to `limit` rows with something to remove, older than `cutoff` (UTC ms) and, when
   * given, not older than `notBefore` (the rows a step for both kinds took already).
   */
  pick(db: Db, cutoff: number, limit: number, notBefore?: number): Promise<number[]>
  /** Removes it from those of `ids` that still qualify; returns how many rows changed. */
  apply(db: Db, ids: number[], cutoff: number): Promise<number>
  /** How many rows a purge at `cutoff` would change (the dry run). */
  count(db: Db, cutoff: number, notBefore?: number): Promise<number>
}

export type Query = ReturnType<Db['from']>

/** Read through `index` on MariaDB and SQLite alike: the planner may prefer a scan of the table. */
function fromIndex(db: Db, table: string, index: string): Query {
  if (isMysql(db)) return db.from(db.raw('?? FORCE INDEX (??)', [table, index]))
  return db.from(db.raw('?? INDEXED BY ??', [table, index]))
}

/**
 * A table for an UPDATE of rows named by id. On MariaDB the primary key is named:
 * on a small table the planner may read the retention index instead, and InnoDB would then
 * lock that index's range, including the gap where the MX inserts new rows (purged 0, no
 * final time yet). By primary key it locks the rows changed and nothing else.
 */
function byPrimaryKey(db: Db, table: string): Query {
  return isMysql(db) ? db.from(db.raw('?? FORCE INDEX (PRIMARY)', [table])) : db.from(table)
}

/** The `purged` values of rows with / without a bit: two short ranges of the retention index. */
const without = (bit: number): number[] => [0, 1, 2, 3].filter((v) => (v & bit) === 0)
const having = (bit: number): number[] => [0, 1, 2, 3].filter((v) => (v & bit) !== 0)

/** One kind of data removed from one table's rows: declared by the table's owner module. */
export interface RowPurge {
  name: PurgeStepName
  table: string
  index: string
  /** The row's time the retention counts from. */
  time: 'final_at' | 'received_at'
  states: readonly string[]
  bit: number
  /** The columns' values once purged. */
  blank: Record<string, string | null>
  /** The same data in the SMS's delivery receipts, removed with it. */
  events?: Record<string, null>
  /** Rows kept whatever their age, for work still owed on them. */
  hold?: (q: Query) => void
}

const SINGLE_PURGES: RowPurge[] = [
  ...OUTBOUND_PURGES,
  {
    name: 'inbound_text',
    table: 'inbound_sms',
    index: 'inbound_sms_retention',
    // An inbound SMS has no time of its own for its last state: it reaches it within hours of
    // its arrival (mailed, kept, or given up after inbound retries), days before any cutoff.
    time: 'received_at',
    states: FINAL_INBOUND_STATES,
    bit: PURGED_TEXT,
    blank: { body: '' },
  },
  {
    name: 'inbound_addresses',
    table: 'inbound_sms',
    index: 'inbound_sms_retention',
    time: 'received_at',
    states: FINAL_INBOUND_STATES,
    bit: PURGED_ADDRESSES,
    // The relay's refusal of a forward names the forward addresses, as mailed_to does. to_number
    // stays: it is the account's own virtual number, not a person's.
    blank: { from_number: '', last_error: null, mailed_to: null },
  },
]

/**
 * Both kinds at once for rows past both retentions: one statement per row instead of two,
 * which halves the purge's writes in the usual case (one retention for both, or a backlog).
 */
function both(text: RowPurge, addresses: RowPurge, name: PurgeStepName): RowPurge {
  return {
    ...text,
    name,
    bit: PURGED_TEXT | PURGED_ADDRESSES,
    blank: { ...text.blank, ...addresses.blank },
    events: text.events && addresses.events ? { ...text.events, ...addresses.events } : undefined,
  }
}

const [outboundText, outboundAddresses, inboundText, inboundAddresses] = SINGLE_PURGES

const ROW_PURGES: RowPurge[] = [
  ...SINGLE_PURGES,
  both(outboundText, outboundAddresses, 'outbound_both'),
  both(inboundText, inboundAddresses, 'inbound_both'),
]

function whereDue(q: Query, p: RowPurge, cutoff: number, notBefore?: number): Query {
  q.whereIn('purged', without(p.bit)).where(p.time, '<', cutoff).whereIn('status', p.states)
  if (notBefore !== undefined) q.where(p.time, '>=', notBefore)
  p.hold?.(q)
  return q
}

function rowStep(p: RowPurge): PurgeStep {
  return {
    name: p.name,
    async pick(db, cutoff, limit, notBefore) {
      // No ORDER BY: the range read stops at the limit. A plain read, which locks nothing.
      const q = whereDue(fromIndex(db, p.table, p.index).select('id'), p, cutoff, notBefore)
      q.limit(limit)
      return ((await q) as Array<{ id: number | string }>).map((r) => Number(r.id))
    },
    async apply(db, ids, cutoff) {
      if (ids.length === 0) return 0
      // One short transaction: the rows and their receipts are purged together or not at all.
      // By primary key, so InnoDB locks these rows only, and no gap an insert or claim needs.
      return db.transaction(async (trx) => {
        const rows = byPrimaryKey(trx, p.table).whereIn('id', ids)
        const changed = await whereDue(rows, p, cutoff).update({
          ...p.blank,
          purged: trx.raw(`purged | ${p.bit}`),
        })
        if (p.events && changed > 0) {
          const done = (await trx(p.table)
            .whereIn('id', ids)
            .whereIn('purged', having(p.bit))
            .select('id')) as Array<{ id: number | string }>
          const smsIds = done.map((r) => Number(r.id))
          // Found by a plain read, then changed by primary key: an UPDATE through the sms_id
          // index would also lock the gaps beside these SMS where receipts are inserted.
          const events = (await trx('delivery_events')
            .whereIn('sms_id', smsIds)
            .select('id')) as Array<{ id: number | string }>
          if (events.length > 0) {
            await byPrimaryKey(trx, 'delivery_events')
              .whereIn(
                'id',
                events.map((e) => Number(e.id)),
              )
              .whereIn('sms_id', smsIds)
              .update(p.events)
          }
        }
        return changed
      })
    },
    async count(db, cutoff, notBefore) {
      const q = whereDue(fromIndex(db, p.table, p.index), p, cutoff, notBefore).count({ n: '*' })
      const [row] = (await q) as Array<{ n: number | string }>
      return Number(row.n)
    },
  }
}

const UNMATCHED_INDEX = 'delivery_events_sms_id_received_at_index'

/**
 * Receipts that never matched an SMS hold a handset and the start of a text, and nothing will
 * read them again (the worker looks for their SMS for a day): deleted once past the cutoff.
 */
const unmatchedReceipts: PurgeStep = {
  name: 'unmatched_receipts',
  async pick(db, cutoff, limit) {
    const q = fromIndex(db, 'delivery_events', UNMATCHED_INDEX)
      .select('id')
      .whereNull('sms_id')
      .where('received_at', '<', cutoff)
      .limit(limit)
    return ((await q) as Array<{ id: number | string }>).map((r) => Number(r.id))
  },
  async apply(db, ids, cutoff) {
    if (ids.length === 0) return 0
    // Matched meanwhile: then it is the SMS's receipt, and goes with the SMS's purge instead.
    if (isMysql(db)) {
      // A single-table DELETE takes no index hint; this form does (see byPrimaryKey).
      const [result] = await db.raw(
        `DELETE e FROM delivery_events AS e FORCE INDEX (PRIMARY) WHERE e.id IN (${ids.map(() => '?').join(', ')}) AND e.sms_id IS NULL AND e.received_at < ?`,
        [...ids, cutoff],
      )
      return Number((result as { affectedRows: number }).affectedRows)
    }
    return db('delivery_events')
      .whereIn('id', ids)
      .whereNull('sms_id')
      .where('received_at', '<', cutoff)
      .delete()
  },
  async count(db, cutoff) {
    const [row] = (await fromIndex(db, 'delivery_events', UNMATCHED_INDEX)
      .whereNull('sms_id')
      .where('received_at', '<', cutoff)
      .count({ n: '*' })) as Array<{ n: number | string }>
    return Number(row.n)
  },
}

const STEPS = new Map<PurgeStepName, PurgeStep>([
  ...ROW_PURGES.map((p) => [p.name, rowStep(p)] as const),
  ['unmatched_receipts', unmatchedReceipts],
])

export function purgeStep(name: PurgeStepName): PurgeStep {
  return STEPS.get(name) as PurgeStep
}

/** The steps that remove one kind of data. */
export function stepsFor(kind: PurgeKind): PurgeStep[] {
  return [purgeStep(`outbound_${kind}`), purgeStep(`inbound_${kind}`)]
}
