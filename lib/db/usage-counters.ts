import { isMysql, type Db } from './connection'
import { storedDedupeKeysSql } from './outbound/enqueue'
import { runStatement } from './statement'
import { marks, sqlPerCount, tuples } from './sql-text'

/** One counter to raise once a message's SMS are committed. */
export interface CounterDelta {
  key: string
  amount: number
  /** When the counter's window is over and the row may be deleted. */
  expiresAt: number
}

export interface CounterSnapshot {
  /** Counter key → amount used so far (absent: nothing yet in that window). */
  counters: Map<string, number>
  /** The dedupe keys already stored: a retried email's SMS, which count nothing again. */
  stored: Set<string>
}

/**
 * What a message's spend check needs, in one statement: the counters of its windows and which
 * of its SMS are already stored (a retry of an email the MX took before). This is the only
 * statement the limits add per message on the MX's hot path.
 */
export async function readCounters(
  db: Db,
  keys: readonly string[],
  dedupeKeys: readonly string[],
): Promise<CounterSnapshot> {
  const snapshot: CounterSnapshot = { counters: new Map(), stored: new Set() }
  if (keys.length === 0 && dedupeKeys.length === 0) return snapshot
  // Plain SQL, made once per shape: this runs for every message, and knex's builder would cost
  // more CPU than the query itself. An empty list is padded with '' (no key is empty).
  const c = Math.max(1, keys.length)
  const s = Math.max(1, dedupeKeys.length)
  const rows = await runStatement<Array<{ kind: string; name: string; value: unknown }>>(
    db,
    'select',
    readSql(c, s),
    [...padded(keys, c), ...padded(dedupeKeys, s)],
  )
  for (const row of rows) {
    if (row.kind === 'c') snapshot.counters.set(row.name, Number(row.value))
    else snapshot.stored.add(row.name)
  }
  return snapshot
}

const readSqlCache = new Map<string, string>()

function readSql(counters: number, stored: number): string {
  const shape = `${counters}:${stored}`
  let sql = readSqlCache.get(shape)
  if (!sql) {
    sql =
      `select 'c' as kind, counter_key as name, used as value from usage_counters ` +
      `where counter_key in (${marks(counters)}) ` +
      `union all ${storedDedupeKeysSql(stored)}`
    readSqlCache.set(shape, sql)
  }
  return sql
}

const padded = (list: readonly string[], n: number) => (list.length ? list : Array(n).fill(''))

/** Adds to several counters in one statement, creating the rows of new windows. */
export async function addToCounters(db: Db, deltas: readonly CounterDelta[]): Promise<void> {
  // Sorted, so that two writers on MySQL lock the rows in the same order and never deadlock.
  const sorted = sortedSums(deltas)
  if (sorted.length === 0) return
  await runStatement(
    db,
    'insert',
    upsertSql(sorted.length, isMysql(db)),
    sorted.flatMap((d) => [d.key, d.amount, d.expiresAt]),
  )
}

/**
 * Adds `deltas` and reads back every counter they name, in one statement: what the MX's spend
 * check needs where upserts can return rows (see ./upsert-returning.ts). A counter only read
 * comes with an amount of 0: its row is made if it is missing, as the message's commit would
 * make it, and expires with its window. Map of counter key → amount after the addition.
 */
export async function addAndReadCounters(
  db: Db,
  deltas: readonly CounterDelta[],
): Promise<Map<string, number>> {
  const result = new Map<string, number>()
  const sorted = sortedSums(deltas)
  if (sorted.length === 0) return result
  const rows = await runStatement<Array<{ counter_key: string; used: unknown }>>(
    db,
    'insert',
    upsertReturningSql(sorted.length, isMysql(db)),
    sorted.flatMap((d) => [d.key, d.amount, d.expiresAt]),
  )
  for (const row of rows) result.set(row.counter_key, Number(row.used))
  return result
}

/** Deltas summed per counter, sorted by key: see addToCounters. */
function sortedSums(deltas: readonly CounterDelta[]): CounterDelta[] {
  const merged = new Map<string, CounterDelta>()
  for (const d of deltas) {
    const known = merged.get(d.key)
    if (known) known.amount += d.amount
    else merged.set(d.key, { ...d })
  }
  return [...merged.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

function upsertText(rows: number, mysql: boolean): string {
  const insert = `insert into usage_counters (counter_key, used, expires_at) values ${tuples(rows, 3)}`
  return mysql
    ? `${insert} on duplicate key update used = used + values(used)`
    : `${insert} on conflict (counter_key) do update set used = used + excluded.used`
}

/** The counters' upsert for `rows` rows, written once per shape (it runs per group commit). */
const upsertSql = sqlPerCount(upsertText)
/** The same upsert, returning each counter as it is after the addition. */
const upsertReturningSql = sqlPerCount(
  (rows, mysql) => `${upsertText(rows, mysql)} returning counter_key, used`,
)

/** Rows of windows that are over; run now and then, off the hot path. */
export async function deleteExpiredCounters(db: Db, now = Date.now()): Promise<number> {
  return db('usage_counters').where('expires_at', '<', now).delete()
}

/**
 * At most `max` uses of `key` per `windowMs`. Windows are aligned on the epoch (a 60-minute
 * window is a UTC hour), like the spend limits' windows, and live in the same counters.
 */
export interface Quota {
  key: string
  max: number
  windowMs: number
}

export interface QuotaRefusal {
  /** When every full key has room again. */
  until: number
  /** The keys that were full. */
  keys: string[]
}

/** A window's row is kept a day past its end, as the spend counters are; the worker deletes it. */
const KEEP_AFTER_WINDOW_MS = 86_400_000

function windowOf(q: Quota, now: number): { counter: string; end: number } {
  const index = Math.floor(now / q.windowMs)
  return { counter: `${q.key}:${index}`, end: (index + 1) * q.windowMs }
}

function deltas(quotas: readonly Quota[], amount: number, now: number): CounterDelta[] {
  return quotas.map((q) => {
    const w = windowOf(q, now)
    return { key: w.counter, amount, expiresAt: w.end + KEEP_AFTER_WINDOW_MS }
  })
}

/**
 * Takes one use of every quota, or none: counted first (one upsert, so processes racing each
 * other all count), then read, and taken back from every key if one went past its limit.
 * Null when the uses are taken.
 */
export async function takeQuota(
  db: Db,
  quotas: readonly Quota[],
  now = Date.now(),
): Promise<QuotaRefusal | null> {
  await addToCounters(db, deltas(quotas, 1, now))
  const windows = quotas.map((q) => ({ q, ...windowOf(q, now) }))
  const { counters } = await readCounters(
    db,
    windows.map((w) => w.counter),
    [],
  )
  const full = windows.filter((w) => (counters.get(w.counter) ?? 0) > w.q.max)
  if (full.length === 0) return null
  await giveBackQuota(db, quotas, now)
  return { until: Math.max(...full.map((f) => f.end)), keys: full.map((f) => f.q.key) }
}

/** Takes back the use taken at `now`: a refused request, or a mail that could not be sent. */
export async function giveBackQuota(
  db: Db,
  quotas: readonly Quota[],
  now = Date.now(),
): Promise<void> {
  await addToCounters(db, deltas(quotas, -1, now))
}
