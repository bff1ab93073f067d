/**
 * The submit_sm rate, learned from the SMSC's throttling answers (ESME_RTHROTTLED 0x58,
 * ESME_RMSGQFUL 0x14).
 *
 * Carriers rarely say their limit, and some change it with the time of day; throughput_per_second
 * is then either unset or only the contract's ceiling. So the rate is found the way TCP finds a
 * window: cut hard when the carrier pushes back, grow slowly while it does not.
 * - The first answer after a calm period sets the rate just under what the carrier accepted in
 *   the last second: that is its limit, measured.
 * - Further answers cut it by 30%, at most once a second: the answers to PDUs sent before a cut
 *   arrive after it, and one second's burst of them is one signal, not twenty.
 * - Each 10 s without an answer, in which the rate held submits back, raise it by 10% (at least
 *   1/s), never above the ceiling. A calm period in which nothing waited says nothing about a
 *   higher rate: after a quiet night the rate is still the one learned, not a burst into the
 *   carrier's wall.
 * - With no ceiling, once the rate has grown to 4 times the most the carrier ever accepted in
 *   the second before it pushed back, its limit is gone: the rate is unlimited again.
 * Disabled, it is a plain token bucket at the ceiling (or no limit) that only reports episodes.
 *
 * Pure: the clock is injected and nothing is scheduled. What the clock makes due (a rise, the end
 * of an episode) is applied by the next call of any method, or of `tick()`.
 */

import { TokenBucket } from './throttle'

export type AdaptiveRateEvent =
  /** `rate`: per second once the answer is taken into account; null = unlimited. */
  | { type: 'throttling-started'; rate: number | null }
  | { type: 'throttling-ended'; answers: number; durationMs: number; rate: number | null }

export interface AdaptiveRateOptions {
  /** smpp.throughput_per_second; 0 = none. */
  ceiling: number
  /** smpp.adaptive_rate */
  enabled: boolean
  now?: () => number
  onEvent?: (event: AdaptiveRateEvent) => void
}

const WINDOW_MS = 1000
const CALM_MS = 10_000
const FIRST_CUT = 0.9
const LATER_CUT = 0.7
const RISE = 1.1
const MIN_RATE = 1
const UNLIMITED_AFTER = 4

interface Episode {
  startedAt: number
  lastAnswerAt: number
  answers: number
}

export class AdaptiveRate {
  private readonly ceiling: number | null
  private readonly enabled: boolean
  private readonly now: () => number
  private readonly onEvent: (event: AdaptiveRateEvent) => void
  private rate: number | null
  /** Paces submits at `rate`; null while unlimited. */
  private bucket: TokenBucket | null
  /** Times of accepted submits, oldest first; those before `acceptedHead` are forgotten. */
  private acceptedTimes: number[] = []
  private acceptedHead = 0
  /**
   * The most submits the carrier accepted in the second before the first answer of an episode:
   * the highest limit it has shown. Not the best rate accepted in calm times: that follows our
   * own rate as it rises, and would keep the rate limited for ever.
   */
  private highestLimitSeen = 0
  private episode: Episode | null = null
  private lastCutAt = -Infinity
  /** Start of the current calm period: the last answer or the last rise. */
  private calmSince: number
  private heldBack = false

  constructor(options: AdaptiveRateOptions) {
    if (!(options.ceiling >= 0)) throw new RangeError('ceiling must be 0 or positive')
    this.ceiling = options.ceiling > 0 ? options.ceiling : null
    this.enabled = options.enabled
    this.now = options.now ?? (() => performance.now())
    this.onEvent = options.onEvent ?? (() => {})
    this.rate = this.ceiling
    this.bucket = this.rate === null ? null : new TokenBucket(this.rate, this.now)
    this.calmSince = this.now()
  }

  /** Submits per second now; null when unlimited. */
  get currentRate(): number | null {
    this.tick()
    return this.rate
  }

  /** Takes a slot and returns 0, or takes nothing and returns the milliseconds until one. */
  take(): number {
    this.tick()
    const wait = this.bucket?.take() ?? 0
    if (wait > 0) this.heldBack = true
    return wait
  }

  /** The SMSC accepted a submit_sm. */
  accepted(): void {
    this.tick()
    const now = this.now()
    this.acceptedTimes.push(now)
    // Forgets what is older than a second, so memory stays bounded between answers.
    this.acceptedInLastWindow(now)
  }

  /** The SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL. */
  throttled(): void {
    this.tick()
    const now = this.now()
    this.calmSince = now
    this.heldBack = false
    if (this.episode === null) {
      this.episode = { startedAt: now, lastAnswerAt: now, answers: 1 }
      const limit = this.acceptedInLastWindow(now)
      this.highestLimitSeen = Math.max(this.highestLimitSeen, limit)
      if (this.enabled) {
        this.setRate(Math.min(this.rate ?? Infinity, Math.max(MIN_RATE, FIRST_CUT * limit)), now)
      }
      // The episode's first answer is its first signal, whether or not it lowered the rate.
      this.lastCutAt = now
      this.onEvent({ type: 'throttling-started', rate: this.rate })
      return
    }
    this.episode.answers++
    this.episode.lastAnswerAt = now
    if (this.enabled && this.rate !== null && now - this.lastCutAt >= WINDOW_MS) {
      this.setRate(Math.max(MIN_RATE, this.rate * LATER_CUT), now)
    }
  }

  /** Applies what the clock has made due: the end of an episode, rises of the rate. */
  tick(): void {
    const now = this.now()
    if (this.episode !== null && now - this.episode.lastAnswerAt >= CALM_MS) {
      const { startedAt, lastAnswerAt, answers } = this.episode
      this.episode = null
      this.onEvent({
        type: 'throttling-ended',
        answers,
        durationMs: lastAnswerAt - startedAt,
        rate: this.rate,
      })
    }
    if (now - this.calmSince < CALM_MS) return
    if (this.enabled && this.heldBack && this.rate !== null) this.rise(this.rate, now)
    this.calmSince = now
    this.heldBack = false
  }

  private rise(rate: number, now: number): void {
    const raised = Math.max(rate * RISE, rate + MIN_RATE)
    if (this.ceiling !== null) {
      this.setRate(Math.min(this.ceiling, raised), now)
    } else if (raised >= UNLIMITED_AFTER * Math.max(MIN_RATE, this.highestLimitSeen)) {
      this.setRate(null, now)
    } else {
      this.setRate(raised, now)
    }
  }

  private setRate(rate: number | null, now: number): void {
    if (rate === this.rate) return
    if (rate !== null && (this.rate === null || rate < this.rate)) this.lastCutAt = now
    this.rate = rate
    if (rate === null) this.bucket = null
    // From unlimited, nothing has been earned at the new rate yet.
    else if (this.bucket === null) this.bucket = new TokenBucket(rate, this.now, true)
    else this.bucket.setRate(rate)
  }

  private acceptedInLastWindow(now: number): number {
    const times = this.acceptedTimes
    while (this.acceptedHead < times.length && times[this.acceptedHead] <= now - WINDOW_MS) {
      this.acceptedHead++
    }
    // Compacted now and then rather than shifted one by one: at a thousand submits a second,
    // shift() would copy the array a thousand times a second.
    if (this.acceptedHead > 1024 && this.acceptedHead * 2 > times.length) {
      this.acceptedTimes = times.slice(this.acceptedHead)
      this.acceptedHead = 0
    }
    return this.acceptedTimes.length - this.acceptedHead
  }
}
