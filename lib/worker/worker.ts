import crypto from 'node:crypto'
import os from 'node:os'
import type { WorkerConfig } from '../config'
import type { Db } from '../db/connection'
import { isDeadlock } from '../db/errors'
import { SmppSubmitError } from '../smpp/errors'
import { canonicalMessageId } from '../smpp/message-id'
import type { DeliveryReceipt } from '../smpp/receipt'
import type { SmsSender } from '../smpp/submit'
import { ReceiptUpkeep } from './receipt-upkeep'
import type { ReceiptIdFormat, ReceiptMode, SettleListener } from './receipts'
import {
  claimDueSms,
  expireStale,
  renewLeases,
  recordUnsent,
  type ClaimedSms,
  type PartRow,
  type RetryOrFailure,
} from '../db/outbound'
import { recordSent, type SentSms } from './store'
import type { SendResult, SmsTransport } from './transport'
import { PollLoop } from '../process/poll-loop'
import { FailureStreak } from '../process/failure-streak'
import { asLogger, lineLogger, lineSink, type Logger, type LogSink } from '../log'
import type { PollerObservers } from '../ops/poller-observers'

export interface WorkerOptions {
  db: Db
  transport: SmsTransport
  config: WorkerConfig
  receipts: ReceiptMode
  /** smpp.receipt_id_format (default auto) and smpp.receipt_part_wait_ms (default 10 min). */
  receiptIdFormat?: ReceiptIdFormat
  receiptPartWaitMs?: number
  /** Pause between rounds of the receipt upkeep (tests shorten it). */
  receiptUpkeepMs?: number
  /** Sender for accounts with neither sender name nor virtual number ('' for none). */
  defaultSource: string
  owner?: string
  /** Lines about each SMS carry its trace (the MX transaction id) and id. */
  log?: LogSink
  clock?: () => number
  /** Counts the rounds of its loops and its claims (metrics); nothing by default. */
  observers?: PollerObservers
  /** Hears of the SMS receipts settle, once committed (the worker's metrics). */
  onSettled?: SettleListener
}

/** How often buffered results and receipts are written: one transaction serves many SMS. */
const FLUSH_MS = 10
/** Backoff between tries to record results while the database refuses them. */
const RECORD_RETRY_MS = { initial: 500, max: 5000 }
/** Most time between two claims while the database refuses them. */
const CLAIM_RETRY_MAX_MS = 5000
/**
 * Tries of one result write that a deadlock rolled back (workers writing results and receipts
 * of neighbouring SMS at once), each after a short random pause that grows with each try (so
 * that the two writers do not meet again), before it counts as a failed write (and waits
 * RECORD_RETRY_MS like an outage).
 */
const DEADLOCK_TRIES = 4
const DEADLOCK_PAUSE_MS = 10

/** How many seconds of sending a worker claims ahead when the carrier caps its rate. */
const CLAIM_AHEAD_SECONDS = 2

/**
 * Most SMS a worker holds without a committed outcome: worker.batch_size, or with a rate cap
 * what the cap sends in about CLAIM_AHEAD_SECONDS (never less than the SMPP window, which
 * must stay full). A crash sends at most this many twice, and delays the rest of what it held
 * by a lease: holding 300 SMS at 10 a second would have parked 280 of them behind the lease.
 */
export function heldSmsLimit(
  batchSize: number,
  rateLimit?: { perSecond: number; window: number },
): number {
  if (!rateLimit || rateLimit.perSecond <= 0) return batchSize
  const ahead = Math.ceil(rateLimit.perSecond * CLAIM_AHEAD_SECONDS)
  return Math.min(batchSize, Math.max(rateLimit.window, ahead))
}

/** The account's sender name, else its virtual number, else smpp.default_source, else the carrier's. */
export function senderFor(sms: ClaimedSms, defaultSource: string): SmsSender {
  if (sms.senderName) return { type: 'alphanumeric', name: sms.senderName }
  if (sms.virtualNumber) return { type: 'number', number: sms.virtualNumber }
  const fallback = defaultSource.trim()
  if (!fallback) return { type: 'carrier-default' }
  return /^\+?\d{5,15}$/.test(fallback)
    ? { type: 'number', number: fallback.startsWith('+') ? fallback : `+${fallback}` }
    : { type: 'alphanumeric', name: fallback }
}

/**
 * The concatenation reference of an SMS's parts (1..251): derived from its id, so that parts
 * sent on different tries carry the same one and join up on the handset. Modulo a prime, not
 * 255: a Galera node hands out ids in steps of the cluster's size (1, 4, 7… on three nodes),
 * and 255 = 3 × 5 × 17 would give one node's SMS only 85 references (51 on five nodes).
 */
export function concatReference(smsId: number): number {
  return (smsId % 251) + 1
}

function acceptedCount(sms: ClaimedSms): number {
  let n = 0
  for (const state of sms.settledParts.values()) if (state === 'accepted') n++
  return n
}

/**
 * An SMS some of whose parts were taken, given up for the rest: the parts without an outcome
 * (neither in `settled` nor in `newParts`) become 'expired' rows beside `newParts`.
 */
function expiredRest(
  smsId: number,
  parts: number,
  settled: Iterable<number>,
  newParts: PartRow[] = [],
): SentSms {
  const known = new Set([...settled, ...newParts.map((p) => p.partNo)])
  const missing: number[] = []
  for (let part = 1; part <= parts; part++) if (!known.has(part)) missing.push(part)
  return {
    id: smsId,
    parts,
    newParts: [
      ...newParts,
      ...missing.map((partNo) => ({ partNo, messageId: '', state: 'expired' as const })),
    ],
    error: `part ${missing.join(', ')} of ${parts} expired before the carrier accepted it`,
  }
}

function describeFailure(err: SmppSubmitError): string {
  return err.statusName ? `${err.statusName}: ${err.message}` : err.message
}

/** The fields that tie a line to one SMS: `grep trace=<id>` follows it from the MX on. */
export function smsLogFields(sms: { id: number; trace: string | null }): {
  trace?: string
  sms: number
} {
  return sms.trace ? { trace: sms.trace, sms: sms.id } : { sms: sms.id }
}

/**
 * Claims due SMS under a lease, hands them to the transport, and records what happened:
 * accepted (with the carrier's message ids), to retry later, failed or expired; and the
 * delivery receipts the transport reports. Results are buffered for a few milliseconds and
 * written together.
 *
 * Sent twice: an SMS the carrier accepted but whose result was not yet committed when the
 * worker died is claimed again once its lease expires, and sent again. A live worker renews
 * its leases (every lease_ms / 3), so this takes a crash, or a database out of reach for a
 * whole lease. The worker holds at most heldSmsLimit() SMS without a committed outcome
 * (batch_size, less under a rate cap), so that is the most one crash can send twice.
 */
export class SmsWorker {
  readonly owner: string
  /** Most SMS held at once: see heldSmsLimit(). */
  readonly maxHeld: number
  /**
   * Fewest SMS claimed at once while the transport still has that many to send: a claim is a
   * transaction of its own, and claiming the few SMS each write of results makes room for
   * would cost one per write.
   */
  private readonly claimChunk: number
  readonly stats = {
    claimed: 0,
    sent: 0,
    retried: 0,
    failed: 0,
    expired: 0,
    receipts: 0,
    unmatchedReceipts: 0,
    unknown: 0,
  }
  /** Applies receipts, matches them late, settles SMS that wait too long for theirs. */
  readonly receiptUpkeep: ReceiptUpkeep
  private inFlight = 0
  /** Claimed SMS whose outcome is not committed yet: in flight or waiting to be written. */
  private holding = 0
  private sent: SentSms[] = []
  private unsent: RetryOrFailure[] = []
  private stale: number[] = []
  private receiptQueue: DeliveryReceipt[] = []
  private flushTimer: NodeJS.Timeout | null = null
  private flushing: Promise<void> = Promise.resolve()
  private stopped = false
  private stopping$: Promise<number> | null = null
  /** Claims SMS; its pause is cut short when an SMS finishes (room to claim more) or on stop(). */
  private readonly loop: PollLoop
  /** Renews the leases of the SMS held, every lease_ms / 3. */
  private readonly renewal: PollLoop
  private readonly clock: () => number
  private readonly logger: Logger
  /** Free-text warnings of the helpers below (database outages). */
  private readonly log: (line: string) => void
  /** One log line when a database outage starts and one when it ends, not one per poll. */
  private readonly claims: FailureStreak
  private readonly records: FailureStreak
  private readonly renewals: FailureStreak

  constructor(private readonly opts: WorkerOptions) {
    this.owner =
      opts.owner ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`
    this.clock = opts.clock ?? Date.now
    this.maxHeld = heldSmsLimit(opts.config.batchSize, opts.transport.rateLimit)
    this.claimChunk = Math.max(1, Math.floor(this.maxHeld / 4))
    this.logger = asLogger(opts.log, () => lineLogger((l) => console.log(`[worker] ${l}`)))
    this.log = lineSink(this.logger, 'warn')
    this.claims = new FailureStreak('claim SMS', this.log, this.clock)
    this.records = new FailureStreak(
      'record SMS results (kept, to write later)',
      this.log,
      this.clock,
    )
    this.renewals = new FailureStreak('renew SMS leases', this.log, this.clock)
    const { pollMs, leaseMs } = opts.config
    this.loop = new PollLoop(() => this.round(), {
      name: 'sms',
      observer: opts.observers?.loop,
      failures: { streak: this.claims, initialMs: pollMs * 2, maxMs: CLAIM_RETRY_MAX_MS },
    })
    const renewEveryMs = Math.max(100, Math.floor(leaseMs / 3))
    this.renewal = new PollLoop(() => this.renewRound(renewEveryMs), {
      name: 'sms-lease-renewal',
      observer: opts.observers?.loop,
      failures: { streak: this.renewals, initialMs: renewEveryMs, maxMs: renewEveryMs },
    })
    this.receiptUpkeep = new ReceiptUpkeep({
      db: opts.db,
      receipts: opts.receipts,
      idFormat: opts.receiptIdFormat ?? 'auto',
      partWaitMs: opts.receiptPartWaitMs ?? 600_000,
      receiptTimeoutMs: opts.config.receiptTimeoutMs,
      periodMs: opts.receiptUpkeepMs,
      stats: this.stats,
      log: this.logger,
      clock: this.clock,
      loopObserver: opts.observers?.loop,
      onSettled: opts.onSettled,
    })
  }

  start(): void {
    this.opts.transport.on('receipt', (r) => {
      this.receiptQueue.push(r)
      this.scheduleFlush()
    })
    this.opts.transport.start()
    this.loop.start()
    // The console transport gets no receipts: its SMS would all end 'unknown'.
    if (this.opts.transport.name !== 'console') this.receiptUpkeep.start()
    this.renewal.start()
  }

  private async renewRound(everyMs: number): Promise<number> {
    if (this.holding > 0) {
      await renewLeases(this.opts.db, this.owner, this.opts.config.leaseMs, this.clock())
    }
    return everyMs
  }

  /** Claims what there is room for; throws when the claim fails (the loop backs off). */
  private async round(): Promise<number> {
    const { config } = this.opts
    // Nothing is claimed while the carrier link is down: leases would only run out.
    if (!this.opts.transport.ready) return config.pollMs
    // Bounded by what is held, not only what is in flight: an SMS the carrier took but whose
    // result is not committed would be sent again if this worker died, so at most
    // maxHeld SMS can be in that state.
    const room = this.maxHeld - this.holding
    if (room <= 0) return config.pollMs
    // The next release of results wakes the loop again, long before the transport runs dry.
    if (room < this.claimChunk && this.inFlight >= this.claimChunk) return config.pollMs
    const claimed = await claimDueSms(this.opts.db, {
      owner: this.owner,
      limit: room,
      leaseMs: config.leaseMs,
      now: this.clock(),
      observer: this.opts.observers?.claim,
    })
    this.stats.claimed += claimed.length
    this.holding += claimed.length
    for (const sms of claimed) this.dispatch(sms)
    return claimed.length < room ? config.pollMs : 0
  }

  private dispatch(sms: ClaimedSms): void {
    const now = this.clock()
    const log = this.logger.child(smsLogFields(sms))
    log.debug('sms.claimed', { attempt: sms.attempts, owner: this.owner })
    if (now - sms.createdAt > this.opts.config.maxAgeMs) {
      if (acceptedCount(sms) > 0) {
        const rest = expiredRest(sms.id, sms.parts || sms.segments, sms.settledParts.keys())
        log.warn('sms.expired', { status: 'sent', error: rest.error })
        this.sent.push(rest)
      } else {
        log.warn('sms.expired', { status: 'expired', error: 'too old to send' })
        this.stale.push(sms.id)
      }
      this.scheduleFlush()
      return
    }
    const from = senderFor(sms, this.opts.defaultSource)
    this.inFlight += 1
    this.opts.transport
      .send({
        id: sms.id,
        trace: sms.trace,
        from,
        to: sms.recipient,
        text: sms.body,
        reference: concatReference(sms.id),
        skipParts: new Set(sms.settledParts.keys()),
      })
      .then(
        (result) => this.afterTry(sms, result, log),
        (err) => this.unsent.push(this.logUnsent(this.afterFailure(sms, err), sms, log)),
      )
      .finally(() => {
        this.inFlight -= 1
        this.scheduleFlush()
      })
  }

  /**
   * Sorts one try's outcomes: parts taken and parts refused for good are recorded as part rows
   * now, whatever happens to the rest, so that a retry never submits them again. The SMS is
   * 'sent' once every part has an outcome and one was taken; failed when every part was refused;
   * otherwise it waits for a retry of the parts left.
   */
  private afterTry(sms: ClaimedSms, result: SendResult, log: Logger): void {
    const newParts: PartRow[] = []
    const left: SmppSubmitError[] = []
    const refused: SmppSubmitError[] = []
    for (const o of result.outcomes) {
      const of = result.parts
      if ('messageId' in o) {
        const messageId = canonicalMessageId(o.messageId)
        newParts.push({ partNo: o.part, messageId, state: 'sent' })
        log.debug('sms.part', { part: o.part, of, outcome: 'accepted', message_id: messageId })
      } else if (o.error.kind === 'permanent') {
        newParts.push({ partNo: o.part, messageId: '', state: 'refused' })
        refused.push(o.error)
        log.warn('sms.part', {
          part: o.part,
          of,
          outcome: 'refused',
          error: describeFailure(o.error),
        })
      } else {
        left.push(o.error)
        log.debug('sms.part', {
          part: o.part,
          of,
          outcome: 'retry',
          error: describeFailure(o.error),
        })
      }
    }
    const accepted = acceptedCount(sms) + newParts.filter((p) => p.state === 'sent').length
    const refusal = refused.length > 0 ? refused.map(describeFailure).join('; ') : null
    if (left.length === 0 && accepted > 0) {
      log.info('sms.submitted', {
        attempt: sms.attempts,
        parts: result.parts,
        message_ids: newParts.filter((p) => p.state === 'sent').map((p) => p.messageId),
        error: refusal ?? undefined,
      })
      if (refusal === null && newParts.length === result.parts) {
        // Every part at once, the common case.
        this.sent.push({ id: sms.id, messageIds: newParts.map((p) => p.messageId) })
      } else {
        this.sent.push({ id: sms.id, newParts, parts: result.parts, error: refusal })
      }
      return
    }
    if (left.length === 0) {
      // Every part refused for good (this try or an earlier one): a permanent failure.
      const failure = this.logUnsent(this.afterFailure(sms, refused[0] ?? refusal), sms, log)
      this.unsent.push({ ...failure, newParts, parts: result.parts })
      return
    }
    const retry = this.afterFailure(sms, left[0])
    if (retry.retryAt === null && accepted > 0) {
      // Expired with some parts taken: those can still reach the phone; the rest never will.
      const rest = expiredRest(sms.id, result.parts, sms.settledParts.keys(), newParts)
      log.warn('sms.expired', { status: 'sent', error: rest.error })
      this.sent.push(rest)
      return
    }
    this.unsent.push({ ...this.logUnsent(retry, sms, log), newParts, parts: result.parts })
  }

  /** One line for an SMS that goes back to the queue, or ends failed or expired. */
  private logUnsent(u: RetryOrFailure, sms: ClaimedSms, log: Logger): RetryOrFailure {
    if (u.retryAt !== null) {
      log.info('sms.retry', {
        attempt: sms.attempts,
        retry_in_ms: Math.max(0, u.retryAt - this.clock()),
        error: u.error,
      })
    } else {
      log.warn(`sms.${u.finalStatus}`, {
        status: u.finalStatus,
        code: u.code ?? undefined,
        error: u.error,
      })
    }
    return u
  }

  private afterFailure(sms: ClaimedSms, err: unknown): RetryOrFailure {
    const { config } = this.opts
    const smpp = err instanceof SmppSubmitError ? err : null
    const error = smpp?.statusName
      ? `${smpp.statusName}: ${smpp.message}`
      : String((err as Error)?.message ?? err)
    if (smpp?.kind === 'permanent') {
      return { id: sms.id, error, code: smpp.status ?? null, retryAt: null, finalStatus: 'failed' }
    }
    // Throttling, timeouts, lost links and anything unforeseen: try again later, doubling.
    const delay = Math.min(
      config.retryMaxMs,
      config.retryInitialMs * 2 ** Math.max(0, sms.attempts - 1),
    )
    const retryAt = this.clock() + Math.round(delay * (0.9 + Math.random() * 0.2))
    if (retryAt - sms.createdAt > config.maxAgeMs) {
      return {
        id: sms.id,
        error: `expired: ${error}`,
        code: smpp?.status ?? null,
        retryAt: null,
        finalStatus: 'expired',
      }
    }
    return { id: sms.id, error, code: smpp?.status ?? null, retryAt, finalStatus: 'failed' }
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.stopped) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      this.flushing = this.flushing.then(() => this.flush())
    }, FLUSH_MS)
  }

  /**
   * Writes buffered results, in order: sent SMS first, so that a receipt in the same flush can
   * find its SMS. Each step commits on its own; a step that fails keeps its items (and those of
   * the steps after it) for the next flush.
   */
  private async flush(): Promise<void> {
    const now = this.clock()
    // Everything is taken at once: a receipt taken here always finds the result of its submit
    // taken here or earlier (the SMSC answers a submit before it reports on it).
    const sent = this.sent.splice(0)
    const unsent = this.unsent.splice(0)
    const stale = this.stale.splice(0)
    const receipts = this.receiptQueue.splice(0)
    const steps: Array<() => Promise<void>> = [
      () =>
        this.writeStep(
          sent,
          this.sent,
          (items) =>
            recordSent(
              this.opts.db,
              this.owner,
              items,
              now,
              this.opts.config.receiptTimeoutMs,
              this.opts.onSettled,
            ),
          (n) => {
            this.stats.sent += n
            this.released(n)
          },
        ),
      () =>
        this.writeStep(
          unsent,
          this.unsent,
          (items) => recordUnsent(this.opts.db, this.owner, items, now),
          (n) => this.released(n),
          (items) => this.countUnsent(items),
        ),
      () =>
        this.writeStep(
          stale,
          this.stale,
          (items) => expireStale(this.opts.db, this.owner, items, now),
          (n) => {
            this.stats.expired += n
            this.released(n)
          },
        ),
      () =>
        this.writeStep(
          receipts,
          this.receiptQueue,
          // A receipt that overtook the record of its submit is matched again by the upkeep.
          async (items) => {
            await this.receiptUpkeep.apply(items, now)
          },
          (n) => (this.stats.receipts += n),
        ),
    ]
    const taken: Array<[unknown[], unknown[]]> = [
      [sent, this.sent],
      [unsent, this.unsent],
      [stale, this.stale],
      [receipts, this.receiptQueue],
    ]
    let failed: unknown = null
    for (let i = 0; i < steps.length && !failed; i++) {
      try {
        await steps[i]()
      } catch (err) {
        failed = err
        // The failed step put its own items back; the later ones must wait for it, in order.
        for (const [items, queue] of taken.slice(i + 1)) queue.unshift(...items)
      }
    }
    if (failed) {
      const delay = this.records.failed(failed, RECORD_RETRY_MS.initial, RECORD_RETRY_MS.max)
      if (this.stopped) return
      await new Promise((r) => setTimeout(r, delay))
      this.scheduleFlush()
    } else if (sent.length + unsent.length + stale.length + receipts.length > 0) {
      this.records.succeeded()
    }
  }

  /** Writes one kind of result; on failure puts the items back at the head of their queue. */
  private async writeStep<T>(
    items: T[],
    queue: T[],
    write: (items: T[]) => Promise<void>,
    count: (n: number) => void,
    after?: (items: T[]) => void,
  ): Promise<void> {
    if (items.length === 0) return
    try {
      for (let tries = 1; ; tries++) {
        try {
          await write(items)
          break
        } catch (err) {
          // A deadlock rolled the whole transaction back: writing it again is the remedy.
          if (!isDeadlock(err) || tries >= DEADLOCK_TRIES) throw err
          await new Promise((r) => setTimeout(r, Math.random() * DEADLOCK_PAUSE_MS * tries))
        }
      }
    } catch (err) {
      queue.unshift(...items)
      throw err
    }
    count(items.length)
    after?.(items)
  }

  /** Outcomes committed: room to claim more. */
  private released(n: number): void {
    this.holding -= n
    this.loop.wake()
  }

  private countUnsent(items: RetryOrFailure[]): void {
    for (const u of items) {
      if (u.retryAt !== null) this.stats.retried += 1
      else if (u.finalStatus === 'expired') this.stats.expired += 1
      else this.stats.failed += 1
    }
  }

  /**
   * Stops claiming, waits up to graceMs for SMS in flight, writes what is left, unbinds.
   * Resolves with the number of results that could not be written (0 when all is recorded);
   * every call gets the same answer.
   */
  stop(graceMs = this.opts.config.shutdownGraceMs): Promise<number> {
    this.stopping$ ??= this.shutdown(graceMs)
    return this.stopping$
  }

  private async shutdown(graceMs: number): Promise<number> {
    await this.loop.stop()
    await this.receiptUpkeep.stop()
    const deadline = this.clock() + graceMs
    while (this.inFlight > 0 && this.clock() < deadline) await new Promise((r) => setTimeout(r, 20))
    await this.opts.transport.stop(Math.max(0, deadline - this.clock()))
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
    await this.flushing
    this.stopped = true
    await this.flush()
    await this.renewal.stop()
    if (this.inFlight > 0) {
      this.logger.warn('worker.unanswered', {
        count: this.inFlight,
        msg: 'SMS still unanswered at shutdown; they come back when their lease ends',
      })
    }
    const unwritten =
      this.sent.length + this.unsent.length + this.stale.length + this.receiptQueue.length
    if (unwritten > 0)
      this.logger.warn('worker.unwritten', {
        count: unwritten,
        msg: 'results could not be written before shutdown',
      })
    return unwritten
  }
}
