import assert from 'node:assert/strict'
import { createAdmin } from '../../../lib/db/admins'
import {
  createSession,
  deleteSession,
  findSessionAdmin,
  purgeExpiredSessions,
} from '../../../lib/db/admin-sessions'
import { hashSecretToken } from '../../../lib/auth/tokens'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/admin-sessions (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let adminId: number
    const now = 1_800_000_000_000

    beforeEach(async () => {
      t = await createTestDatabase(kind, { migrate: true })
      adminId = (await createAdmin(t.db, { email: 'a@acme.test', name: 'A', passwordHash: 'h' })).id
    })
    afterEach(() => t.drop())

    it('issues a 32-byte base64url token and stores only its sha256', async () => {
      const token = await createSession(t.db, adminId, 60_000, now)
      assert.match(token, /^[A-Za-z0-9_-]{43}$/)
      const rows = await t.db('admin_sessions').select()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].token_hash, hashSecretToken(token))
      assert.match(rows[0].token_hash, /^[0-9a-f]{64}$/)
      assert.equal(Number(rows[0].expires_at), now + 60_000)
      assert.notEqual(token, await createSession(t.db, adminId, 60_000, now))
    })

    it('finds the admin until the session expires', async () => {
      const token = await createSession(t.db, adminId, 60_000, now)
      const found = await findSessionAdmin(t.db, token, now + 59_999)
      assert.equal(found?.admin.email, 'a@acme.test')
      assert.equal(found?.tokenHash, hashSecretToken(token))
      assert.equal(await findSessionAdmin(t.db, token, now + 60_000), null)
      assert.equal(await findSessionAdmin(t.db, 'x'.repeat(43), now), null)
      assert.equal(await findSessionAdmin(t.db, hashSecretToken(token), now), null)
    })

    it('deletes one session, and the expired ones', async () => {
      const a = await createSession(t.db, adminId, 60_000, now)
      const b = await createSession(t.db, adminId, 60_000, now)
      const c = await createSession(t.db, adminId, 1_000, now)
      assert.equal(await deleteSession(t.db, a), true)
      assert.equal(await deleteSession(t.db, a), false)
      assert.equal(await deleteSession(t.db, 'not a token'), false)
      assert.equal(await purgeExpiredSessions(t.db, now + 1_000), 1)
      assert.equal(await findSessionAdmin(t.db, c, now), null)
      assert.ok(await findSessionAdmin(t.db, b, now))
    })

    it('ends the sessions of a deleted admin', async () => {
      const token = await createSession(t.db, adminId, 60_000, now)
      await t.db('admins').where({ id: adminId }).delete()
      assert.equal(await findSessionAdmin(t.db, token, now), null)
    })
  })
}
