import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { addOptOut, isOptedOut, loadOptOutsByAccount, removeOptOut } from '../../../lib/db/opt-outs'
import { readCacheVersion } from '../../../lib/db/versions'
import { loadDirectory } from '../../../lib/mx/directory'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/opt-outs (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let other: number

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      other = (await createAccount(t.db, { ref: 'other', name: 'Other' })).id
    })

    after(() => t?.drop())

    it('records an opt-out per account and bumps the directory version', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      await addOptOut(t.db, acme, '+33612345678', 'STOP', 1000)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await isOptedOut(t.db, acme, '+33612345678'), true)
      assert.equal(await isOptedOut(t.db, other, '+33612345678'), false)
    })

    it('refreshes the keyword when the number opts out again', async () => {
      await addOptOut(t.db, acme, '+33612345678', 'ARRET', 2000)
      const row = (await loadOptOutsByAccount(t.db)).get(acme)?.get('+33612345678')
      assert.deepEqual(row, {
        accountId: acme,
        number: '+33612345678',
        keyword: 'ARRET',
        createdAt: 2000,
      })
    })

    it('is in the MX directory, reloaded with the version', async () => {
      await addOptOut(t.db, acme, '+33612345679', 'STOP', 3000)
      await addOptOut(t.db, acme, '+33612345670', 'STOP', 3000)
      const directory = await loadDirectory(t.db)
      assert.equal(directory.optOuts.get(acme)?.get('+33612345678')?.keyword, 'ARRET')
      assert.equal(directory.optOuts.get(other), undefined)
      const byAccount = await loadOptOutsByAccount(t.db)
      assert.equal(byAccount.get(acme)?.size, 3)
    })

    it('removes an opt-out, bumping the version only when there was one', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await removeOptOut(t.db, acme, '+33612345678'), true)
      assert.equal(await isOptedOut(t.db, acme, '+33612345678'), false)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await removeOptOut(t.db, acme, '+33612345678'), false)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
    })
  })
}
