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

    it('reads after the counter writes started before its checks, and groups those that waited', async () => {
      // A stand-in for the outbox's CounterWriter: each write is settled by the test.
      let added = 0
      let written = 0
      const waiters: Array<{ target: number; resolve(): void }> = []
      const writes = {
        settled: () => {
          if (written >= added) return null
          const target = added
          return new Promise<void>((resolve) => waiters.push({ target, resolve }))
        },
      }
      const finishWrites = (upTo = added) => {
        written = upTo
        for (const w of waiters.splice(0)) {
          if (w.target <= written) w.resolve()
          else waiters.push(w)
        }
      }
      const reader = new CounterReader(t.db, writes)
      added = 1
      const first = reader.read(['a'], [])
      const second = reader.read(['b'], [])
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.deepEqual(reader.stats, { reads: 0, checks: 0 }, 'no read before the write is in')
      finishWrites()
      await Promise.all([first, second])
      assert.deepEqual(reader.stats, { reads: 1, checks: 2 }, 'both checks in one read')
      await new Promise((resolve) => setTimeout(resolve, 10)) // the reader is idle again
      // A check that came after a newer write started does not ride on the earlier wait.
      added = 2
      const third = reader.read(['c'], [])
      added = 3
      let fourthDone = false
      const fourth = reader.read(['a'], []).then(() => (fourthDone = true))
      finishWrites(2)
      await third
      await new Promise((resolve) => setTimeout(resolve, 20))
      assert.equal(fourthDone, false, 'the fourth check waits for the third write')
      assert.deepEqual(reader.stats, { reads: 2, checks: 3 })
      finishWrites(3)
      await fourth
      assert.deepEqual(reader.stats, { reads: 3, checks: 4 })
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
