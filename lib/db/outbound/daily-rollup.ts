/**
 * SMS counted per account, local day, status and sender, however large outbound_sms grows.
 *
 * Database triggers on outbound_sms (migrations/20261206120300_create_sms_daily_triggers.ts)
 * append a delta row to sms_daily_delta for every SMS stored (+1) and every change of status
 * (−1 on the old, +1 on the new), in the transaction of the change, whatever code makes it.
 * The worker folds those deltas into sms_daily_rollup and deletes them (foldDailyDeltas); a
 * reader adds the rollup and the deltas not folded yet, in one statement, so its counts are
 * exact whether the fold ran a second ago or an hour ago. The fold also keeps sms_daily_totals,
 * the same counts without the sender, for readers that need no sender (the admin's chart): a
 * few rows a day to read rather than one per sender.
 *
 * Days are local days of the account's zone when the MX took the SMS (outbound_sms.local_day,
 * days since 1970-01-01; see lib/time/zone.ts). An account that changes its zone keeps its past
 * SMS on the days they were counted on; only new SMS follow the new zone. SMS stored before
 * the counts existed are on their UTC day, the zone every account had then. Statuses are the
 * worker's, except 'sending' (a lease), counted as 'queued'. Deleting or blanking an SMS (the
 * retention purge) leaves its count: an SMS whose status changes after its sender's address
 * was blanked moves its count under the blank sender.
 */
import { isMysql, type Db } from '../connection'
import { retryingConflicts } from '../lease-claim'

const ROLLUP = 'sms_daily_rollup'
const TOTALS = 'sms_daily_totals'
const DELTA = 'sms_daily_delta'
const KEY = ['account_id', 'day', 'status', 'sender_email'] as const
const TOTALS_KEY = ['account_id', 'day', 'status'] as const

/** Deltas folded in one transaction by default: bounded, so that locks stay short. */
export const FOLD_BATCH = 5000
/** Rows per upsert statement (SQLite binds at most 32,766 values per statement). */
const UPSERT_ROWS = 500

export interface CountRow {
  day: number
  status: string
  /** Set when read by sender. */
  senderEmail?: string
  sms: number
  segments: number
}

/**
 * The counts of one account from day `first` to day `last` (both included), by day and status,
 * and by sender too when asked: the totals (or the rollup, by sender) plus the deltas not
 * folded yet. One statement, hence one snapshot on both backends: a fold committing meanwhile
 * (deltas deleted, counts raised) is seen whole or not at all, never half. Both halves are
 * read by (account_id, day) index prefixes: the cost depends on the days (and senders) read,
 * not on the SMS stored.
 */
export async function readDailyCounts(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<CountRow[]> {
  if (!Number.isInteger(first) || !Number.isInteger(last) || last < first) {
    throw new RangeError(`bad days ${first}..${last}`)
  }
  const group = 'day, status'
  const part = (table: string) =>
    `SELECT ${group}, sms, segments FROM ${table} WHERE account_id = ? AND day >= ? AND day <= ?`
  const folded = TOTALS
  const sql = `SELECT ${group}, SUM(sms) AS sms, SUM(segments) AS segments
    FROM (${part(folded)} UNION ALL ${part(DELTA)}) counted
    GROUP BY ${group}`
  const bindings = [accountId, first, last, accountId, first, last]
  const result = await db.raw(sql, bindings)
  const rows = (isMysql(db) ? result[0] : result) as Array<Record<string, unknown>>
  const counts: CountRow[] = []
  for (const r of rows) {
    // MySQL sums are DECIMAL, read as strings.
    const sms = Number(r.sms)
    const segments = Number(r.segments)
    if (sms === 0 && segments === 0) continue
    const row: CountRow = { day: Number(r.day), status: String(r.status), sms, segments }
    counts.push(row)
  }
  return counts
}

interface Delta {
  account_id: number
  day: number
  status: string
  sender_email: string
  sms: number
  segments: number
}

/**
 * The deltas summed by `key` (the sender is left out of the totals' key), in key order, so that
 * concurrent folds lock the rows they share in the same order.
 */
function sumByKey(deltas: Delta[], key: readonly (keyof Delta)[] = KEY): Delta[] {
  const sums = new Map<string, Delta>()
  for (const d of deltas) {
    const id = JSON.stringify(key.map((k) => d[k]))
    const known = sums.get(id)
    if (known) {
      known.sms += Number(d.sms)
      known.segments += Number(d.segments)
    } else {
      sums.set(id, {
        account_id: Number(d.account_id),
        day: Number(d.day),
        status: String(d.status),
        sender_email: String(d.sender_email),
        sms: Number(d.sms),
        segments: Number(d.segments),
      })
    }
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d)
}

/** Adds the deltas, folded by their key, to the rollup (by sender) and to the totals. */
async function addDeltas(trx: Db, deltas: Delta[]): Promise<void> {
  await addTo(trx, ROLLUP, KEY, sumByKey(deltas))
  await addTo(trx, TOTALS, TOTALS_KEY, sumByKey(deltas, TOTALS_KEY))
}

async function addTo(
  trx: Db,
  table: string,
  key: readonly (keyof Delta)[],
  sums: Delta[],
): Promise<void> {
  const mysql = isMysql(trx)
  const add = mysql
    ? 'ON DUPLICATE KEY UPDATE sms = sms + VALUES(sms), segments = segments + VALUES(segments)'
    : `ON CONFLICT (${key.join(', ')}) DO UPDATE SET sms = sms + excluded.sms, segments = segments + excluded.segments`
  const columns = [...key, 'sms', 'segments'] as Array<keyof Delta>
  for (let i = 0; i < sums.length; i += UPSERT_ROWS) {
    const chunk = sums
      .slice(i, i + UPSERT_ROWS)
      .filter((d) => d.sms !== 0 || d.segments !== 0)
      .map((d) => Object.fromEntries(columns.map((c) => [c, d[c]])))
    if (chunk.length === 0) continue
    const { sql, bindings } = trx(table).insert(chunk).toSQL().toNative()
    await trx.raw(`${sql} ${add}`, bindings)
  }
  // Counts that went down may have reached zero (yesterday's 'queued' once all were sent):
  // such rows are dropped, so the counts hold what there is, not every status ever passed.
  const lowered = new Map<string, { account_id: number; day: number }>()
  for (const d of sums) {
    if (d.sms < 0) lowered.set(`${d.account_id} ${d.day}`, { account_id: d.account_id, day: d.day })
  }
  const days = [...lowered.values()]
  for (let i = 0; i < days.length; i += UPSERT_ROWS) {
    const chunk = days.slice(i, i + UPSERT_ROWS)
    await trx(table)
      .where({ sms: 0, segments: 0 })
      .where((q) => {
        for (const d of chunk) q.orWhere(d)
      })
      .delete()
  }
}

/**
 * Folds up to `limit` of the oldest deltas into the rollup and the totals and deletes them, in
 * one transaction; returns how many it folded (0: none waiting, or every try lost them to another
 * fold). Several workers may fold at once:
 * - MySQL/MariaDB: the deltas are taken FOR UPDATE SKIP LOCKED (READ COMMITTED), so two folds
 *   take disjoint deltas, and each is added to the rollup by the one fold that deletes it. On
 *   Galera two nodes may take the same deltas: one commit then fails certification (1213), is
 *   rolled back whole and tried again, as the lease claims are.
 * - SQLite: the first statement deletes the deltas it folds, which takes the database's one
 *   write lock for the whole transaction.
 * The MX's inserts never wait on a fold: they append new deltas, which no fold has locked.
 */
export async function foldDailyDeltas(db: Db, limit = FOLD_BATCH): Promise<number> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad fold limit ${limit}`)
  const fold = isMysql(db) ? foldLocking : foldDeleting
  const { value } = await retryingConflicts(() => fold(db, limit))
  return value ?? 0
}

async function foldLocking(db: Db, limit: number): Promise<number> {
  return db.transaction(
    async (trx) => {
      const deltas = (await trx(DELTA)
        .select('id', ...KEY, 'sms', 'segments')
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked()) as Array<Delta & { id: number }>
      if (deltas.length === 0) return 0
      await addDeltas(trx, deltas)
      const ids = deltas.map((d) => Number(d.id))
      for (let i = 0; i < ids.length; i += 1000) {
        await trx(DELTA)
          .whereIn('id', ids.slice(i, i + 1000))
          .delete()
      }
      return deltas.length
    },
    { isolationLevel: 'read committed' },
  )
}

async function foldDeleting(db: Db, limit: number): Promise<number> {
  return db.transaction(async (trx) => {
    const deltas = (await trx.raw(
      `DELETE FROM ${DELTA} WHERE id IN (SELECT id FROM ${DELTA} ORDER BY id LIMIT ?)
       RETURNING ${KEY.join(', ')}, sms, segments`,
      [limit],
    )) as Delta[]
    if (deltas.length === 0) return 0
    await addDeltas(trx, deltas)
    return deltas.length
  })
}

/** Deltas waiting to be folded: how far the fold is behind (metrics, tests). */
export async function countUnfoldedDeltas(db: Db): Promise<number> {
  const row = (await db(DELTA).count({ n: '*' }).first()) as { n: number | string } | undefined
  return Number(row?.n ?? 0)
}

/**
 * Sums of the counts from day `first` to day `last`, grouped by one column: per sender (the
 * usage page's table) or per day (its charts). Summed in the database, the folded table and
 * the deltas each in a plain aggregate on their (account_id, day) index, then added here: a
 * UNION in a derived table would be copied to a temporary table first, a month of forty
 * senders being thousands of rows.
 */
async function sumCounts(
  db: Db,
  accountId: number,
  first: number,
  last: number,
  by: 'sender_email' | 'day',
): Promise<Map<string, { sms: number; segments: number }>> {
  if (!Number.isInteger(first) || !Number.isInteger(last) || last < first) {
    throw new RangeError(`bad days ${first}..${last}`)
  }
  const folded = by === 'sender_email' ? ROLLUP : TOTALS
  const sums = new Map<string, { sms: number; segments: number }>()
  for (const table of [folded, DELTA]) {
    const result = await db.raw(
      `SELECT ${by} AS k, SUM(sms) AS sms, SUM(segments) AS segments FROM ${table}
       WHERE account_id = ? AND day >= ? AND day <= ? GROUP BY ${by}`,
      [accountId, first, last],
    )
    const rows = (isMysql(db) ? result[0] : result) as Array<Record<string, unknown>>
    for (const r of rows) {
      const key = String(r.k ?? '')
      const known = sums.get(key) ?? { sms: 0, segments: 0 }
      // MySQL sums are DECIMAL, read as strings.
      known.sms += Number(r.sms)
      known.segments += Number(r.segments)
      sums.set(key, known)
    }
  }
  return sums
}

/** SMS and segments per sender from day `first` to day `last`: one row per sender. */
export async function readSenderTotals(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<Array<{ senderEmail: string; sms: number; segments: number }>> {
  const sums = await sumCounts(db, accountId, first, last, 'sender_email')
  return [...sums.entries()]
    .map(([senderEmail, s]) => ({ senderEmail, ...s }))
    .filter((r) => r.sms !== 0 || r.segments !== 0)
}

/** SMS and segments per day from day `first` to day `last`: day number → sums. */
export async function readDayTotals(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<Map<number, { sms: number; segments: number }>> {
  const sums = await sumCounts(db, accountId, first, last, 'day')
  return new Map([...sums.entries()].map(([day, s]) => [Number(day), s]))
}
