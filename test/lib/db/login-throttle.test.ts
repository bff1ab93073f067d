import assert from 'node:assert/strict'
import {
  clearLoginFailures,
  emailThrottleKey,
  ipThrottleKey,
  lockedUntil,
  purgeLoginThrottle,
  recordLoginFailure,
} from '../../../lib/db/login-throttle'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const policy = { maxFailures: 3, windowMs: 15 * 60_000 }

for (const kind of databaseKinds()) {
  describe(`lib/db/login-throttle (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    const now = 1_800_000_000_000
    const key = emailThrottleKey(' Alice@Acme.test ')

    beforeEach(async () => {
      t = await createTestDatabase(kind, { migrate: true })
    })
    afterEach(() => t.drop())

    it('names keys by address, lower-cased', () => {
      assert.equal(key, 'email:alice@acme.test')
      assert.equal(ipThrottleKey('2001:db8::1'), 'ip:2001:db8::1')
    })

    it('locks a key at the last allowed failure, for the window', async () => {
      assert.equal(await recordLoginFailure(t.db, key, policy, now), null)
      assert.equal(await recordLoginFailure(t.db, key, policy, now + 1), null)
      assert.equal(await lockedUntil(t.db, [key], now + 2), null)
      assert.equal(await recordLoginFailure(t.db, key, policy, now + 2), now + 2 + policy.windowMs)
      assert.equal(await lockedUntil(t.db, [key, 'ip:x'], now + 3), now + 2 + policy.windowMs)
      assert.equal(await lockedUntil(t.db, ['ip:x'], now + 3), null)
      assert.equal(await lockedUntil(t.db, [key], now + 2 + policy.windowMs), null)
    })

    it('forgets failures older than the window', async () => {
      await recordLoginFailure(t.db, key, policy, now)
      await recordLoginFailure(t.db, key, policy, now + 1)
      const later = now + policy.windowMs + 1
      assert.equal(await recordLoginFailure(t.db, key, policy, later), null)
      assert.equal(await recordLoginFailure(t.db, key, policy, later + 1), null)
      assert.notEqual(await recordLoginFailure(t.db, key, policy, later + 2), null)
    })

    it('counts failures from two processes at once', async () => {
      await Promise.all([0, 1, 2].map((i) => recordLoginFailure(t.db, key, policy, now + i)))
      assert.notEqual(await lockedUntil(t.db, [key], now + 3), null)
    })

    it('clears a key, and purges keys with nothing to remember', async () => {
      await recordLoginFailure(t.db, key, policy, now)
      await clearLoginFailures(t.db, key)
      for (let i = 0; i < 3; i++) await recordLoginFailure(t.db, key, policy, now + i)
      assert.notEqual(await lockedUntil(t.db, [key], now + 3), null)
      await recordLoginFailure(t.db, 'ip:old', policy, now)
      assert.equal(await purgeLoginThrottle(t.db, policy, now + policy.windowMs), 1)
      assert.notEqual(await lockedUntil(t.db, [key], now + 3), null)
      assert.equal(await purgeLoginThrottle(t.db, policy, now + 2 * policy.windowMs + 2), 1)
    })
  })
}
