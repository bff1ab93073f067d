import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { insertEmails, type NewSms } from '../../../lib/db/outbound'
import {
  addToCounters,
  deleteExpiredCounters,
  giveBackQuota,
  readCounters,
  takeQuota,
} from '../../../lib/db/usage-counters'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/usage-counters (${kind})`, () => {
    let t: TestDatabase

    before(async () => {
      t = await createTestDatabase(kind)
    })

    after(() => t?.drop())

    it('creates counters, adds to them, and merges repeats of one key in a call', async () => {
      await addToCounters(t.db, [
        { key: 'a', amount: 2, expiresAt: 100 },
        { key: 'b', amount: 1, expiresAt: 5000 },
        { key: 'a', amount: 3, expiresAt: 100 },
      ])
      await addToCounters(t.db, [{ key: 'a', amount: 1, expiresAt: 100 }])
      const { counters, stored } = await readCounters(t.db, ['a', 'b', 'missing'], [])
      assert.deepEqual(Object.fromEntries(counters), { a: 6, b: 1 })
      assert.equal(stored.size, 0)
    })

    it('tells in the same read which SMS of a message are already stored', async () => {
      const account = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      const sms: NewSms = {
        accountId: account.id,
        senderId: null,
        senderEmail: 'alice@example.com',
        recipient: '+33612345678',
        body: 'hi',
        encoding: 'gsm7',
        segments: 1,
        sourceMessageId: '<m1@example.com>',
        dedupeKey: 'd'.repeat(64),
        mxTransaction: 'txn-1',
        timeZone: 'UTC',
      }
      await insertEmails(t.db, [[sms]])
      const snapshot = await readCounters(t.db, ['a'], ['d'.repeat(64), 'e'.repeat(64)])
      assert.deepEqual([...snapshot.stored], ['d'.repeat(64)])
      assert.equal(snapshot.counters.get('a'), 6)
    })

    it('deletes the counters of windows that are over, and only those', async () => {
      assert.equal(await deleteExpiredCounters(t.db, 1000), 1)
      const { counters } = await readCounters(t.db, ['a', 'b'], [])
      assert.deepEqual(Object.fromEntries(counters), { b: 1 })
    })

    it('takes a use of every quota or of none, and says when the full one has room', async () => {
      const hour = 3_600_000
      const at = Date.UTC(2026, 11, 6, 9, 30)
      const small = { key: 'q:small', max: 1, windowMs: hour }
      const large = { key: 'q:large', max: 10, windowMs: hour }
      assert.equal(await takeQuota(t.db, [small, large], at), null)
      assert.deepEqual(await takeQuota(t.db, [small, large], at + 1000), {
        until: Date.UTC(2026, 11, 6, 10, 0),
        keys: ['q:small'],
      })
      const used = async () =>
        Object.fromEntries(
          (
            await readCounters(
              t.db,
              [`q:small:${Math.floor(at / hour)}`, `q:large:${Math.floor(at / hour)}`],
              [],
            )
          ).counters,
        )
      // The refused request took nothing, from either quota.
      assert.deepEqual(Object.values(await used()), [1, 1])
      await giveBackQuota(t.db, [small, large], at + 2000)
      assert.deepEqual(Object.values(await used()), [0, 0])
      // The next window starts from zero.
      assert.equal(await takeQuota(t.db, [small], at + hour), null)
    })
  })
}
