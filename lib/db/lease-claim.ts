/**
 * Work taken under a lease: the one claim and the one renewal of every table that several
 * processes share out (SMS to send, failure notices, inbound SMS to mail, quota alerts).
 *
 * A row is due once the time in its lease column has come. A claim writes the lease's end
 * there (and the caller's columns: a status, an owner, a try counter), so no other process
 * sees the row due until the holder renews the lease or dies and lets it run out. The holder's
 * later writes are fenced by what the claim wrote (its owner, or the lease's end itself), so a
 * holder whose lease ran out and whose row was taken again changes nothing.
 *
 * MySQL/MariaDB: SELECT … FOR UPDATE SKIP LOCKED in a READ COMMITTED transaction, so that
 * concurrent claims take disjoint rows without waiting on each other. On a Galera cluster the
 * row locks are each node's own: claims on two nodes may read the same rows, and one of the two
 * then fails with a deadlock error (certification) when the other's commit reaches its node.
 * That, and a lock wait timeout, means another process won: the claim is tried again a few
 * times after a short random pause, then returns what it has (nothing), never an error.
 * SQLite: one UPDATE … RETURNING per group of due rows, atomic under its single writer.
 */
import { performance } from 'node:perf_hooks'
import type { Knex } from 'knex'
import { isMysql, type Db } from './connection'
import { isLockConflict } from './errors'
import { noClaimObserver, type ClaimObserver } from '../ops/observers'

/** A table whose rows are claimed under lease; rows have an `id` primary key. */
export interface LeasedTable {
  /**
   * What the rows are to the service (sms, notices, inbound, quota_alerts): how its claims are
   * counted. Two kinds of work can share a table (SMS and their failure notices).
   */
  work: string
  table: string
  /** When the row is due; while it is claimed, when the lease ends. */
  leaseColumn: string
}

/** One group of due rows: the column values that name it (a status). */
export interface DueRows {
  where: Record<string, string | number>
  /** Rows with no time in the lease column are due too (never tried yet). */
  orUnleased?: boolean
}

export interface ClaimSpec extends LeasedTable {
  /**
   * The groups of due rows, taken in this order until the limit (rows whose holder died before
   * new ones, say); within a group, in the order of the lease column.
   */
  due: DueRows[]
  /** What else the claim writes on each row: a status, an owner, a try counter. */
  set: Record<string, unknown>
  /**
   * Columns to return of each row taken, as it was before the claim wrote `set`. MySQL reads
   * them in the locking read that takes the rows, which has them at hand: the caller is spared
   * reading the rows again. SQLite's claim returns ids only (`rows` is then undefined).
   */
  read?: readonly string[]
}

export interface ClaimRequest {
  limit: number
  leaseMs: number
  now: number
  observer?: ClaimObserver
}

export interface Claim {
  /** The rows taken (in no set order: callers read them back in theirs). */
  ids: number[]
  /** The lease's end, as written in the lease column. */
  leaseUntil: number
  /** With ClaimSpec.read, on MySQL: the rows taken, with those columns (and `id`). */
  rows?: Array<Record<string, unknown>>
}

/** Tries of one claim or renewal that lost its rows to another transaction, then it gives up. */
export const CONFLICT_TRIES = 4
/** The pause before the next try: random, up to this, doubling each time. */
const CONFLICT_PAUSE_MS = 10

/** Takes up to `limit` due rows under a lease that ends at now + leaseMs. */
export async function claimUnderLease(
  db: Db,
  spec: ClaimSpec,
  request: ClaimRequest,
): Promise<Claim> {
  const started = performance.now()
  const leaseUntil = request.now + request.leaseMs
  const claim = isMysql(db) ? claimLocking : claimReturning
  const { value, conflicts } = await retryingConflicts(() => claim(db, spec, request, leaseUntil))
  const taken = value ?? { ids: [] }
  const seconds = (performance.now() - started) / 1000
  ;(request.observer ?? noClaimObserver).claimed(spec.work, taken.ids.length, seconds, conflicts)
  return { ...taken, leaseUntil }
}

/**
 * Moves the lease of the rows matching `held` (the columns that prove they are still the
 * caller's) to end at `until`. Returns how many rows it moved: 0 when none is held any more,
 * or when another transaction kept winning them.
 */
export async function renewLease(
  db: Db,
  table: LeasedTable,
  held: Record<string, string | number>,
  until: number,
): Promise<number> {
  const { value } = await retryingConflicts(() =>
    db(table.table)
      .where(held)
      .update({ [table.leaseColumn]: until }),
  )
  return value ?? 0
}

function dueQuery(
  q: Knex.QueryBuilder,
  spec: ClaimSpec,
  rows: DueRows,
  now: number,
  limit: number,
  columns: readonly string[] = ['id'],
): Knex.QueryBuilder {
  const lease = spec.leaseColumn
  return q
    .select(columns)
    .where(rows.where)
    .where((w) => {
      w.where(lease, '<=', now)
      if (rows.orUnleased) w.orWhereNull(lease)
    })
    .orderBy(lease)
    .limit(limit)
}

type Taken = Pick<Claim, 'ids' | 'rows'>

async function claimLocking(
  db: Db,
  spec: ClaimSpec,
  request: ClaimRequest,
  leaseUntil: number,
): Promise<Taken> {
  const columns = spec.read ? ['id', ...spec.read.filter((c) => c !== 'id')] : ['id']
  return db.transaction(
    async (trx) => {
      // One SELECT per group, each read in the order of its (status, lease) index: with several
      // statuses in one IN list MariaDB sorts, and locks, every due row.
      const taken: Array<Record<string, unknown>> = []
      for (const rows of spec.due) {
        if (taken.length >= request.limit) break
        const due = await dueQuery(
          trx(spec.table),
          spec,
          rows,
          request.now,
          request.limit - taken.length,
          columns,
        )
          .forUpdate()
          .skipLocked()
        taken.push(...due)
      }
      const ids = taken.map((r) => Number(r.id))
      if (ids.length > 0) {
        await trx(spec.table)
          .whereIn('id', ids)
          .update({ ...spec.set, [spec.leaseColumn]: leaseUntil })
      }
      return spec.read ? { ids, rows: taken } : { ids }
    },
    // READ COMMITTED: under REPEATABLE READ the scan takes next-key locks to the end of the
    // index, and the UPDATE's new entries then deadlock with the inserts of new rows.
    { isolationLevel: 'read committed' },
  )
}

async function claimReturning(
  db: Db,
  spec: ClaimSpec,
  request: ClaimRequest,
  leaseUntil: number,
): Promise<Taken> {
  const taken: number[] = []
  for (const rows of spec.due) {
    if (taken.length >= request.limit) break
    const due = dueQuery(db(spec.table), spec, rows, request.now, request.limit - taken.length)
    const claimed = await db(spec.table)
      .whereIn('id', due)
      .update({ ...spec.set, [spec.leaseColumn]: leaseUntil })
      .returning('id')
    taken.push(
      ...claimed.map((r: { id: number } | number) => Number(typeof r === 'object' ? r.id : r)),
    )
  }
  return { ids: taken }
}

/**
 * Runs `work` until it is not a lock conflict's victim, at most CONFLICT_TRIES times. `value` is
 * undefined when every try lost; other errors are thrown as they are. `work` must be a whole
 * transaction: a conflict rolled it back.
 */
export async function retryingConflicts<T>(
  work: () => Promise<T>,
): Promise<{ value: T | undefined; conflicts: number }> {
  let conflicts = 0
  for (;;) {
    try {
      return { value: await work(), conflicts }
    } catch (err) {
      if (!isLockConflict(err)) throw err
      conflicts += 1
      if (conflicts >= CONFLICT_TRIES) return { value: undefined, conflicts }
      // Random, so that two nodes that collided do not collide again on their next try.
      const pause = Math.random() * CONFLICT_PAUSE_MS * 2 ** (conflicts - 1)
      await new Promise((resolve) => setTimeout(resolve, pause))
    }
  }
}
