import assert from 'node:assert/strict'
import { changePassword, createAdmin, findAdminById } from '../../../lib/db/admins'
import { createSession, findSessionAdmin } from '../../../lib/db/admin-sessions'
import {
  completePasswordReset,
  findPasswordReset,
  issuePasswordReset,
  passwordResetQuotas,
  restorePreviousReset,
} from '../../../lib/db/password-resets'
import { hashSecretToken } from '../../../lib/auth/tokens'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const HOUR = 3_600_000

for (const kind of databaseKinds()) {
  describe(`lib/db/password-resets (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let adminId: number
    let otherId: number
    const now = 1_800_000_000_000

    beforeEach(async () => {
      t = await createTestDatabase(kind, { migrate: true })
      adminId = (await createAdmin(t.db, { email: 'a@acme.test', name: 'A', passwordHash: 'old' }))
        .id
      otherId = (await createAdmin(t.db, { email: 'b@acme.test', name: 'B', passwordHash: 'old' }))
        .id
    })
    afterEach(() => t.drop())

    it('stores only the sha256 of a random token, with its expiry', async () => {
      const issued = await issuePasswordReset(t.db, adminId, HOUR, now)
      assert.match(issued.token, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(issued.expiresAt, now + HOUR)
      const rows = await t.db('admin_password_resets').select()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].token_hash, hashSecretToken(issued.token))
      assert.ok(!JSON.stringify(rows).includes(issued.token))
      assert.deepEqual(await findPasswordReset(t.db, issued.token, now + HOUR - 1), {
        state: 'valid',
        adminId,
        email: 'a@acme.test',
        expiresAt: now + HOUR,
      })
      assert.deepEqual(await findPasswordReset(t.db, issued.token, now + HOUR), {
        state: 'expired',
      })
    })

    it('replaces the previous link of the same admin, not those of others', async () => {
      const first = await issuePasswordReset(t.db, adminId, HOUR, now)
      const others = await issuePasswordReset(t.db, otherId, HOUR, now)
      const second = await issuePasswordReset(t.db, adminId, HOUR, now + 1000)
      assert.equal((await findPasswordReset(t.db, first.token, now + 2000)).state, 'invalid')
      assert.equal((await findPasswordReset(t.db, second.token, now + 2000)).state, 'valid')
      assert.equal((await findPasswordReset(t.db, others.token, now + 2000)).state, 'valid')
      assert.equal(second.previous?.tokenHash, hashSecretToken(first.token))
    })

    it('drops expired links of anyone when a new one is issued', async () => {
      await issuePasswordReset(t.db, otherId, HOUR, now)
      await issuePasswordReset(t.db, adminId, HOUR, now + HOUR)
      const left = await t.db('admin_password_resets').pluck('admin_id')
      assert.deepEqual(left.map(Number), [adminId])
    })

    it('refuses tokens that are not of our shape, or unknown, before and without a match', async () => {
      assert.equal((await findPasswordReset(t.db, 'short', now)).state, 'invalid')
      assert.equal((await findPasswordReset(t.db, 'x'.repeat(43), now)).state, 'invalid')
      assert.equal(await completePasswordReset(t.db, "' OR 1=1 --", 'new', now), null)
    })

    it('sets the password and ends every session of that admin only, once', async () => {
      const mine = await createSession(t.db, adminId, HOUR, now)
      const mine2 = await createSession(t.db, adminId, HOUR, now)
      const theirs = await createSession(t.db, otherId, HOUR, now)
      const issued = await issuePasswordReset(t.db, adminId, HOUR, now)
      const admin = await completePasswordReset(t.db, issued.token, 'new-hash', now + 1000)
      assert.equal(admin?.email, 'a@acme.test')
      const row = await findAdminById(t.db, adminId)
      assert.equal(row?.passwordHash, 'new-hash')
      assert.equal(
        Number((await t.db('admins').where({ id: adminId }).first()).password_changed_at),
        now + 1000,
      )
      assert.equal(await findSessionAdmin(t.db, mine, now + 2000), null)
      assert.equal(await findSessionAdmin(t.db, mine2, now + 2000), null)
      assert.ok(await findSessionAdmin(t.db, theirs, now + 2000))
      // Single use.
      assert.equal(await completePasswordReset(t.db, issued.token, 'again', now + 2000), null)
      assert.equal((await findPasswordReset(t.db, issued.token, now + 2000)).state, 'invalid')
      assert.equal((await findAdminById(t.db, adminId))?.passwordHash, 'new-hash')
    })

    it('refuses an expired link and leaves the password alone', async () => {
      const issued = await issuePasswordReset(t.db, adminId, HOUR, now)
      assert.equal(await completePasswordReset(t.db, issued.token, 'new', now + HOUR), null)
      assert.equal((await findAdminById(t.db, adminId))?.passwordHash, 'old')
    })

    it('lets only one of two requests with the same link through', async () => {
      const issued = await issuePasswordReset(t.db, adminId, HOUR, now)
      const results = await Promise.all([
        completePasswordReset(t.db, issued.token, 'first', now),
        completePasswordReset(t.db, issued.token, 'second', now),
      ])
      assert.equal(results.filter(Boolean).length, 1)
    })

    it('puts the previous link back when the new one could not be mailed', async () => {
      const first = await issuePasswordReset(t.db, adminId, HOUR, now)
      const second = await issuePasswordReset(t.db, adminId, HOUR, now + 1000)
      await restorePreviousReset(t.db, adminId, second)
      assert.equal((await findPasswordReset(t.db, first.token, now + 2000)).state, 'valid')
      assert.equal((await findPasswordReset(t.db, second.token, now + 2000)).state, 'invalid')
      // A newer link meanwhile is not undone.
      const third = await issuePasswordReset(t.db, adminId, HOUR, now + 3000)
      await restorePreviousReset(t.db, adminId, second)
      assert.equal((await findPasswordReset(t.db, third.token, now + 4000)).state, 'valid')
    })

    it('forgets a pending link once the password is changed another way', async () => {
      const issued = await issuePasswordReset(t.db, adminId, HOUR, now)
      await changePassword(t.db, adminId, 'changed', null, now + 1000)
      assert.equal((await findPasswordReset(t.db, issued.token, now + 2000)).state, 'invalid')
    })

    it('keys quotas by address (any case) and by client network', () => {
      const limits = { perAddress: 3, perClient: 10, windowMs: HOUR }
      const a = passwordResetQuotas('A@Acme.test', '2001:db8:1:2::5', limits)
      const b = passwordResetQuotas('a@acme.test', '2001:db8:1:2::9', limits)
      assert.deepEqual(a, b)
      assert.equal(a[1].key, 'reset-from:2001:db8:1:2::/64')
      assert.ok(!a[0].key.includes('acme'), 'the address is digested')
      assert.ok(
        a.every((q) => q.key.length + 12 <= 96),
        'fits counter_key with a window number',
      )
    })
  })
}
