/**
 * Takes MO messages from the SMPP client and stores them: each part through acceptMoPart, and
 * now and then a sweep for sets that completed without being stored or went stale.
 *
 * The SMSC already has its acknowledgement, so a message the database refuses (it is down for
 * a moment) is retried here, with backoff, for as long as the process runs; stop() waits a
 * little for those and logs any it has to give up.
 */

import type { Db } from '../db/connection'
import type { MoMessage } from '../smpp/client'
import { DEFAULT_STALE_AFTER_MS, acceptMoPart, sweepParts } from './assembly'
import { readMoPart } from './decode'
import type { IntakeLog } from './intake'

/** Retry delay once stopping: the grace is short, the database may be back any moment. */
const STOPPING_RETRY_MS = 100

/** Everything needed to store an MO by hand: its fields, octets and TLVs as hex. */
function describeMo(item: Pending): string {
  const { mo } = item
  return JSON.stringify({
    receivedAt: item.receivedAt,
    from: mo.from,
    fromTon: mo.fromTon,
    to: mo.to,
    toTon: mo.toTon,
    dataCoding: mo.dataCoding,
    esmClass: mo.esmClass,
    shortMessage: mo.shortMessage.toString('hex'),
    tlvs: Object.fromEntries([...mo.tlvs].map(([tag, value]) => [tag, value.toString('hex')])),
  })
}

export interface MoReceiverOptions {
  db: Db
  log?: IntakeLog
  clock?: () => number
  /** An incomplete long SMS older than this is stored with what came. */
  staleAfterMs?: number
  sweepEveryMs?: number
  retryInitialMs?: number
  retryMaxMs?: number
}

interface Pending {
  mo: MoMessage
  receivedAt: number
  attempts: number
  timer: NodeJS.Timeout | null
}

export class MoReceiver {
  readonly stats = { received: 0, stored: 0, retried: 0 }
  private readonly pending = new Set<Pending>()
  private readonly running = new Set<Promise<void>>()
  private sweepTimer: NodeJS.Timeout | null = null
  private stopped = false
  /** While stopping: retries go on, briskly, until this time. */
  private stopDeadline = 0
  private readonly log: IntakeLog
  private readonly clock: () => number

  constructor(private readonly opts: MoReceiverOptions) {
    this.log = opts.log ?? (() => undefined)
    this.clock = opts.clock ?? Date.now
  }

  start(): void {
    this.stopped = false
    this.sweep()
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepEveryMs ?? 60_000)
    this.sweepTimer.unref()
  }

  /** The 'mo' listener: returns at once, storing happens in the background. */
  readonly receive = (mo: MoMessage): void => {
    this.stats.received++
    const item: Pending = { mo, receivedAt: this.clock(), attempts: 0, timer: null }
    this.pending.add(item)
    this.attempt(item)
  }

  /** Stops sweeping and waits up to graceMs for messages being stored or retried. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    this.sweepTimer = null
    const deadline = Date.now() + graceMs
    this.stopDeadline = deadline
    // Waiting retries are tried at once, and again until the grace runs out.
    for (const item of this.pending) {
      if (item.timer) {
        clearTimeout(item.timer)
        item.timer = null
        this.attempt(item)
      }
    }
    const busy = () => this.running.size > 0 || [...this.pending].some((i) => i.timer !== null)
    while (busy() && Date.now() < deadline) {
      const tick = new Promise((r) => setTimeout(r, Math.min(50, deadline - Date.now())))
      await Promise.race([Promise.allSettled([...this.running]).then(() => tick), tick])
    }
    for (const item of this.pending) {
      if (item.timer) clearTimeout(item.timer)
      item.timer = null
      // The SMSC has had its acknowledgement: the log is the last place the SMS can be found.
      this.log(
        `inbound LOST from=${item.mo.from} to=${item.mo.to} after ${item.attempts} attempts: the database did not take it before the worker stopped; mo=${describeMo(item)}`,
      )
    }
  }

  private attempt(item: Pending): void {
    item.timer = null
    item.attempts++
    const run = acceptMoPart(this.opts.db, readMoPart(item.mo), item.receivedAt, {
      source: 'smpp',
      log: this.log,
    }).then(
      () => {
        this.pending.delete(item)
        this.stats.stored++
      },
      (err: Error) => {
        if (this.stopped) {
          if (Date.now() + STOPPING_RETRY_MS < this.stopDeadline) {
            item.timer = setTimeout(() => this.attempt(item), STOPPING_RETRY_MS)
          }
          return
        }
        const initial = this.opts.retryInitialMs ?? 500
        const delay = Math.min(this.opts.retryMaxMs ?? 30_000, initial * 2 ** (item.attempts - 1))
        this.stats.retried++
        this.log(
          `inbound store failed from=${item.mo.from} to=${item.mo.to} attempt=${item.attempts}: ${err.message}; retry in ${delay} ms`,
        )
        item.timer = setTimeout(() => this.attempt(item), delay)
      },
    )
    this.running.add(run)
    void run.finally(() => this.running.delete(run))
  }

  private sweep(): void {
    if (this.stopped) return
    const run = sweepParts(
      this.opts.db,
      this.clock(),
      this.opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      this.log,
    ).then(
      () => undefined,
      (err: Error) => this.log(`inbound parts sweep failed: ${err.message}`),
    )
    this.running.add(run)
    void run.finally(() => this.running.delete(run))
  }
}
