import crypto from 'node:crypto'
import type { Db } from './connection'
import { isDeadlock } from './errors'
import { insertEmails, type EnqueueResult, type NewSms } from './outbound'
import type { CounterDelta } from './usage-counters'
import { CounterSync } from './counter-sync'

interface Waiting {
  items: NewSms[]
  /** Spend counters to raise once the email's SMS are committed. */
  usage: CounterDelta[]
  resolve(result: EnqueueResult): void
  reject(err: unknown): void
}

export interface OutboxWriterOptions {
  /** Statements in flight at once; more emails wait and go together in the next one. */
  maxInFlight?: number
  /** Most rows in one statement. */
  maxRows?: number
  /** Where a failed counter update is reported (the SMS are committed all the same). */
  log?: (line: string) => void
}

/**
 * Group commit for the MX: emails that arrive while an insert is running are written together
 * by the next one, so under load one statement and one log flush serve many messages, while
 * a lone message is written at once, with no added wait. Every caller still learns the outcome
 * of its own email before it answers the client.
 */
export class OutboxWriter {
  private readonly waiting: Waiting[] = []
  private inFlight = 0
  private scheduled = false
  /** Statements issued and emails written, for logs and tests. */
  readonly stats = { flushes: 0, emails: 0 }
  /** Raises the spend counters of committed emails, beside the inserts rather than after them. */
  readonly counters: CounterSync
  private readonly maxInFlight: number
  private readonly maxRows: number

  constructor(
    private readonly db: Db,
    options: OutboxWriterOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 1
    this.maxRows = options.maxRows ?? 200
    this.counters = new CounterSync(db, options.log ?? ((line) => console.error(line)))
  }

  /**
   * Commits one email's SMS; `usage` (the spend counters it moves) is added in one statement
   * per group after the commit, and only for emails whose SMS were new (not a retry).
   */
  write(items: NewSms[], usage: CounterDelta[] = []): Promise<EnqueueResult> {
    const batch = items[0]?.mxTransaction ?? crypto.randomUUID()
    return new Promise((resolve, reject) => {
      this.waiting.push({
        items: items.map((i) => ({ ...i, mxTransaction: batch })),
        usage,
        resolve,
        reject,
      })
      // After the current turn of the event loop: the emails whose checks one counter
      // statement answered all arrive in the same turn, and share one insert.
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => {
          this.scheduled = false
          this.pump()
        })
      }
    })
  }

  private pump(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.length > 0) {
      const group: Waiting[] = []
      let rows = 0
      while (
        this.waiting.length > 0 &&
        (group.length === 0 || rows + this.waiting[0].items.length <= this.maxRows)
      ) {
        const next = this.waiting.shift() as Waiting
        rows += next.items.length
        group.push(next)
      }
      this.inFlight += 1
      void this.flush(group).finally(() => {
        this.inFlight -= 1
        this.pump()
      })
    }
  }

  private async flush(group: Waiting[]): Promise<void> {
    this.stats.flushes += 1
    this.stats.emails += group.length
    try {
      const results = await insertEmails(
        this.db,
        group.map((w) => w.items),
      )
      this.count(group, results)
      group.forEach((w, i) => w.resolve(results[i]))
    } catch (err) {
      if (group.length === 1) return group[0].reject(err)
      // One bad email must not fail the others that happened to share its statement.
      const results = await Promise.all(
        group.map((w) =>
          insertOnce(this.db, [w.items]).then(
            ([result]) => (w.resolve(result), result),
            (e) => (w.reject(e), null),
          ),
        ),
      )
      this.count(group, results)
    }
  }

  /**
   * Hands the spend counters of the emails just committed to the counter writer, before their
   * clients get their answer, so the next message's check sees them. Only new SMS count: a
   * retried email's are already counted. A failure there costs the limits a little accuracy,
   * never an SMS.
   */
  private count(group: Waiting[], results: Array<EnqueueResult | null>): void {
    this.counters.add(
      group.flatMap((w, i) => {
        const r = results[i]
        return r && r.duplicates < r.ids.length ? w.usage : []
      }),
    )
  }
}

/** A deadlock victim is run again once: the other transaction has finished by then. */
async function insertOnce(db: Db, emails: NewSms[][]): Promise<EnqueueResult[]> {
  try {
    return await insertEmails(db, emails)
  } catch (err) {
    if (!isDeadlock(err)) throw err
    return insertEmails(db, emails)
  }
}
