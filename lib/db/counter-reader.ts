import type { Db } from './connection'
import { readCounters, type CounterSnapshot } from './usage-counters'

interface Waiting {
  keys: readonly string[]
  dedupeKeys: readonly string[]
  resolve(snapshot: CounterSnapshot): void
  reject(err: unknown): void
}

/** Most keys in one read; a burst larger than this is read in several. */
const MAX_KEYS = 1000

/**
 * Group reads for the spend check, as the outbox writer groups inserts: messages whose check
 * starts while a read is running are served together by the next one. A lone message is read
 * at once; under load one statement serves many messages, so the limits cost the database and
 * the MX little more than they do at rest. Each message sees the counters as of its read.
 */
export class CounterReader {
  private readonly waiting: Waiting[] = []
  private reading = false
  readonly stats = { reads: 0, checks: 0 }

  constructor(private readonly db: Db) {}

  read(keys: readonly string[], dedupeKeys: readonly string[]): Promise<CounterSnapshot> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ keys, dedupeKeys, resolve, reject })
      this.pump()
    })
  }

  private pump(): void {
    if (this.reading || this.waiting.length === 0) return
    const group: Waiting[] = []
    let size = 0
    while (this.waiting.length > 0) {
      const next = this.waiting[0]
      const n = next.keys.length + next.dedupeKeys.length
      if (group.length > 0 && size + n > MAX_KEYS) break
      group.push(this.waiting.shift() as Waiting)
      size += n
    }
    this.reading = true
    void this.readFor(group).finally(() => {
      this.reading = false
      this.pump()
    })
  }

  private async readFor(group: Waiting[]): Promise<void> {
    this.stats.reads += 1
    this.stats.checks += group.length
    try {
      const keys = new Set(group.flatMap((w) => w.keys))
      const dedupeKeys = new Set(group.flatMap((w) => w.dedupeKeys))
      const all = await readCounters(this.db, [...keys], [...dedupeKeys])
      for (const w of group) {
        // Each message gets its own view: a shared Map could be changed by another's plan.
        w.resolve({
          counters: new Map(
            w.keys.flatMap((k) =>
              all.counters.has(k) ? [[k, all.counters.get(k) as number]] : [],
            ),
          ),
          stored: new Set(w.dedupeKeys.filter((k) => all.stored.has(k))),
        })
      }
    } catch (err) {
      for (const w of group) w.reject(err)
    }
  }
}
