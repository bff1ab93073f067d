import assert from 'node:assert/strict'
import { openWithToken, sealWithToken } from '../../../lib/auth/seal'
import { newSecretToken } from '../../../lib/auth/tokens'

describe('lib/auth/seal', () => {
  const token = newSecretToken()
  const secret = newSecretToken()

  it('opens with the same token and context only', () => {
    const sealed = sealWithToken(secret, token, '7')
    assert.equal(openWithToken(sealed, token, '7'), secret)
    assert.equal(openWithToken(sealed, newSecretToken(), '7'), null)
    assert.equal(openWithToken(sealed, token, '8'), null)
  })

  it('hides the secret and never seals the same way twice', () => {
    const sealed = sealWithToken(secret, token, '7')
    assert.ok(!sealed.includes(secret))
    assert.ok(!Buffer.from(sealed, 'base64url').toString('latin1').includes(secret))
    assert.notEqual(sealWithToken(secret, token, '7'), sealed)
    // Fits the table's column.
    assert.ok(sealed.length <= 255)
  })

  it('refuses an altered or truncated text without throwing', () => {
    const bytes = Buffer.from(sealWithToken(secret, token, '7'), 'base64url')
    bytes[bytes.length - 1] ^= 1
    assert.equal(openWithToken(bytes.toString('base64url'), token, '7'), null)
    for (const text of ['', 'abc', bytes.subarray(0, 20).toString('base64url')]) {
      assert.equal(openWithToken(text, token, '7'), null)
    }
  })
})
