import assert from 'node:assert/strict'
import { CounterReader } from '../../../lib/db/counter-reader'
import { addToCounters } from '../../../lib/db/usage-counters'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db CounterReader (${kind})`, () => {
    let t: TestDatabase

    before(async () => {
      t = await createTestDatabase(kind)
      await addToCounters(t.db, [
        { key: 'a', amount: 1, expiresAt: 10 },
        { key: 'b', amount: 2, expiresAt: 10 },
        { key: 'c', amount: 3, expiresAt: 10 },
      ])
    })

    after(() => t?.drop())

    it('serves the checks that arrive during a read with one more read, each its own keys', async () => {
      const reader = new CounterReader(t.db)
      const views = await Promise.all(
        [['a'], ['b', 'zz'], ['c'], ['a', 'c']].map((keys) => reader.read(keys, [])),
      )
      assert.deepEqual(
        views.map((v) => Object.fromEntries(v.counters)),
        [{ a: 1 }, { b: 2 }, { c: 3 }, { a: 1, c: 3 }],
      )
      // The first check is read at once, the three that came meanwhile together.
      assert.deepEqual(reader.stats, { reads: 2, checks: 4 })
    })

    it('fails every check of a read the database refused', async () => {
      const reader = new CounterReader(t.db)
      await t.db.schema.renameTable('usage_counters', 'usage_counters_away')
      try {
        const results = await Promise.allSettled([reader.read(['a'], []), reader.read(['b'], [])])
        assert.deepEqual(
          results.map((r) => r.status),
          ['rejected', 'rejected'],
        )
      } finally {
        await t.db.schema.renameTable('usage_counters_away', 'usage_counters')
      }
      assert.equal((await reader.read(['a'], [])).counters.get('a'), 1)
    })
  })
}
