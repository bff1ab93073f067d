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

  constructor(
    private readonly db: Db,
    /**
     * This process's counter writes: a read waits for the ones started before its checks did,
     * so that a message always sees the SMS this process took before it (see pump()).
     */
    private readonly writes: { settled(): Promise<void> | null } | null = null,
  ) {}

  read(keys: readonly string[], dedupeKeys: readonly string[]): Promise<CounterSnapshot> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ keys, dedupeKeys, resolve, reject })
      this.pump()
    })
  }

  private pump(): void {
    if (this.reading || this.waiting.length === 0) return
    this.reading = true
    const writing = this.writes?.settled() ?? null
    // The checks waiting now are served once the writes started before them are in; those that
    // arrive meanwhile join them only if no write was started since (else the next read).
    const present = this.waiting.length
    const read = writing
      ? writing.then(() =>
          this.readFor(this.takeGroup(this.writes?.settled() ? present : Infinity)),
        )
      : this.readFor(this.takeGroup(Infinity))
    void read.finally(() => {
      this.reading = false
      this.pump()
    })
  }

  private takeGroup(most: number): Waiting[] {
    const group: Waiting[] = []
    let size = 0
    while (this.waiting.length > 0 && group.length < most) {
      const next = this.waiting[0]
      const n = next.keys.length + next.dedupeKeys.length
      if (group.length > 0 && size + n > MAX_KEYS) break
      group.push(this.waiting.shift() as Waiting)
      size += n
    }
    return group
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
