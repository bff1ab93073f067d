import assert from 'node:assert/strict'
import {
  beginLoginAttempt,
  clearLoginFailures,
  emailThrottleKey,
  ipThrottleKey,
  lockSpentKeys,
  lockedUntil,
  purgeLoginThrottle,
  refundLoginAttempt,
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

    /** A wrong password, as the login page handles it: counted first, then locked if spent. */
    async function failLogin(throttleKey: string, at: number): Promise<number | null> {
      const refused = await beginLoginAttempt(t.db, [throttleKey], policy, at)
      return refused ?? lockSpentKeys(t.db, [throttleKey], policy, at)
    }

    it('names keys by address, lower-cased', () => {
      assert.equal(key, 'email:alice@acme.test')
      assert.equal(ipThrottleKey('192.0.2.7'), 'ip:192.0.2.7')
    })

    it('counts an IPv6 client by its /64, and a mapped IPv4 address as IPv4', () => {
      const net64 = 'ip:2001:db8:0:7::/64'
      assert.equal(ipThrottleKey('2001:db8:0:7::1'), net64)
      assert.equal(ipThrottleKey('2001:DB8:0:7:ffff:1:2:3'), net64)
      assert.equal(ipThrottleKey('2001:0db8:0000:0007:0:0:0:9'), net64)
      assert.equal(ipThrottleKey('2001:db8:0:7::1%eth0'), net64)
      assert.notEqual(ipThrottleKey('2001:db8:0:8::1'), net64)
      assert.equal(ipThrottleKey('::1'), 'ip:0:0:0:0::/64')
      assert.equal(ipThrottleKey('::ffff:192.0.2.7'), 'ip:192.0.2.7')
      assert.equal(ipThrottleKey('::ffff:c000:207'), 'ip:192.0.2.7')
      assert.equal(ipThrottleKey('64:ff9b::192.0.2.7'), 'ip:64:ff9b:0:0::/64')
    })

    it('lets at most maxFailures attempts sent at once reach the password check', async () => {
      const ip = ipThrottleKey('192.0.2.7')
      const gates = await Promise.all(
        Array.from({ length: 12 }, () => beginLoginAttempt(t.db, [key, ip], policy, now)),
      )
      assert.ok(gates.filter((g) => g === null).length <= policy.maxFailures)
      assert.ok(gates.every((g) => g === null || g === now + policy.windowMs))
      assert.equal(await beginLoginAttempt(t.db, [key], policy, now + 1), now + policy.windowMs)
    })

    it('counts attempts still running: the one past the limit waits', async () => {
      for (let i = 0; i < policy.maxFailures; i++) {
        assert.equal(await beginLoginAttempt(t.db, [key], policy, now + i), null, `attempt ${i}`)
      }
      assert.equal(await beginLoginAttempt(t.db, [key], policy, now + 9), now + policy.windowMs)
      // The attempts let through fail: the key locks.
      assert.equal(await lockSpentKeys(t.db, [key], policy, now + 10), now + 10 + policy.windowMs)
      assert.equal(
        await beginLoginAttempt(t.db, [key], policy, now + 11),
        now + 10 + policy.windowMs,
      )
    })

    it('does not charge a client for an attempt that succeeded', async () => {
      const ip = ipThrottleKey('192.0.2.7')
      for (let i = 0; i < 10; i++) {
        assert.equal(await beginLoginAttempt(t.db, [ip], policy, now + i), null, `login ${i}`)
        await refundLoginAttempt(t.db, ip, now + i)
      }
      const row = await t.db('login_throttle').where({ throttle_key: ip }).first()
      assert.equal(Number(row.failures), 0)
      // Failures still count and lock.
      for (let i = 0; i < 3; i++) {
        assert.equal(await beginLoginAttempt(t.db, [ip], policy, now + 20 + i), null)
      }
      assert.notEqual(await lockSpentKeys(t.db, [ip], policy, now + 23), null)
      await refundLoginAttempt(t.db, ip, now + 24)
      assert.notEqual(await lockedUntil(t.db, [ip], now + 25), null)
    })

    it('locks a key at the last allowed failure, for the window', async () => {
      assert.equal(await failLogin(key, now), null)
      assert.equal(await failLogin(key, now + 1), null)
      assert.equal(await lockedUntil(t.db, [key], now + 2), null)
      assert.equal(await failLogin(key, now + 2), now + 2 + policy.windowMs)
      assert.equal(await lockedUntil(t.db, [key, 'ip:x'], now + 3), now + 2 + policy.windowMs)
      assert.equal(await lockedUntil(t.db, ['ip:x'], now + 3), null)
      assert.equal(await lockedUntil(t.db, [key], now + 2 + policy.windowMs), null)
    })

    it('forgets failures older than the window', async () => {
      await failLogin(key, now)
      await failLogin(key, now + 1)
      const later = now + policy.windowMs + 1
      assert.equal(await failLogin(key, later), null)
      assert.equal(await failLogin(key, later + 1), null)
      assert.notEqual(await failLogin(key, later + 2), null)
    })

    it('counts failures from two processes at once', async () => {
      await Promise.all([0, 1, 2].map((i) => failLogin(key, now + i)))
      assert.notEqual(await lockedUntil(t.db, [key], now + 3), null)
    })

    it('clears a key, and purges keys with nothing to remember', async () => {
      await failLogin(key, now)
      await clearLoginFailures(t.db, key)
      for (let i = 0; i < 3; i++) await failLogin(key, now + i)
      assert.notEqual(await lockedUntil(t.db, [key], now + 3), null)
      await failLogin('ip:old', now)
      assert.equal(await purgeLoginThrottle(t.db, policy, now + policy.windowMs), 1)
      assert.notEqual(await lockedUntil(t.db, [key], now + 3), null)
      assert.equal(await purgeLoginThrottle(t.db, policy, now + 2 * policy.windowMs + 2), 1)
    })
  })
}
