import assert from 'node:assert/strict'
import { createAccount, type Account } from '../../../lib/db/accounts'
import { createAdmin } from '../../../lib/db/admins'
import { createSession, deleteSession } from '../../../lib/db/admin-sessions'
import {
  holdSecretForDisplay,
  SECRET_REVEAL_TTL_MS,
  takeSecretForDisplay,
} from '../../../lib/db/webhook-secret-reveals'
import { newSecretToken } from '../../../lib/auth/tokens'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/webhook-secret-reveals (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let acme: Account
    let globex: Account
    let session: string
    let otherSession: string
    const now = 1_800_000_000_000

    beforeEach(async () => {
      t = await createTestDatabase(kind, { migrate: true })
      acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      globex = await createAccount(t.db, { ref: 'globex', name: 'Globex' })
      const admin = await createAdmin(t.db, { email: 'a@acme.test', name: 'A', passwordHash: 'x' })
      session = await createSession(t.db, admin.id, 3_600_000, now)
      otherSession = await createSession(t.db, admin.id, 3_600_000, now)
    })
    afterEach(() => t.drop())

    it('gives the secret once, to its session and account only', async () => {
      const secret = newSecretToken()
      await holdSecretForDisplay(t.db, session, acme.id, secret, now)
      assert.equal(await takeSecretForDisplay(t.db, otherSession, acme.id, now), null)
      assert.equal(await takeSecretForDisplay(t.db, session, globex.id, now), null)
      assert.equal(await takeSecretForDisplay(t.db, session, acme.id, now + 1), secret)
      assert.equal(await takeSecretForDisplay(t.db, session, acme.id, now + 2), null)
      assert.equal((await t.db('webhook_secret_reveals')).length, 0)
    })

    it('stores neither the secret nor the session token', async () => {
      const secret = newSecretToken()
      await holdSecretForDisplay(t.db, session, acme.id, secret, now)
      const rows = JSON.stringify(await t.db('webhook_secret_reveals'))
      assert.ok(!rows.includes(secret))
      assert.ok(!rows.includes(session))
    })

    it('expires unseen after a few minutes, and keeps the latest of two', async () => {
      await holdSecretForDisplay(t.db, session, acme.id, 'first', now)
      await holdSecretForDisplay(t.db, session, acme.id, 'second', now + 1)
      assert.equal((await t.db('webhook_secret_reveals')).length, 1)
      assert.equal(await takeSecretForDisplay(t.db, session, acme.id, now + 2), 'second')

      await holdSecretForDisplay(t.db, session, acme.id, 'late', now)
      const later = now + SECRET_REVEAL_TTL_MS
      assert.equal(await takeSecretForDisplay(t.db, session, acme.id, later), null)
      // The next hold clears what expired, of any session.
      await holdSecretForDisplay(t.db, otherSession, globex.id, 'other', later)
      assert.deepEqual(
        (await t.db('webhook_secret_reveals')).map((r) => Number(r.account_id)),
        [globex.id],
      )
    })

    it('goes with the session: a logout leaves nothing to show', async () => {
      await holdSecretForDisplay(t.db, session, acme.id, newSecretToken(), now)
      await deleteSession(t.db, session)
      assert.equal((await t.db('webhook_secret_reveals')).length, 0)
    })

    it('shows it to one of two loads at once', async () => {
      await holdSecretForDisplay(t.db, session, acme.id, 'once', now)
      const shown = await Promise.all([
        takeSecretForDisplay(t.db, session, acme.id, now),
        takeSecretForDisplay(t.db, session, acme.id, now),
      ])
      assert.deepEqual(shown.filter(Boolean), ['once'])
    })
  })
}
