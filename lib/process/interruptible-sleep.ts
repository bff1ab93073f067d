/**
 * The sleep between two polls of a loop (the SMS worker, the inbound mail dispatcher, the
 * failure notice sender), which stop() or new work can cut short so the loop reacts at once.
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
