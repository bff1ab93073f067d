import { performance } from 'node:perf_hooks'
import { noLoopObserver, type LoopObserver } from '../ops/observers'
import type { FailureStreak } from './failure-streak'
import { InterruptibleSleep } from './interruptible-sleep'

export interface PollLoopOptions {
  /** What the observer calls the loop ('sms', 'notices', …). */
  name?: string
  observer?: LoopObserver
  /**
   * A round that throws (the database refused a claim, say) is reported through this streak,
   * once when failures start and once when they end, and the next round waits its backoff:
   * initialMs, doubling up to maxMs. Without it, a failed round is logged and the next waits
   * DEFAULT_FAILURE_PAUSE_MS.
   */
  failures?: { streak: FailureStreak; initialMs: number; maxMs: number }
}

const DEFAULT_FAILURE_PAUSE_MS = 1000

/**
 * The loop of every poller (the SMS worker and its lease renewal, the receipt upkeep, the
 * inbound mail dispatcher, the failure notice and quota alert senders): run a round, sleep as
 * long as the round asks, again until stop(). The sleep ends early on stop() or wake() (new
 * work, room to claim more), so a loop reacts at once. A round returns the pause before the
 * next, 0 for none; a round that throws failed, and the loop backs off (see `failures`).
 */
export class PollLoop {
  private stopping = false
  private done: Promise<void> | null = null
  private readonly idle = new InterruptibleSleep()
  private readonly name: string
  private readonly observer: LoopObserver

  constructor(
    private readonly round: () => Promise<number>,
    private readonly options: PollLoopOptions = {},
  ) {
    this.name = options.name ?? 'poll'
    this.observer = options.observer ?? noLoopObserver
  }

  start(): void {
    if (this.done) return
    this.stopping = false
    this.done = this.run()
  }

  /** Ends the pause under way; the round in progress is finished before the loop stops. */
  async stop(): Promise<void> {
    this.stopping = true
    this.idle.wake()
    await this.done
    this.done = null
  }

  /** Ends the pause under way, so the next round starts now. */
  wake(): void {
    this.idle.wake()
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const pause = await this.timedRound()
      if (pause > 0 && !this.stopping) await this.idle.sleep(pause)
    }
  }

  private async timedRound(): Promise<number> {
    const started = performance.now()
    let pause: number
    let failed = false
    try {
      pause = await this.round()
      this.options.failures?.streak.succeeded()
    } catch (err) {
      failed = true
      pause = this.failed(err)
    }
    this.observer.round(this.name, (performance.now() - started) / 1000, failed)
    return pause
  }

  private failed(err: unknown): number {
    const failures = this.options.failures
    if (failures) return failures.streak.failed(err, failures.initialMs, failures.maxMs)
    console.error(`${this.name} round failed: ${(err as Error)?.message ?? err}`)
    return DEFAULT_FAILURE_PAUSE_MS
  }
}
