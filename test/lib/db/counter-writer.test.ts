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

  it('says when what was added before a read is written, so the read counts it', async () => {
    t = await createTestDatabase('sqlite')
    const writer = new CounterWriter(t.db, () => undefined)
    assert.equal(writer.settled(), null, 'nothing added: nothing to wait for')
    writer.add([{ key: 'k', amount: 1, expiresAt: 10 }])
    writer.add([{ key: 'k', amount: 1, expiresAt: 10 }])
    const settled = writer.settled()
    assert.ok(settled, 'a write is due')
    // Added after the read began: the read does not wait for it.
    writer.add([{ key: 'k', amount: 5, expiresAt: 10 }])
    await settled
    const seen = (await readCounters(t.db, ['k'], [])).counters.get('k') ?? 0
    assert.ok(seen >= 2, `the read saw ${seen}`)
    await writer.drain()
    assert.equal(writer.settled(), null)
    assert.equal((await readCounters(t.db, ['k'], [])).counters.get('k'), 7)
  })

  it('lets a waiting read go when the write fails', async () => {
    t = await createTestDatabase('sqlite', { migrate: false })
    const writer = new CounterWriter(t.db, () => undefined)
    writer.add([{ key: 'k', amount: 1, expiresAt: 10 }])
    await writer.settled()
    assert.equal(writer.stats.errors, 1)
    assert.equal(writer.settled(), null)
  })
})
