import type { Db } from './connection'
import { isDeadlock } from './errors'
import { upsertReturns } from './upsert-returning'
import {
  addAndReadCounters,
  addToCounters,
  readCounters,
  type CounterDelta,
} from './usage-counters'

/** A spend check waiting for its counters. */
interface Waiting {
  counters: readonly CounterDelta[]
  resolve(values: Map<string, number>): void
  reject(err: unknown): void
}

/** Most counters read in one statement; a burst larger than this is read in several. */
const MAX_READ_KEYS = 1000
/** Counters kept for the next try when the database refuses them, at most (then dropped). */
const MAX_PENDING_KEYS = 10_000
/** Two MX nodes raising the same counters can deadlock (Galera: a certification conflict). */
const DEADLOCK_TRIES = 3
/**
 * Least time from the start of one statement to the start of the next. A statement takes well
 * under a millisecond, so under load one started as soon as the last one ends carries about one
 * message's check, and the counters cost the MX a round trip per message. Spaced out, one
 * statement serves the checks of every message that reached the end of DATA meanwhile: at
 * 2,500 messages a second that is five, and a check waits at most this much longer. A lone
 * message (the last statement long past) is read at once.
 */
const ROUND_SPACING_MS = 2

/**
 * The MX's spend counters, read and raised by one statement at a time per process.
 *
 * The commits hand over what their emails used (`add`), summed per counter; the spend checks
 * ask for their counters (`read`). Each statement carries everything that came since the last
 * one: where an upsert can return rows (MariaDB, SQLite) it is a single upsert that adds the
 * pending amounts, makes the rows of new windows, and returns every counter the waiting checks
 * asked for, as they are after the addition; on MySQL, the upsert, then a read. So under load
 * one statement serves the counters of dozens of messages, and a check always sees the SMS
 * this process committed before it started: they are added in its statement or an earlier one.
 *
 * The counters lag the committed SMS by that statement (milliseconds); a process killed in
 * between loses that much count. Amounts the database refuses are kept and added with the
 * next statement (up to MAX_PENDING_KEYS counters, then dropped): a failure there costs the
 * limits a little accuracy, never an SMS, and never fails a check that could still be read.
 */
export class CounterSync {
  private pending = new Map<string, CounterDelta>()
  private readonly waiting: Waiting[] = []
  private running: Promise<void> | null = null
  /** Kept amounts are retried with the next add() or read(), not in a loop against a dead DB. */
  private holding = false
  private readonly spacingMs: number
  /** When the last statement started (performance.now()). */
  private lastStart = -Infinity
  readonly stats = { reads: 0, checks: 0, writes: 0, errors: 0, dropped: 0 }

  constructor(
    private readonly db: Db,
    private readonly log: (line: string) => void,
    /** Least time between the starts of two statements (ROUND_SPACING_MS). */
    options: { spacingMs?: number } = {},
  ) {
    this.spacingMs = options.spacingMs ?? ROUND_SPACING_MS
  }

  add(deltas: readonly CounterDelta[]): void {
    if (deltas.length === 0) return
    for (const d of deltas) {
      const known = this.pending.get(d.key)
      if (known) known.amount += d.amount
      else this.pending.set(d.key, { ...d })
    }
    this.holding = false
    this.pump()
  }

  /**
   * The amounts of `counters` (their `amount` is ignored; `expiresAt` dates a row made for one),
   * counting everything added before this call. A key without a row is absent or 0.
   */
  read(counters: readonly CounterDelta[]): Promise<Map<string, number>> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ counters, resolve, reject })
      this.holding = false
      this.pump()
    })
  }

  /** Resolves once everything added so far is written (or given up). */
  async drain(): Promise<void> {
    while (this.running) await this.running
  }

  private pump(): void {
    if (this.running || this.holding) return
    if (this.pending.size === 0 && this.waiting.length === 0) return
    // Started after the current turn of the event loop, so that every check and commit that
    // the same batch of socket reads produced rides on it; under load, once ROUND_SPACING_MS
    // have passed since the last one started.
    const wait = this.lastStart + this.spacingMs - performance.now()
    this.running = new Promise<void>((resolve) =>
      wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve),
    )
      .then(() => this.round())
      .finally(() => {
        this.running = null
        this.pump()
      })
  }

  private async round(): Promise<void> {
    this.lastStart = performance.now()
    const deltas = this.pending
    this.pending = new Map()
    const group = this.takeGroup()
    // Asked of the server once per pool; while it cannot be asked, the two-statement way.
    if (await upsertReturns(this.db).catch(() => false)) {
      try {
        const rows = [...deltas.values()]
        for (const w of group)
          for (const c of w.counters) rows.push({ key: c.key, amount: 0, expiresAt: c.expiresAt })
        const values = await retryDeadlocks(() => addAndReadCounters(this.db, rows))
        if (deltas.size > 0) this.stats.writes += 1
        this.serve(group, values)
        return
      } catch (err) {
        // Nothing to write: the read itself failed, and its checks with it. With amounts to
        // write, they may be what the database refused: write and read apart, so that one bad
        // amount cannot fail every check after it.
        if (deltas.size === 0) return this.fail(group, err)
      }
    }
    if (deltas.size > 0) await this.write(deltas)
    if (group.length === 0) return
    try {
      const keys = [...new Set(group.flatMap((w) => w.counters.map((c) => c.key)))]
      this.serve(group, (await readCounters(this.db, keys, [])).counters)
    } catch (err) {
      this.fail(group, err)
    }
  }

  private async write(deltas: Map<string, CounterDelta>): Promise<void> {
    try {
      await retryDeadlocks(() => addToCounters(this.db, [...deltas.values()]))
      this.stats.writes += 1
    } catch (err) {
      this.stats.errors += 1
      this.keepForLater(deltas)
      this.log(
        `spend counters not updated (${deltas.size} kept for the next try): ${(err as Error).message}`,
      )
    }
  }

  private takeGroup(): Waiting[] {
    const group: Waiting[] = []
    let size = 0
    while (this.waiting.length > 0) {
      const n = this.waiting[0].counters.length
      if (group.length > 0 && size + n > MAX_READ_KEYS) break
      group.push(this.waiting.shift() as Waiting)
      size += n
    }
    return group
  }

  /** Each check gets its own map: a shared one could be changed by another's plan. */
  private serve(group: Waiting[], values: Map<string, number>): void {
    if (group.length === 0) return
    this.stats.reads += 1
    this.stats.checks += group.length
    for (const w of group) {
      const own = new Map<string, number>()
      for (const c of w.counters) {
        const v = values.get(c.key)
        if (v !== undefined) own.set(c.key, v)
      }
      w.resolve(own)
    }
  }

  private fail(group: Waiting[], err: unknown): void {
    for (const w of group) w.reject(err)
  }

  /** Folds a failed batch back in; past the cap the database is long gone and they are dropped. */
  private keepForLater(batch: Map<string, CounterDelta>): void {
    this.holding = this.waiting.length === 0
    if (this.pending.size + batch.size > MAX_PENDING_KEYS) {
      this.stats.dropped += batch.size
      return
    }
    for (const d of batch.values()) {
      const known = this.pending.get(d.key)
      if (known) known.amount += d.amount
      else this.pending.set(d.key, d)
    }
  }
}

async function retryDeadlocks<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run()
    } catch (err) {
      if (attempt >= DEADLOCK_TRIES || !isDeadlock(err)) throw err
    }
  }
}
