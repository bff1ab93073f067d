import type { Db } from './connection'
import { isDatabaseUnreachable } from './errors'
import { isSchemaCurrent } from './migrate'

/** What a caller gets at once, without a query, while the database is known to be down. */
export class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError'
  readonly code = 'MAIL2SMS_DATABASE_DOWN'
}

export interface DatabaseHealthOptions {
  /**
   * Resolves when the database answers and is usable (its schema current); rejects, or
   * resolves false, otherwise. Bounded by its own timeout.
   */
  probe: () => Promise<boolean>
  /** How often a down database is probed. */
  probeEveryMs?: number
  log?: (line: string) => void
  /** Ends the "down" log lines: what callers get meanwhile, e.g. "answering 451". */
  meanwhile?: string
  clock?: () => number
}

/**
 * Health gate in front of a database: after a statement fails because the server is out of
 * reach (refused, reset or silent past the query timeout), callers are turned away at once
 * instead of each waiting for its own timeout, while a background probe checks every second or
 * so; the first success opens the gate again. Starts closed, until the first probe succeeds:
 * a process may start before its database. One log line when it closes, one when it opens.
 */
export class DatabaseHealth {
  private state: 'starting' | 'up' | 'down' = 'starting'
  private since: number
  private reason = 'not checked yet'
  private timer: NodeJS.Timeout | null = null
  private probing: Promise<boolean> | null = null
  private closed = false
  private readonly log: (line: string) => void
  private readonly clock: () => number
  private readonly probeEveryMs: number
  private readonly meanwhile: string

  constructor(private readonly opts: DatabaseHealthOptions) {
    this.log = opts.log ?? (() => undefined)
    this.clock = opts.clock ?? Date.now
    this.probeEveryMs = opts.probeEveryMs ?? 1000
    this.meanwhile = opts.meanwhile ?? 'waiting'
    this.since = this.clock()
  }

  get up(): boolean {
    return this.state === 'up'
  }

  /** Probes now and keeps probing until the database is usable; resolves with the first answer. */
  start(): Promise<boolean> {
    return this.probeNow()
  }

  /** Throws DatabaseUnavailableError while the gate is closed. */
  check(): void {
    if (this.state === 'up') return
    const seconds = Math.round((this.clock() - this.since) / 1000)
    throw new DatabaseUnavailableError(
      this.state === 'starting'
        ? `database not ready: ${this.reason}`
        : `database unavailable for ${seconds} s: ${this.reason}`,
    )
  }

  /** Runs fn if the gate is open; a failure that shows the server out of reach closes it. */
  async guard<T>(fn: () => Promise<T>): Promise<T> {
    // The first answer is awaited: a client arriving as the process starts is not refused on
    // a database nobody has asked yet.
    if (this.state === 'starting' && this.probing) await this.probing
    this.check()
    try {
      return await fn()
    } catch (err) {
      this.noteFailure(err)
      throw err
    }
  }

  noteFailure(err: unknown): void {
    if (this.state !== 'up' || !isDatabaseUnreachable(err)) return
    this.state = 'down'
    this.since = this.clock()
    this.reason = describe(err)
    this.log(`database unavailable: ${this.reason}; ${this.meanwhile} until it is back`)
    this.schedule()
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
  }

  private schedule(): void {
    if (this.closed || this.timer || this.state === 'up') return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.probeNow()
    }, this.probeEveryMs)
    this.timer.unref()
  }

  private probeNow(): Promise<boolean> {
    this.probing ??= this.opts
      .probe()
      .then((ok) => {
        if (!ok) throw new Error('its schema is not current (migrations pending)')
        if (this.state !== 'up') {
          const seconds = ((this.clock() - this.since) / 1000).toFixed(1)
          this.log(
            this.state === 'starting'
              ? 'database ready'
              : `database available again after ${seconds} s`,
          )
        }
        this.state = 'up'
        return true
      })
      .catch((err: unknown) => {
        const reason = describe(err)
        if (this.state === 'starting' && reason !== this.reason) {
          this.log(`database not ready: ${reason}; ${this.meanwhile} until it is`)
        }
        if (this.state === 'up') {
          this.state = 'down'
          this.since = this.clock()
          this.log(`database unavailable: ${reason}; ${this.meanwhile} until it is back`)
        }
        this.reason = reason
        return false
      })
      .finally(() => {
        this.probing = null
        this.schedule()
      })
    return this.probing
  }
}

/**
 * The usual probe: the server answers, and every migration this build knows is applied
 * (checked until true once, then cached: schemas do not go back).
 */
export function usableDatabaseProbe(db: Db): () => Promise<boolean> {
  let schemaCurrent = false
  return async () => {
    await db.raw('select 1')
    schemaCurrent ||= await isSchemaCurrent(db)
    return schemaCurrent
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string } | null
  const message = e?.message || String(err)
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message
}
