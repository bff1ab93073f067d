import assert from 'node:assert/strict'
import { concatReference } from '../../../lib/worker/worker'

describe('concatReference', () => {
  it('is a number from 1 to 255, the same for the same SMS', () => {
    for (const id of [1, 250, 251, 252, 1_000_003, 2 ** 40])
      assert.ok(concatReference(id) >= 1 && concatReference(id) <= 255)
    assert.equal(concatReference(123_456), concatReference(123_456))
  })

  // A Galera node numbers rows in steps of the cluster's size, from its own offset.
  it('takes 251 references before one repeats, whatever step the ids come in', () => {
    for (let step = 1; step <= 9; step++) {
      for (let offset = 1; offset <= step; offset++) {
        const refs = new Set<number>()
        for (let k = 0; k < 251; k++) refs.add(concatReference(offset + k * step + 1_000_000))
        assert.equal(refs.size, 251, `step ${step}, offset ${offset}`)
      }
    }
  })
})
