import type { Db } from '../db/connection'
import { asLogger, lineLogger, lineSink, type Logger, type LogSink } from '../log'
import type { PurgeObserver } from '../ops/observers'
import type { PollerObservers } from '../ops/poller-observers'
import { FailureStreak } from '../process/failure-streak'
import { InterruptibleSleep } from '../process/interruptible-sleep'
import { PollLoop } from '../process/poll-loop'
import { isRetentionOn, runPurge, type RetentionPolicy } from './purge'

export interface RetentionPurgeJobOptions {
  db: Db
  policy: RetentionPolicy
  /** Time between the starts of two purges. */
  intervalMs: number
  batchSize: number
  pauseMs: number
  log?: LogSink
  observers?: PollerObservers
  /** Told the rows of each step after every purge run (the metrics). */
  purgeObserver?: PurgeObserver
  clock?: () => number
  /** Wait before the first purge, so a worker's start is not slowed by it. Default 1 min. */
  firstDelayMs?: number
}

/**
 * The worker's retention purge: every intervalMs, removes text and addresses past their
 * retention, in small batches with pauses (lib/retention/purge.ts). Every worker runs it; two
 * at once only repeat each other's batches, which are idempotent, so no leader is elected.
 * A purge under way when the worker stops ends after its current batch.
 */
export class RetentionPurgeJob {
  readonly stats = { runs: 0, rows: 0 }
  private readonly clock: () => number
  private readonly logger: Logger
  private readonly loop: PollLoop
  private readonly pause = new InterruptibleSleep()
  private stopping = false
  private first = true

  constructor(private readonly opts: RetentionPurgeJobOptions) {
    this.clock = opts.clock ?? Date.now
    this.logger = asLogger(opts.log, () => lineLogger((l) => console.log(`[retention] ${l}`)))
    this.loop = new PollLoop(() => this.round(), {
      name: 'retention',
      observer: opts.observers?.loop,
      // One log line when the database stops answering and one when it is back.
      failures: {
        streak: new FailureStreak('purge old SMS data', lineSink(this.logger), this.clock),
        initialMs: 10_000,
        maxMs: opts.intervalMs,
      },
    })
  }

  get enabled(): boolean {
    return isRetentionOn(this.opts.policy)
  }

  start(): void {
    if (!this.enabled) return
    const { textDays, addressesDays } = this.opts.policy
    this.logger.info('retention.on', {
      text_days: textDays || 'forever',
      addresses_days: addressesDays || 'forever',
      every_min: Math.round(this.opts.intervalMs / 60_000),
    })
    this.stopping = false
    this.first = true
    this.loop.start()
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.pause.wake()
    await this.loop.stop()
  }

  /** Throws when the database refuses (the loop backs off). */
  private async round(): Promise<number> {
    if (this.first) {
      this.first = false
      // Spread over the first minute: workers started together then purge apart.
      return Math.round((this.opts.firstDelayMs ?? 60_000) * (0.5 + Math.random() / 2))
    }
    const started = this.clock()
    const report = await runPurge(this.opts.db, this.opts.policy, {
      batchSize: this.opts.batchSize,
      pauseMs: this.opts.pauseMs,
      now: started,
      shouldStop: () => this.stopping,
      sleep: (ms) => this.pause.sleep(ms),
    })
    this.stats.runs += 1
    for (const r of report.rows) this.opts.purgeObserver?.purged(r.step, r.rows)
    const rows = report.rows.reduce((n, r) => n + r.rows, 0)
    this.stats.rows += rows
    if (rows > 0 || report.interrupted) {
      this.logger.info('retention.purged', {
        ...Object.fromEntries(report.rows.map((r) => [r.step, r.rows])),
        batches: report.batches,
        interrupted: report.interrupted,
        duration_s: Number(((this.clock() - started) / 1000).toFixed(1)),
      })
    }
    return Math.max(1000, this.opts.intervalMs - (this.clock() - started))
  }
}
