import assert from 'node:assert/strict'
import { canonicalMessageId, normaliseMessageId } from '../../../lib/smpp/message-id'

describe('lib/smpp/message-id', () => {
  it('stores the given form trimmed, lower-cased and without zero padding', () => {
    assert.equal(canonicalMessageId('  0000001A2B\u0000'), '1a2b')
    assert.equal(canonicalMessageId('006699'), '6699')
    assert.equal(canonicalMessageId('000'), '0')
    assert.equal(canonicalMessageId('Msg-0042'), 'msg-0042')
  })

  it('gives the canonical form first, then the other bases', () => {
    assert.deepEqual(normaliseMessageId('0000001A2B'), ['1a2b', '6699'])
    assert.deepEqual(normaliseMessageId('6699'), ['6699', '1a2b', '26265'])
    assert.deepEqual(normaliseMessageId('18446744073709551615').slice(0, 2), [
      '18446744073709551615',
      'ffffffffffffffff',
    ])
  })

  it('keeps non-numeric ids as they are, and has nothing for an empty id', () => {
    assert.deepEqual(normaliseMessageId(' a1b2-C3D4 '), ['a1b2-c3d4'])
    assert.deepEqual(normaliseMessageId('\u0000 '), [])
    assert.deepEqual(normaliseMessageId('0'), ['0'])
  })

  it('matches a receipt to its submit whichever base and padding each side used', () => {
    const forms = (n: bigint): string[] => [
      n.toString(10),
      n.toString(16),
      n.toString(16).toUpperCase().padStart(16, '0'),
      n.toString(10).padStart(20, '0'),
    ]
    for (const n of [0n, 7n, 10n, 255n, 6699n, 0x1a2bn, 4294967295n, 0xffffffffffffn]) {
      for (const submitted of forms(n)) {
        for (const reported of forms(n)) {
          assert.ok(
            normaliseMessageId(reported).includes(canonicalMessageId(submitted)),
            `submit_sm_resp ${submitted}, receipt ${reported}`,
          )
        }
      }
    }
  })
})
