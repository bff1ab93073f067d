import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import {
  changePassword,
  createAdmin,
  findAdminByEmail,
  findAdminById,
  grantAccount,
  listAdminAccounts,
  listAdmins,
  updateAdminName,
} from '../../../lib/db/admins'
import { createSession, findSessionAdmin } from '../../../lib/db/admin-sessions'
import { hashSecretToken } from '../../../lib/auth/tokens'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/admins (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase

    beforeEach(async () => {
      t = await createTestDatabase(kind, { migrate: true })
    })
    afterEach(() => t.drop())

    it('creates a login with a lower-cased address, found without case', async () => {
      const admin = await createAdmin(t.db, {
        email: ' Alice@Acme.TEST ',
        name: ' Alice ',
        passwordHash: 'scrypt$hash',
        isOperator: true,
      })
      assert.deepEqual(
        { email: admin.email, name: admin.name, isOperator: admin.isOperator },
        { email: 'alice@acme.test', name: 'Alice', isOperator: true },
      )
      const found = await findAdminByEmail(t.db, 'ALICE@acme.test')
      assert.equal(found?.id, admin.id)
      assert.equal(found?.passwordHash, 'scrypt$hash')
      assert.equal((await findAdminById(t.db, admin.id))?.email, 'alice@acme.test')
      assert.equal(await findAdminByEmail(t.db, 'nobody@acme.test'), null)
      assert.equal(await findAdminByEmail(t.db, 'not an address'), null)
    })

    it('refuses a second login for the same address, and bad input', async () => {
      await createAdmin(t.db, { email: 'a@acme.test', name: 'A', passwordHash: 'h' })
      await assert.rejects(
        createAdmin(t.db, { email: 'A@acme.test', name: 'B', passwordHash: 'h' }),
        /a@acme\.test already has a login/,
      )
      await assert.rejects(
        createAdmin(t.db, { email: 'nope', name: 'B', passwordHash: 'h' }),
        /not a valid email address/,
      )
      await assert.rejects(
        createAdmin(t.db, { email: 'b@acme.test', name: 'x'.repeat(201), passwordHash: 'h' }),
        /at most 200 characters/,
      )
    })

    it('grants accounts once and lists them by name', async () => {
      const admin = await createAdmin(t.db, { email: 'a@acme.test', name: 'A', passwordHash: 'h' })
      const zed = await createAccount(t.db, {
        ref: 'zed',
        name: 'Zed',
        timeZone: 'Pacific/Auckland',
      })
      const alpha = await createAccount(t.db, { ref: 'alpha', name: 'Alpha' })
      await createAccount(t.db, { ref: 'other', name: 'Other' })
      assert.equal(await grantAccount(t.db, admin.id, zed.id), true)
      assert.equal(await grantAccount(t.db, admin.id, alpha.id), true)
      assert.equal(await grantAccount(t.db, admin.id, alpha.id), false)
      assert.deepEqual(await listAdminAccounts(t.db, admin.id), [
        { id: alpha.id, ref: 'alpha', name: 'Alpha', timeZone: 'UTC' },
        { id: zed.id, ref: 'zed', name: 'Zed', timeZone: 'Pacific/Auckland' },
      ])
      const [listed] = await listAdmins(t.db)
      assert.deepEqual(listed.accountRefs, ['alpha', 'zed'])
    })

    it('updates the name, refusing an empty one', async () => {
      const admin = await createAdmin(t.db, { email: 'a@acme.test', name: '', passwordHash: 'h' })
      assert.equal(await updateAdminName(t.db, admin.id, '  Alice Martin '), 'Alice Martin')
      assert.equal((await findAdminById(t.db, admin.id))?.name, 'Alice Martin')
      await assert.rejects(updateAdminName(t.db, admin.id, '   '), /must not be empty/)
    })

    it('refuses a name on several lines or with control characters, which mails would carry', async () => {
      const admin = await createAdmin(t.db, { email: 'a@acme.test', name: 'A', passwordHash: 'h' })
      for (const name of [
        'Alice\nBob',
        'Alice\r\nX: y',
        'Al\u0000ice',
        'Al\u0085ice',
        'A\u2028B',
        'A\u202eB',
      ]) {
        await assert.rejects(
          updateAdminName(t.db, admin.id, name),
          /one line/,
          JSON.stringify(name),
        )
      }
      await assert.rejects(
        createAdmin(t.db, { email: 'b@acme.test', name: 'B\tC', passwordHash: 'h' }),
        /one line/,
      )
      assert.equal(
        await updateAdminName(t.db, admin.id, 'Élodie O’Brien-Dupré'),
        'Élodie O’Brien-Dupré',
      )
    })

    it('changes the password and ends every session but the one kept', async () => {
      const now = Date.now()
      const admin = await createAdmin(t.db, {
        email: 'a@acme.test',
        name: 'A',
        passwordHash: 'old',
      })
      const other = await createAdmin(t.db, { email: 'b@acme.test', name: 'B', passwordHash: 'x' })
      const kept = await createSession(t.db, admin.id, 60_000, now)
      const ended = await createSession(t.db, admin.id, 60_000, now)
      const theirs = await createSession(t.db, other.id, 60_000, now)
      await changePassword(t.db, admin.id, 'new', hashSecretToken(kept), now + 5)
      const row = await t.db('admins').where({ id: admin.id }).first()
      assert.equal(row.password_hash, 'new')
      assert.equal(Number(row.password_changed_at), now + 5)
      assert.ok(await findSessionAdmin(t.db, kept, now))
      assert.equal(await findSessionAdmin(t.db, ended, now), null)
      assert.ok(await findSessionAdmin(t.db, theirs, now))
      await changePassword(t.db, admin.id, 'newer', null, now + 6)
      assert.equal(await findSessionAdmin(t.db, kept, now), null)
    })
  })
}
