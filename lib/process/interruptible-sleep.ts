/**
 * A sleep that stop() or new work can cut short, so a loop reacts at once: the pause of every
 * PollLoop, and the wait for the database at start.
 */
export class InterruptibleSleep {
  private endCurrent: (() => void) | null = null

  /** Resolves after `ms`, or sooner on wake(). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        if (this.endCurrent === done) this.endCurrent = null
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.endCurrent = done
    })
  }

  /** Ends the sleep under way, if any; does nothing otherwise. */
  wake(): void {
    this.endCurrent?.()
  }
}
