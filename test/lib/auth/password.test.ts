import assert from 'node:assert/strict'
import {
  checkPasswordPolicy,
  generatePassword,
  hashPassword,
  verifyPassword,
  verifyPasswordOrDummy,
} from '../../../lib/auth/password'

describe('lib/auth/password', function () {
  this.timeout(20_000)

  it('stores scrypt with its parameters, a 16-byte salt and a 64-byte key', async () => {
    const stored = await hashPassword('correct horse battery')
    const [scheme, N, r, p, salt, key] = stored.split('$')
    assert.deepEqual([scheme, N, r, p], ['scrypt', '32768', '8', '1'])
    assert.equal(Buffer.from(salt, 'base64').length, 16)
    assert.equal(Buffer.from(key, 'base64').length, 64)
    // A new salt each time.
    assert.notEqual(await hashPassword('correct horse battery'), stored)
  })

  it('verifies the right password only', async () => {
    const stored = await hashPassword('correct horse battery')
    assert.equal(await verifyPassword('correct horse battery', stored), true)
    assert.equal(await verifyPassword('correct horse batterY', stored), false)
    assert.equal(await verifyPassword('', stored), false)
  })

  it('treats composed and decomposed accents as the same password', async () => {
    const stored = await hashPassword('mot de passe très sûr')
    assert.equal(await verifyPassword('mot de passe tre\u0300s su\u0302r', stored), true)
  })

  it('refuses malformed or tampered hashes without throwing', async () => {
    const stored = await hashPassword('correct horse battery')
    const parts = stored.split('$')
    const tampered = [
      'plain',
      ['bcrypt', ...parts.slice(1)].join('$'),
      ['scrypt', '1048577', ...parts.slice(2)].join('$'),
      ['scrypt', '4194304', ...parts.slice(2)].join('$'),
      ['scrypt', '32768', '8', '1', '', parts[5]].join('$'),
      ['scrypt', '32768', '8', '1', parts[4], 'AAAA'].join('$'),
    ]
    for (const bad of tampered) {
      assert.equal(await verifyPassword('correct horse battery', bad), false, bad.slice(0, 30))
    }
  })

  it('refuses at once parameters that would take gigabytes, each in range on its own', async () => {
    const parts = (await hashPassword('correct horse battery')).split('$')
    // 128 * 2^20 * 32 bytes: 4 GiB of memory and many seconds for one check.
    const greedy = ['scrypt', String(1 << 20), '32', '1', parts[4], parts[5]].join('$')
    const started = Date.now()
    assert.equal(await verifyPassword('correct horse battery', greedy), false)
    assert.ok(Date.now() - started < 500, `took ${Date.now() - started} ms`)
  })

  it('spends the time of a real check when there is no hash, and says no', async () => {
    assert.equal(await verifyPasswordOrDummy('anything at all', null), false)
    const stored = await hashPassword('correct horse battery')
    assert.equal(await verifyPasswordOrDummy('correct horse battery', stored), true)
    const started = process.hrtime.bigint()
    await verifyPasswordOrDummy('anything at all', null)
    const dummyMs = Number(process.hrtime.bigint() - started) / 1e6
    const realStart = process.hrtime.bigint()
    await verifyPassword('anything at all', stored)
    const realMs = Number(process.hrtime.bigint() - realStart) / 1e6
    assert.ok(dummyMs > realMs / 3, `dummy ${dummyMs} ms, real ${realMs} ms`)
  })

  it('asks for 10 to 200 characters, counted as people see them', () => {
    assert.equal(checkPasswordPolicy('123456789'), 'too_short')
    assert.equal(checkPasswordPolicy('1234567890'), null)
    assert.equal(checkPasswordPolicy('x'.repeat(200)), null)
    assert.equal(checkPasswordPolicy('x'.repeat(201)), 'too_long')
    // Five emoji are ten UTF-16 units but five characters.
    assert.equal(checkPasswordPolicy('😀😀😀😀😀'), 'too_short')
  })

  it('generates passwords that pass the policy and differ', () => {
    const a = generatePassword()
    assert.equal(checkPasswordPolicy(a), null)
    assert.notEqual(a, generatePassword())
  })
})
