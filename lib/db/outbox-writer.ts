import crypto from 'node:crypto'
import type { Db } from './connection'
import { isDeadlock } from './errors'
import { insertEmails, type EnqueueResult, type NewSms } from './outbound'

interface Waiting {
  items: NewSms[]
  resolve(result: EnqueueResult): void
  reject(err: unknown): void
}

export interface OutboxWriterOptions {
  /** Statements in flight at once; more emails wait and go together in the next one. */
  maxInFlight?: number
  /** Most rows in one statement. */
  maxRows?: number
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
  /** Statements issued and emails written, for logs and tests. */
  readonly stats = { flushes: 0, emails: 0 }
  private readonly maxInFlight: number
  private readonly maxRows: number

  constructor(
    private readonly db: Db,
    options: OutboxWriterOptions = {},
  ) {
    this.maxInFlight = options.maxInFlight ?? 1
    this.maxRows = options.maxRows ?? 200
  }

  write(items: NewSms[]): Promise<EnqueueResult> {
    const batch = items[0]?.mxTransaction ?? crypto.randomUUID()
    return new Promise((resolve, reject) => {
      this.waiting.push({
        items: items.map((i) => ({ ...i, mxTransaction: batch })),
        resolve,
        reject,
      })
      this.pump()
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
      group.forEach((w, i) => w.resolve(results[i]))
    } catch (err) {
      if (group.length === 1) return group[0].reject(err)
      // One bad email must not fail the others that happened to share its statement.
      await Promise.all(
        group.map((w) =>
          insertOnce(this.db, [w.items]).then(
            ([result]) => w.resolve(result),
            (e) => w.reject(e),
          ),
        ),
      )
    }
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
