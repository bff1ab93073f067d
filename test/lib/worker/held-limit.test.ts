import assert from 'node:assert/strict'
import { heldSmsLimit } from '../../../lib/worker/worker'

describe('heldSmsLimit', () => {
  it('is batch_size without a rate cap', () => {
    assert.equal(heldSmsLimit(300), 300)
    assert.equal(heldSmsLimit(300, { perSecond: 0, window: 10 }), 300)
  })

  it('is about two seconds of sending under a cap, at least the window, at most batch_size', () => {
    assert.equal(heldSmsLimit(300, { perSecond: 10, window: 10 }), 20)
    assert.equal(heldSmsLimit(300, { perSecond: 2.5, window: 1 }), 5)
    assert.equal(heldSmsLimit(300, { perSecond: 2, window: 10 }), 10)
    assert.equal(heldSmsLimit(300, { perSecond: 1000, window: 10 }), 300)
    assert.equal(heldSmsLimit(5, { perSecond: 10, window: 10 }), 5)
  })
})
