import type { Db } from '../db/connection'
import { FOLD_BATCH, foldDailyDeltas } from '../db/outbound'
import { asLogger, lineLogger, lineSink, type Logger, type LogSink } from '../log'
import type { PollerObservers } from '../ops/poller-observers'
import { FailureStreak } from '../process/failure-streak'
import { PollLoop } from '../process/poll-loop'

export interface DailyRollupJobOptions {
  db: Db
  /** The pause after a round that found the deltas caught up. Default 5 s. */
  intervalMs?: number
  /** Deltas folded per transaction. */
  batchSize?: number
  log?: LogSink
  observers?: PollerObservers
  clock?: () => number
}

const DEFAULT_INTERVAL_MS = 5000

/**
 * The worker's fold of the SMS counts (lib/db/outbound/daily-rollup.ts): every few seconds,
 * the deltas that the database's triggers appended are added to the daily counts, a bounded
 * batch per transaction, batch after batch while there is a backlog (after the fill of an
 * upgrade, or a worker stopped for a while). The counts are exact without it: readers add the
 * deltas not folded yet; folding keeps that addition short. Every worker runs it; folds that
 * meet take disjoint deltas (or, on Galera, one tries again), so no leader is elected.
 */
export class DailyRollupJob {
  readonly stats = { rounds: 0, folded: 0 }
  private readonly logger: Logger
  private readonly loop: PollLoop
  private readonly intervalMs: number
  private readonly batchSize: number

  constructor(private readonly opts: DailyRollupJobOptions) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS
    this.batchSize = opts.batchSize ?? FOLD_BATCH
    this.logger = asLogger(opts.log, () => lineLogger((l) => console.log(`[rollup] ${l}`)))
    this.loop = new PollLoop(() => this.round(), {
      name: 'rollup',
      observer: opts.observers?.loop,
      // One log line when the database stops answering and one when it is back.
      failures: {
        streak: new FailureStreak('fold the SMS counts', lineSink(this.logger), opts.clock),
        initialMs: this.intervalMs,
        maxMs: 60_000,
      },
    })
  }

  start(): void {
    this.loop.start()
  }

  /** The fold under way commits (or rolls back) first. */
  async stop(): Promise<void> {
    await this.loop.stop()
  }

  /** Throws when the database refuses (the loop backs off). */
  private async round(): Promise<number> {
    const folded = await foldDailyDeltas(this.opts.db, this.batchSize)
    this.stats.rounds += 1
    this.stats.folded += folded
    // A full batch means more are waiting: the next one at once.
    return folded >= this.batchSize ? 0 : this.intervalMs
  }
}
