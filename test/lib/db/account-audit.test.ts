import assert from 'node:assert/strict'
import { createAccount, updateAccountLimits } from '../../../lib/db/accounts'
import { accountAuditFields, readAccountAuditFields } from '../../../lib/db/account-audit'
import { rotateWebhookSecret, setVirtualNumber } from '../../../lib/db/account-settings'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/account-audit (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let globex: number

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
    })

    after(async () => t?.drop())

    it('reads the settings, limits and webhook secret admins change; not name, ref or times', async () => {
      await updateAccountLimits(t.db, acme, { smsPerMinute: 10, allowedDestinations: 'BE' })
      await rotateWebhookSecret(t.db, acme)
      const row = await t.db('accounts').where({ id: acme }).first()
      const fields = await readAccountAuditFields(t.db, acme, false)
      assert.deepEqual(fields, accountAuditFields(row))
      assert.deepEqual(fields, {
        signatureMarker: null,
        senderName: 'Acme',
        defaultCountry: 'FR',
        timeZone: 'UTC',
        segmentCap: 4,
        virtualNumber: null,
        gsmOnly: false,
        forwardAddresses: [],
        directReply: false,
        failureNotices: true,
        smsPerMinute: 10,
        senderSmsPerMinute: null,
        segmentsPerDay: null,
        segmentsPerMonth: null,
        allowedDestinations: ['BE'],
        // The hash, under a name the log treats as a secret: stored only as "changed".
        webhookSecret: row.webhook_secret_hash,
      })
      assert.equal(await readAccountAuditFields(t.db, 999_999, true), null)
    })

    // A transaction's snapshot is MySQL's (REPEATABLE READ). SQLite runs one writer at a time,
    // and its test database has one connection: there is no other commit to miss.
    if (kind === 'mysql')
      it('reads before a change without fixing the snapshot that setVirtualNumber takes later', async () => {
        await t.db('accounts').update({ virtual_number: null })
        await assert.rejects(
          t.db.transaction(async (trx) => {
            await readAccountAuditFields(trx, acme, true)
            // Another admin gives globex the number and commits, on another connection.
            await setVirtualNumber(t.db, globex, '+33700000002')
            await setVirtualNumber(trx, acme, '+33700000002')
          }),
          { name: 'VirtualNumberTakenError' },
        )
        const owners = await t.db('accounts').where({ virtual_number: '+33700000002' }).pluck('ref')
        assert.deepEqual(owners, ['globex'])
      })
  })
}
