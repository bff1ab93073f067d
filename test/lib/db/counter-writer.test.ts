import assert from 'node:assert/strict'
import { CounterWriter } from '../../../lib/db/counter-writer'
import { migrateLatest } from '../../../lib/db/migrate'
import { readCounters } from '../../../lib/db/usage-counters'
import { createTestDatabase, type TestDatabase } from '../../support/databases'

describe('lib/db CounterWriter', () => {
  let t: TestDatabase

  afterEach(() => t?.drop())

  it('sums what many emails add into a few statements', async () => {
    t = await createTestDatabase('sqlite')
    const writer = new CounterWriter(t.db, () => undefined)
    for (let i = 0; i < 200; i++) {
      writer.add([
        { key: 'minute', amount: 1, expiresAt: 10 },
        { key: 'day', amount: 2, expiresAt: 10 },
      ])
    }
    await writer.drain()
    const { counters } = await readCounters(t.db, ['minute', 'day'], [])
    assert.deepEqual(Object.fromEntries(counters), { minute: 200, day: 400 })
    // The first add starts a write; the 199 others wait and go together in the next one.
    assert.ok(writer.stats.writes <= 2, `${writer.stats.writes} writes`)
  })

  it('keeps what the database refused and writes it with the next batch', async () => {
    t = await createTestDatabase('sqlite', { migrate: false })
    const lines: string[] = []
    const writer = new CounterWriter(t.db, (l) => lines.push(l))
    writer.add([{ key: 'k', amount: 3, expiresAt: 10 }])
    await writer.drain()
    assert.equal(writer.stats.errors, 1)
    assert.match(lines[0], /spend counters not updated \(1 kept for the next try\)/)
    await migrateLatest(t.db)
    writer.add([{ key: 'k', amount: 1, expiresAt: 10 }])
    await writer.drain()
    assert.equal((await readCounters(t.db, ['k'], [])).counters.get('k'), 4)
  })
})
