import assert from 'node:assert/strict'
import {
  AdaptiveRate,
  type AdaptiveRateEvent,
  type AdaptiveRateOptions,
} from '../../../lib/smpp/adaptive-rate'

class FakeClock {
  t = 0
  readonly now = (): number => this.t
}

function setup(options: Partial<AdaptiveRateOptions> = {}) {
  const clock = new FakeClock()
  const events: AdaptiveRateEvent[] = []
  const rate = new AdaptiveRate({
    ceiling: 0,
    enabled: true,
    now: clock.now,
    onEvent: (e) => events.push(e),
    ...options,
  })
  return { clock, events, rate }
}

function assertRate(rate: AdaptiveRate, expected: number, message?: string): void {
  const actual = rate.currentRate
  assert.ok(
    actual !== null && Math.abs(actual - expected) < 1e-9,
    `${message ?? 'rate'}: ${actual} instead of ${expected}`,
  )
}

/** `count` submits accepted evenly over the next `ms` milliseconds, the last one at the end. */
function acceptEvenly(rate: AdaptiveRate, clock: FakeClock, count: number, ms: number): void {
  for (let i = 0; i < count; i++) {
    clock.t += ms / count
    rate.accepted()
  }
}

/** Calls take() until it says wait, then waits as told: `seconds` of a sender that never runs dry. */
function sendFlatOut(rate: AdaptiveRate, clock: FakeClock, seconds: number): number {
  const end = clock.t + seconds * 1000
  let sent = 0
  while (clock.t < end) {
    const wait = rate.take()
    if (wait > 0) clock.t += wait
    else {
      sent++
      rate.accepted()
      clock.t += 1
    }
  }
  return sent
}

interface Second {
  attempts: number
  accepted: number
  throttled: number
  /** The highest currentRate seen in that second; Infinity for unlimited. */
  maxRate: number
}

interface CarrierRun {
  rate: AdaptiveRate
  clock: FakeClock
  /** The carrier's limit per sliding second at a time; null = none. */
  limitAt: (t: number) => number | null
  seconds: number
}

/**
 * A sender with an endless queue against a carrier that accepts `limitAt(t)` submits per sliding
 * second and answers ESME_RTHROTTLED beyond, with 20 ms of latency, a window of 10 outstanding
 * PDUs and a link that carries at most one submit per millisecond.
 */
function runAgainstCarrier({ rate, clock, limitAt, seconds }: CarrierRun): Second[] {
  const LATENCY_MS = 20
  const WINDOW = 10
  const start = clock.t
  const end = start + seconds * 1000
  const stats: Second[] = Array.from({ length: seconds }, () => ({
    attempts: 0,
    accepted: 0,
    throttled: 0,
    maxRate: 0,
  }))
  const carrierAccepted: number[] = []
  const inFlight: { at: number; ok: boolean }[] = []
  const second = () => stats[Math.floor((clock.t - start) / 1000)]
  while (clock.t < end) {
    while (inFlight.length > 0 && inFlight[0].at <= clock.t) {
      const answer = inFlight.shift()!
      if (answer.ok) rate.accepted()
      else rate.throttled()
    }
    const current = rate.currentRate
    second().maxRate = Math.max(second().maxRate, current ?? Infinity)
    let next = inFlight[0]?.at ?? Infinity
    if (inFlight.length < WINDOW) {
      const wait = rate.take()
      if (wait === 0) {
        const limit = limitAt(clock.t)
        while (carrierAccepted.length > 0 && carrierAccepted[0] <= clock.t - 1000) {
          carrierAccepted.shift()
        }
        const ok = limit === null || carrierAccepted.length < limit
        if (ok) carrierAccepted.push(clock.t)
        inFlight.push({ at: clock.t + LATENCY_MS, ok })
        second().attempts++
        if (ok) second().accepted++
        else second().throttled++
        clock.t += 1
        continue
      }
      next = Math.min(next, clock.t + wait)
    }
    clock.t = next
  }
  return stats
}

const sum = (seconds: Second[], key: 'attempts' | 'accepted' | 'throttled') =>
  seconds.reduce((total, s) => total + s[key], 0)

describe('lib/smpp/adaptive-rate', () => {
  describe('the rules', () => {
    it('starts unlimited without a ceiling, and at the ceiling with one', () => {
      const free = setup().rate
      assert.equal(free.currentRate, null)
      for (let i = 0; i < 10_000; i++) assert.equal(free.take(), 0)
      const capped = setup({ ceiling: 50 })
      assertRate(capped.rate, 50)
      const sent = sendFlatOut(capped.rate, capped.clock, 10)
      assert.ok(sent >= 500 && sent <= 505, `${sent} in 10 s`)
    })

    it('on the first answer, drops to 90% of what was accepted in the last second', () => {
      const { clock, events, rate } = setup()
      acceptEvenly(rate, clock, 40, 2000)
      rate.throttled()
      assertRate(rate, 18)
      assert.deepEqual(events, [{ type: 'throttling-started', rate: 18 }])
    })

    it('never drops below 1/s, nor rises on an answer', () => {
      const { rate } = setup()
      rate.throttled()
      assertRate(rate, 1)
      const capped = setup({ ceiling: 5 })
      acceptEvenly(capped.rate, capped.clock, 100, 1000)
      capped.rate.throttled()
      assertRate(capped.rate, 5)
      capped.clock.t += 100
      capped.rate.throttled()
      assertRate(capped.rate, 5, 'the same second as the first answer')
      capped.clock.t += 900
      capped.rate.throttled()
      assertRate(capped.rate, 3.5)
    })

    it('takes one second of answers as one signal, then cuts by 30% per further second', () => {
      const { clock, events, rate } = setup()
      acceptEvenly(rate, clock, 100, 1000)
      rate.throttled()
      assertRate(rate, 90)
      for (let i = 0; i < 20; i++) {
        clock.t += 40
        rate.throttled()
      }
      assertRate(rate, 90, 'answers within the second of the cut')
      clock.t += 200
      rate.throttled()
      assertRate(rate, 63)
      clock.t += 500
      rate.throttled()
      assertRate(rate, 63)
      clock.t += 500
      rate.throttled()
      assertRate(rate, 44.1)
      assert.equal(events.length, 1, 'one episode')
    })

    it('after 10 s without an answer, ends the episode and rises 10% if the rate held submits back', () => {
      const { clock, events, rate } = setup()
      acceptEvenly(rate, clock, 100, 1000)
      rate.throttled()
      clock.t += 3000
      rate.throttled()
      while (rate.take() === 0);
      clock.t += 9999
      assertRate(rate, 63)
      assert.equal(events.length, 1)
      clock.t += 1
      assertRate(rate, 69.3)
      const ended = events[1]
      assert.ok(ended.type === 'throttling-ended')
      assert.equal(ended.answers, 2)
      assert.equal(ended.durationMs, 3000)
      assert.ok(Math.abs((ended.rate ?? 0) - 63) < 1e-9, 'the rate the episode ended with')
    })

    it('does not rise after a calm in which nothing waited for it', () => {
      const { clock, rate } = setup()
      acceptEvenly(rate, clock, 20, 1000)
      rate.throttled()
      assertRate(rate, 18)
      clock.t += 3_600_000
      assertRate(rate, 18)
      sendFlatOut(rate, clock, 10)
      assertRate(rate, 19.8)
    })

    it('rises by at least 1/s at low rates', () => {
      const { clock, rate } = setup()
      rate.throttled()
      assertRate(rate, 1)
      sendFlatOut(rate, clock, 10)
      assertRate(rate, 2)
      sendFlatOut(rate, clock, 10)
      assertRate(rate, 3)
    })

    it('never rises above the ceiling', () => {
      const { clock, rate } = setup({ ceiling: 30 })
      acceptEvenly(rate, clock, 30, 1000)
      rate.throttled()
      assertRate(rate, 27)
      sendFlatOut(rate, clock, 10)
      assertRate(rate, 29.7)
      sendFlatOut(rate, clock, 10)
      assertRate(rate, 30)
      sendFlatOut(rate, clock, 60)
      assertRate(rate, 30)
    })

    it('without a ceiling, becomes unlimited at 4 times the most the carrier accepted before an answer', () => {
      const { clock, rate } = setup()
      acceptEvenly(rate, clock, 10, 1000)
      rate.throttled()
      assertRate(rate, 9)
      const rates: Array<number | null> = []
      while (rate.currentRate !== null && rates.length < 100) {
        sendFlatOut(rate, clock, 10)
        rates.push(rate.currentRate)
      }
      // 9 → 10 → 11 → 12.1 → … → 38.97 → 42.87 ≥ 4 × the 10/s accepted before the answer.
      assert.equal(rates.length, 16)
      assert.ok((rates[14] ?? Infinity) < 40)
    })

    it('disabled, is a plain bucket at the ceiling that only reports episodes', () => {
      const { clock, events, rate } = setup({ ceiling: 20, enabled: false })
      acceptEvenly(rate, clock, 20, 1000)
      rate.throttled()
      clock.t += 1500
      rate.throttled()
      assertRate(rate, 20)
      const sent = sendFlatOut(rate, clock, 20)
      assert.ok(sent >= 400 && sent <= 402, `${sent} in 20 s`)
      assertRate(rate, 20)
      assert.deepEqual(events, [
        { type: 'throttling-started', rate: 20 },
        { type: 'throttling-ended', answers: 2, durationMs: 1500, rate: 20 },
      ])
      const free = setup({ enabled: false })
      free.rate.throttled()
      assert.equal(free.rate.currentRate, null)
      assert.equal(free.rate.take(), 0)
      assert.deepEqual(free.events, [{ type: 'throttling-started', rate: null }])
    })
  })

  describe('against a carrier', () => {
    it('learns a 20/s limit within a second and then stays at or under ~22/s', () => {
      const { clock, events, rate } = setup()
      const seconds = runAgainstCarrier({ rate, clock, limitAt: () => 20, seconds: 600 })
      const settled = seconds.slice(2)
      assert.ok(seconds[1].maxRate <= 20, `rate after the first second: ${seconds[1].maxRate}`)
      for (const [i, s] of settled.entries()) {
        assert.ok(s.maxRate <= 22, `second ${i + 2}: rate ${s.maxRate}`)
        assert.ok(s.attempts <= 23, `second ${i + 2}: ${s.attempts} submits`)
      }
      const throttled = sum(settled, 'throttled') / sum(settled, 'attempts')
      assert.ok(throttled < 0.01, `throttled share ${throttled}`)
      const accepted = sum(settled, 'accepted') / settled.length
      assert.ok(accepted >= 17, `accepted ${accepted}/s`)
      assert.equal(events[0].type, 'throttling-started')
    })

    it('rises again when the carrier lifts its limit, to unlimited without a ceiling', () => {
      const { clock, rate } = setup()
      const seconds = runAgainstCarrier({
        rate,
        clock,
        limitAt: (t) => (t < 60_000 ? 20 : null),
        seconds: 300,
      })
      assert.equal(rate.currentRate, null)
      const lastTen = seconds.slice(-10)
      assert.ok(sum(lastTen, 'accepted') / 10 > 300, 'hundreds a second once unlimited')
      const firstUnlimited = seconds.findIndex((s) => s.maxRate === Infinity && s.attempts > 100)
      assert.ok(firstUnlimited > 60 && firstUnlimited < 260, `unlimited from ${firstUnlimited} s`)
    })

    it('stays under its ceiling whatever the carrier does', () => {
      const { clock, rate } = setup({ ceiling: 50 })
      const seconds = runAgainstCarrier({
        rate,
        clock,
        limitAt: (t) => (t < 60_000 ? 20 : null),
        seconds: 300,
      })
      for (const [i, s] of seconds.entries()) {
        assert.ok(s.maxRate <= 50, `second ${i}: rate ${s.maxRate}`)
        assert.ok(s.attempts <= 55, `second ${i}: ${s.attempts} submits`)
      }
      assert.ok(seconds[30].maxRate <= 22)
      assertRate(rate, 50)
      assert.ok(sum(seconds.slice(-10), 'accepted') >= 495)
    })

    it('is never throttled by a carrier above its ceiling', () => {
      const { clock, events, rate } = setup({ ceiling: 15 })
      const seconds = runAgainstCarrier({ rate, clock, limitAt: () => 20, seconds: 60 })
      assert.equal(sum(seconds, 'throttled'), 0)
      assert.deepEqual(events, [])
      assert.equal(sum(seconds, 'accepted'), 15 * 60 + 1)
    })
  })
})
