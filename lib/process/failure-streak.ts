/**
 * A run of failures of one recurring task (claiming SMS, recording results), reported as two
 * log lines, when it starts (with the error) and when it ends (with how long it lasted),
 * instead of one line per poll; and the backoff to wait before the next try.
 */
export class FailureStreak {
  private since: number | null = null
  private failures = 0

  constructor(
    private readonly what: string,
    private readonly log: (line: string) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Records a failure; returns how long to wait before trying again (doubling, capped). */
  failed(err: unknown, initialMs: number, maxMs: number): number {
    this.failures += 1
    if (this.since === null) {
      this.since = this.clock()
      this.log(`cannot ${this.what}: ${(err as Error)?.message ?? err}; retrying`)
    }
    return Math.min(maxMs, initialMs * 2 ** Math.min(this.failures - 1, 20))
  }

  succeeded(): void {
    if (this.since === null) return
    const seconds = ((this.clock() - this.since) / 1000).toFixed(1)
    this.log(`${this.what}: working again after ${seconds} s (${this.failures} failed tries)`)
    this.since = null
    this.failures = 0
  }
}
