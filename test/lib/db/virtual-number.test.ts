import assert from 'node:assert/strict'
import { createAccount, ValidationError, VirtualNumberTakenError } from '../../../lib/db/accounts'
import { setVirtualNumber } from '../../../lib/db/account-settings'
import { readCacheVersion } from '../../../lib/db/versions'
import { DirectoryCache } from '../../../lib/mx/directory'
import { receiveInboundSms, type InboundSmsInput } from '../../../lib/inbound/intake'
import { openDb } from '../../../lib/db/connection'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

let receivedAt = Date.UTC(2026, 10, 27, 12, 0, 0)

/** An SMS from a handset to `to`, as the worker stores it off the SMPP bind. */
function smsTo(to: string): InboundSmsInput {
  receivedAt += 600_000
  return {
    from: '+33612345678',
    fromTon: 1,
    to,
    toTon: 1,
    text: `pour ${to}`,
    encoding: 'gsm7',
    parts: 1,
    source: 'smpp',
    receivedAt,
  }
}

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected a ValidationError, got ${String(err)}`)
    return err
  }
  assert.fail('expected a refusal')
}

for (const kind of databaseKinds()) {
  describe(`lib/db/account-settings setVirtualNumber (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let acme: number
    let globex: number

    beforeEach(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (
        await createAccount(t.db, {
          ref: 'globex',
          name: 'Globex',
          defaultCountry: 'GB',
          virtualNumber: '+447700900123',
        })
      ).id
    })
    afterEach(() => t.drop())

    const numberOf = async (id: number) =>
      (await t.db('accounts').where({ id }).first()).virtual_number as string | null

    it('stores E.164 from international or national forms, in the account’s country', async () => {
      assert.deepEqual(await setVirtualNumber(t.db, acme, '+33 7 00 00 00 09'), {
        virtualNumber: '+33700000009',
      })
      assert.equal(await numberOf(acme), '+33700000009')
      await setVirtualNumber(t.db, acme, '07.00.00.00.08')
      assert.equal(await numberOf(acme), '+33700000008')
      await setVirtualNumber(t.db, globex, '07700 900124')
      assert.equal(await numberOf(globex), '+447700900124')
      await setVirtualNumber(t.db, acme, '0033700000007')
      assert.equal(await numberOf(acme), '+33700000007')
    })

    it('refuses what is not a number, and changes nothing', async () => {
      await setVirtualNumber(t.db, acme, '+33700000009')
      for (const bad of ['0612', 'call me', '+999123456789', '+33 7 00 00 00 00 00 00', '36180']) {
        const err = await refusal(setVirtualNumber(t.db, acme, bad))
        assert.match(err.message, /international form/)
        assert.ok(!(err instanceof VirtualNumberTakenError))
      }
      assert.equal(await numberOf(acme), '+33700000009')
    })

    it('refuses another account’s number, naming it; its own number again is fine', async () => {
      const err = await refusal(setVirtualNumber(t.db, acme, '+44 7700 900123'))
      assert.ok(err instanceof VirtualNumberTakenError)
      assert.equal(err.ownerRef, 'globex')
      assert.equal(err.message, '+447700900123 is already the virtual number of account "globex"')
      assert.equal(await numberOf(acme), null)
      assert.deepEqual(await setVirtualNumber(t.db, globex, '+447700900123'), {
        virtualNumber: '+447700900123',
      })
      const created = await refusal(
        createAccount(t.db, { ref: 'copy', name: 'Copy', virtualNumber: '+447700900123' }),
      )
      assert.ok(created instanceof VirtualNumberTakenError)
      assert.equal(await t.db('accounts').where({ ref: 'copy' }).first(), undefined)
    })

    it('takes the number away with an empty value or null; then another account may have it', async () => {
      assert.deepEqual(await setVirtualNumber(t.db, globex, ''), { virtualNumber: null })
      assert.equal(await numberOf(globex), null)
      await setVirtualNumber(t.db, acme, '+447700900123')
      assert.deepEqual(await setVirtualNumber(t.db, acme, null), { virtualNumber: null })
      assert.equal(await numberOf(acme), null)
    })

    it('answers null for an account that does not exist', async () => {
      assert.equal(await setVirtualNumber(t.db, 999_999, '+33700000009'), null)
    })

    it('gives one number to only one of two accounts asking at the same moment', async () => {
      // MySQL: separate pools, as two admin processes would have. SQLite: one writer at a time
      // whatever the connection, and a second connection in this process would block the event
      // loop in its busy wait: the test's own pool.
      const separate = kind === 'mysql'
      const one = separate ? openDb(t.config) : t.db
      const two = separate ? openDb(t.config) : t.db
      try {
        const results = await Promise.allSettled([
          setVirtualNumber(one, acme, '+33700000050'),
          setVirtualNumber(two, globex, '+33700000050'),
        ])
        const refused = results.filter((r) => r.status === 'rejected')
        assert.equal(refused.length, 1, JSON.stringify(results))
        const reason = (refused[0] as PromiseRejectedResult).reason
        assert.ok(reason instanceof VirtualNumberTakenError, String(reason))
        const holders = await t.db('accounts').where({ virtual_number: '+33700000050' })
        assert.equal(holders.length, 1)
      } finally {
        if (separate) await Promise.all([one.destroy(), two.destroy()])
      }
    })

    it('is seen at once by inbound routing and by the MX’s account cache', async () => {
      const cache = new DirectoryCache(t.db, 0)
      assert.equal((await cache.get()).accountsByRef.get('acme')?.virtualNumber, null)
      const before = await readCacheVersion(t.db, 'directory')
      await setVirtualNumber(t.db, acme, '+33700000009')
      assert.ok((await readCacheVersion(t.db, 'directory')) > before)
      assert.equal((await cache.get()).accountsByRef.get('acme')?.virtualNumber, '+33700000009')
      const routed = await receiveInboundSms(t.db, smsTo('+33700000009'))
      assert.equal(routed.accountId, acme)

      await setVirtualNumber(t.db, acme, '+33700000010')
      assert.equal((await receiveInboundSms(t.db, smsTo('+33700000009'))).status, 'unrouted')
      assert.equal((await receiveInboundSms(t.db, smsTo('+33700000010'))).accountId, acme)
      await setVirtualNumber(t.db, acme, null)
      assert.equal((await receiveInboundSms(t.db, smsTo('+33700000010'))).status, 'unrouted')
      assert.equal((await cache.get()).accountsByRef.get('acme')?.virtualNumber, null)
    })
  })
}
