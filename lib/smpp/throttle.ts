/**
 * A token bucket for the carrier's submit_sm rate. Tokens refill continuously, so a rate above
 * 1,000 per second still works with millisecond timers, and the bucket holds at most a tenth of
 * a second's worth: bursts stay short enough for SMSCs that police per 100 ms.
 */
export class TokenBucket {
  private tokens: number
  private last: number
  private capacity: number

  constructor(
    private ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
    /** Start with no tokens, rather than a full bucket. */
    empty = false,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError('rate must be positive')
    this.capacity = capacityFor(ratePerSecond)
    this.tokens = empty ? 0 : this.capacity
    this.last = now()
  }

  /** Takes a token and returns 0, or takes nothing and returns the milliseconds until one. */
  take(): number {
    this.refill()
    if (this.tokens >= 1) {
      this.tokens -= 1
      return 0
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond))
  }

  /** Changes the rate from now on: tokens earned so far were earned at the old one. */
  setRate(ratePerSecond: number): void {
    if (!(ratePerSecond > 0)) throw new RangeError('rate must be positive')
    this.refill()
    this.ratePerSecond = ratePerSecond
    this.capacity = capacityFor(ratePerSecond)
    this.tokens = Math.min(this.tokens, this.capacity)
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(
      this.capacity,
      this.tokens + ((now - this.last) * this.ratePerSecond) / 1000,
    )
    this.last = now
  }
}

function capacityFor(ratePerSecond: number): number {
  return Math.max(1, ratePerSecond / 10)
}
