import type { Db } from './connection'
import { addToCounters, type CounterDelta } from './usage-counters'

/** Counters kept for the next try when the database refuses them, at most (then dropped). */
const MAX_PENDING_KEYS = 10_000

/**
 * Raises spend counters off the commit path: deltas from many emails are summed per counter
 * and written by one statement at a time, so under load one upsert of a handful of rows serves
 * hundreds of messages, and the SMS inserts never wait for it. The counters lag the committed
 * SMS by that one statement (milliseconds); a process killed in between loses that much count.
 */
export class CounterWriter {
  private pending = new Map<string, CounterDelta>()
  private running: Promise<void> | null = null
  /** Calls of add() with deltas, and how many of them are written (or failed): see settled(). */
  private added = 0
  private settledUpTo = 0
  private waiters: Array<{ target: number; resolve(): void }> = []
  readonly stats = { writes: 0, errors: 0, dropped: 0 }

  constructor(
    private readonly db: Db,
    private readonly log: (line: string) => void,
  ) {}

  add(deltas: readonly CounterDelta[]): void {
    for (const d of deltas) {
      const known = this.pending.get(d.key)
      if (known) known.amount += d.amount
      else this.pending.set(d.key, { ...d })
    }
    if (deltas.length > 0) this.added += 1
    if (this.pending.size > 0) this.running ??= this.writeAll()
  }

  /**
   * Null when everything added so far is written; else a promise of that (or of its failure).
   * The spend check waits for it before it reads, so that this process's own SMS are always
   * counted: without it, a counter statement slower than the client's next message (a loaded
   * database) let that message through on counters that did not have the last one yet. Under
   * load that is one statement at most, and reads that wait are grouped all the more.
   */
  settled(): Promise<void> | null {
    if (this.settledUpTo >= this.added) return null
    const target = this.added
    return new Promise((resolve) => this.waiters.push({ target, resolve }))
  }

  private settle(upTo: number): void {
    this.settledUpTo = Math.max(this.settledUpTo, upTo)
    if (this.waiters.length === 0) return
    const still = []
    for (const w of this.waiters) {
      if (w.target <= this.settledUpTo) w.resolve()
      else still.push(w)
    }
    this.waiters = still
  }

  /** Resolves once everything added so far is written (or given up). */
  async drain(): Promise<void> {
    while (this.running) await this.running
  }

  private async writeAll(): Promise<void> {
    try {
      while (this.pending.size > 0) {
        const batch = this.pending
        const upTo = this.added
        this.pending = new Map()
        try {
          await addToCounters(this.db, [...batch.values()])
          this.stats.writes += 1
          this.settle(upTo)
        } catch (err) {
          this.stats.errors += 1
          this.keepForLater(batch)
          this.log(
            `spend counters not updated (${batch.size} kept for the next try): ${(err as Error).message}`,
          )
          return
        }
      }
    } finally {
      this.running = null
      // A failed write ends the loop with deltas kept for later: nobody waits on those.
      this.settle(this.added)
    }
  }

  /** Folds a failed batch back in; past the cap the database is long gone and they are dropped. */
  private keepForLater(batch: Map<string, CounterDelta>): void {
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
