import { InterruptibleSleep } from './interruptible-sleep'

/**
 * The loop of every poller (the SMS worker, the inbound mail dispatcher, the failure notice and
 * quota alert senders): run a round, sleep as long as the round asks, again until stop(). The
 * sleep ends early on stop() or wake() (new work, room to claim more), so a loop reacts at once.
 * A round handles its own errors: it returns the pause before the next, 0 for none.
 */
export class PollLoop {
  private stopping = false
  private done: Promise<void> | null = null
  private readonly idle = new InterruptibleSleep()

  constructor(private readonly round: () => Promise<number>) {}

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
      const pause = await this.round()
      if (pause > 0 && !this.stopping) await this.idle.sleep(pause)
    }
  }
}
