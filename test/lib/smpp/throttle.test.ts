import assert from 'node:assert/strict'
import { TokenBucket } from '../../../lib/smpp/throttle'

describe('lib/smpp/throttle', () => {
  it('allows a tenth of a second of burst, then one token per 1/rate', () => {
    let now = 0
    const bucket = new TokenBucket(100, () => now)
    for (let i = 0; i < 10; i++) assert.equal(bucket.take(), 0, `burst token ${i}`)
    assert.equal(bucket.take(), 10)
    now += 10
    assert.equal(bucket.take(), 0)
    assert.equal(bucket.take(), 10)
  })

  it('refills continuously, so rates above 1,000/s pass with millisecond timers', () => {
    let now = 0
    const bucket = new TokenBucket(5000, () => now)
    let sent = 0
    while (bucket.take() === 0) sent++
    assert.equal(sent, 500)
    now += 1
    while (bucket.take() === 0) sent++
    assert.equal(sent, 505)
  })

  it('never holds more than its capacity after a long pause, and at least one token', () => {
    let now = 0
    const slow = new TokenBucket(2, () => now)
    assert.equal(slow.take(), 0)
    assert.equal(slow.take(), 500)
    now += 60_000
    assert.equal(slow.take(), 0)
    assert.equal(slow.take(), 500)
  })

  it('changes its rate keeping what was earned at the old one, within the new capacity', () => {
    let now = 0
    const bucket = new TokenBucket(100, () => now, true)
    assert.equal(bucket.take(), 10, 'starts empty when asked')
    now += 50
    // 5 tokens earned at 100/s; the new capacity at 20/s is 2.
    bucket.setRate(20)
    assert.equal(bucket.take(), 0)
    assert.equal(bucket.take(), 0)
    assert.equal(bucket.take(), 50)
  })
})
