import type { Db } from '../db/connection'
import { FailureStreak } from '../process/failure-streak'
import { PollLoop } from '../process/poll-loop'
import type { LoopObserver } from '../ops/observers'
import type { DeliveryReceipt } from '../smpp/receipt'
import { asLogger, lineSink, silentLogger, type Logger, type LogSink } from '../log'
import { ReceiptModeChooser } from './receipt-mode'
import {
  applyReceipts,
  markUnknown,
  matchUnmatchedReceipts,
  settleWaitedParts,
  smsWithReceiptsForSeveralParts,
  type AppliedReceipts,
  type ReceiptIdFormat,
  type ReceiptMode,
  type SmsOutcome,
  type SettleListener,
} from './receipts'

/** The worker's counters this module keeps up to date. */
export interface ReceiptStats {
  unmatchedReceipts: number
  unknown: number
}

export interface ReceiptUpkeepOptions {
  db: Db
  receipts: ReceiptMode
  idFormat: ReceiptIdFormat
  /** receipts=auto: how long a long SMS waits for the receipts of its other parts. */
  partWaitMs: number
  /** An SMS sent this long ago without a final receipt becomes 'unknown'. */
  receiptTimeoutMs: number
  stats: ReceiptStats
  /** Lines about a receipt carry its SMS's trace and id. */
  log: LogSink
  clock: () => number
  /** Pause between rounds. */
  periodMs?: number
  /** Pause between two looks at the unmatched receipts of the last day. */
  rematchEveryMs?: number
  /** Counts the loop's rounds (metrics); nothing by default. */
  loopObserver?: LoopObserver
  /** Hears of the SMS receipts settle (the worker's metrics). */
  onSettled?: SettleListener
}

/** Most rows one statement of the upkeep touches: rounds stay short, locks brief. */
const BATCH = 500
/** Unmatched receipts this old are no longer matched again. */
const REMATCH_WINDOW_MS = 24 * 60 * 60_000
const DEFAULT_PERIOD_MS = 1000
const DEFAULT_REMATCH_EVERY_MS = 60_000
/** After a receipt matched nothing, how long recent ones are matched again every round. */
const RECENT_MISS_MS = 2 * 60_000
/** Longest pause while the database refuses the upkeep's statements. */
const RETRY_MAX_MS = 30_000

/** The fields tying a line to its SMS, as in the worker's lines. */
function smsFields(smsId: number, trace: string | null): { trace?: string; sms: number } {
  return trace ? { trace, sms: smsId } : { sms: smsId }
}

/** A receipt's line; the one that settles its SMS says how (`final`). */
function logReceipt(
  log: Logger,
  fields: Record<string, string | number | null | undefined>,
  smsId: number,
  trace: string | null,
  settled: Map<number, SmsOutcome>,
  last: boolean,
): void {
  const final = last ? settled.get(smsId) : undefined
  log.info('sms.receipt', { ...smsFields(smsId, trace), ...fields, final })
}

/**
 * Receipts and the SMS waiting for them: applies receipts in the mode in force (see
 * ReceiptModeChooser), logs and counts those that match nothing, and, in the background,
 * matches them again later, settles long SMS whose other parts never got a receipt (auto), and
 * gives up on SMS with no final receipt after receiptTimeoutMs ('unknown').
 */
export class ReceiptUpkeep {
  readonly modes: ReceiptModeChooser
  private readonly loop: PollLoop
  private readonly periodMs: number
  private readonly rematchEveryMs: number
  private nextRematchAt = 0
  /**
   * When long SMS waiting for their other parts' receipts are looked for next: that look reads
   * every long SMS in 'sent', so it runs ten times per receipt_part_wait_ms, not every round.
   */
  private nextWaitCheckAt = 0
  /** Where the look at unmatched receipts resumes when the last one stopped at BATCH. */
  private rematchCursor = 0
  /** When the last receipt that matched nothing arrived. */
  private missedAt = -Infinity
  private readonly log: Logger

  constructor(private readonly opts: ReceiptUpkeepOptions) {
    this.log = asLogger(opts.log, () => silentLogger)
    this.modes = new ReceiptModeChooser(opts.receipts, lineSink(this.log))
    this.periodMs = opts.periodMs ?? DEFAULT_PERIOD_MS
    this.loop = new PollLoop(() => this.round(), {
      name: 'receipts',
      observer: opts.loopObserver,
      failures: {
        streak: new FailureStreak('keep up SMS receipts', lineSink(this.log, 'warn'), opts.clock),
        initialMs: this.periodMs,
        maxMs: RETRY_MAX_MS,
      },
    })
    this.rematchEveryMs = opts.rematchEveryMs ?? DEFAULT_REMATCH_EVERY_MS
  }

  start(): void {
    this.loop.start()
  }

  stop(): Promise<void> {
    return this.loop.stop()
  }

  /** Records receipts; each that matches nothing is logged here, once, and counted. */
  async apply(receipts: DeliveryReceipt[], now: number): Promise<AppliedReceipts> {
    const { db, idFormat } = this.opts
    const applied = await applyReceipts(
      db,
      receipts,
      this.modes.mode,
      now,
      idFormat,
      this.opts.onSettled,
    )
    const lastOf = new Map(applied.matchedReceipts.map((m, i) => [m.smsId, i]))
    for (const [i, { receipt: r, smsId, trace }] of applied.matchedReceipts.entries()) {
      const fields = { message_id: r.messageId, state: r.state, error: r.error ?? undefined }
      logReceipt(this.log, fields, smsId, trace, applied.settled, lastOf.get(smsId) === i)
    }
    for (const r of applied.unmatchedReceipts) {
      this.log.info('receipt.unmatched', {
        message_id: r.messageId,
        handset: r.handset ?? '-',
        state: r.state,
      })
    }
    this.opts.stats.unmatchedReceipts += applied.unmatched
    if (applied.unmatched > 0) this.missedAt = now
    // Only long SMS can show receipts per part: the common one-part SMS costs no query here.
    const long = applied.matchedReceipts.filter((m) => m.parts === null || m.parts > 1)
    if (this.modes.watchingParts && long.length > 0) {
      const smsIds = [...new Set(long.map((m) => m.smsId))]
      const smsId = await smsWithReceiptsForSeveralParts(db, smsIds)
      if (smsId !== null) this.modes.sawReceiptsPerPart(smsId)
    }
    return applied
  }

  /** Matches the unmatched receipts received since `since`; logs each match. */
  async rematch(since: number, now: number, afterId = 0, limit?: number): Promise<number | null> {
    const found = await matchUnmatchedReceipts(this.opts.db, {
      since,
      afterId,
      limit,
      mode: this.modes.mode,
      idFormat: this.opts.idFormat,
      now,
      onSettled: this.opts.onSettled,
    })
    const lastOf = new Map(found.matched.map((m, i) => [m.smsId, i]))
    for (const [i, m] of found.matched.entries()) {
      const fields = { message_id: m.messageId, state: m.state, late: 'yes' }
      logReceipt(this.log, fields, m.smsId, m.trace, found.settled, lastOf.get(m.smsId) === i)
    }
    return found.scanned === limit ? found.lastId : null
  }

  /** One look at what needs keeping up; throws when the database refuses (the loop backs off). */
  private async round(): Promise<number> {
    const now = this.opts.clock()
    let more = false
    if (this.opts.receipts === 'auto' && now >= this.nextWaitCheckAt) {
      const settled = await settleWaitedParts(
        this.opts.db,
        now - this.opts.partWaitMs,
        now,
        BATCH,
        this.opts.onSettled,
      )
      this.modes.settledByWait(settled.length)
      // The receipt that came for one part was logged without final=: this is the SMS's end.
      for (const s of settled) {
        this.log.info('sms.settled', {
          ...smsFields(s.id, s.trace),
          final: s.outcome,
          reason: 'receipt for one part only',
        })
      }
      if (settled.length === BATCH) more = true
      else this.nextWaitCheckAt = now + Math.max(this.periodMs, this.opts.partWaitMs / 10)
    }
    const unknown = await markUnknown(this.opts.db, now, this.opts.receiptTimeoutMs, BATCH)
    if (unknown.length > 0) {
      this.opts.stats.unknown += unknown.length
      for (const u of unknown) {
        this.log.warn('sms.unknown', {
          ...smsFields(u.id, u.trace),
          status: 'unknown',
          error: `no final receipt in ${this.opts.receiptTimeoutMs} ms`,
        })
      }
    }
    more ||= unknown.length === BATCH
    if (now >= this.nextRematchAt) {
      const cursor = await this.rematch(now - REMATCH_WINDOW_MS, now, this.rematchCursor, BATCH)
      // A full batch: the rest is looked at next round, not in a minute.
      this.rematchCursor = cursor ?? 0
      if (cursor === null) this.nextRematchAt = now + this.rematchEveryMs
      else more = true
    } else if (now - this.missedAt < RECENT_MISS_MS) {
      // Most misses are receipts that overtook the record of their submit (another worker's,
      // or one written late): matched within a round or two, not a minute later.
      await this.rematch(now - RECENT_MISS_MS, now, 0, BATCH)
    }
    return more ? 0 : this.periodMs
  }
}
