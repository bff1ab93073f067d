import assert from 'node:assert/strict'
import { CounterSync } from '../../../lib/db/counter-sync'
import { migrateLatest } from '../../../lib/db/migrate'
import { assumeUpsertReturns } from '../../../lib/db/upsert-returning'
import { addToCounters, readCounters, type CounterDelta } from '../../../lib/db/usage-counters'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const counter = (key: string, expiresAt = 10): CounterDelta => ({ key, amount: 0, expiresAt })
const add = (key: string, amount: number): CounterDelta => ({ key, amount, expiresAt: 10 })
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

for (const kind of databaseKinds()) {
  // Both ways of making the statement run on both backends: the upsert that returns its rows
  // (MariaDB, SQLite) and the upsert-then-read that MySQL needs.
  for (const returning of [true, false]) {
    describe(`lib/db CounterSync (${kind}, ${returning ? 'upsert returning' : 'upsert then read'})`, () => {
      let t: TestDatabase
      let statements: string[]

      beforeEach(async () => {
        t = await createTestDatabase(kind)
        assumeUpsertReturns(t.db, returning)
        await addToCounters(t.db, [add('a', 1), add('b', 2), add('c', 3)])
        statements = []
        t.db.on('query', (q: { sql: string }) => statements.push(q.sql))
      })

      afterEach(() => t?.drop())

      /** Resolves when the next statement is sent: from then on, calls wait for the one after. */
      const nextStatement = () => new Promise((resolve) => t.db.once('query', resolve))

      it('reads the checks of one turn of the event loop with one statement', async () => {
        const sync = new CounterSync(t.db, () => undefined)
        const views = await Promise.all(
          [['a'], ['b'], ['a', 'c']].map((keys) => sync.read(keys.map((k) => counter(k)))),
        )
        assert.deepEqual(
          views.map((v) => Object.fromEntries(v)),
          [{ a: 1 }, { b: 2 }, { a: 1, c: 3 }],
        )
        assert.equal(statements.length, 1, statements.join('\n'))
      })

      it('serves the checks that arrive during a statement with one more, each its own keys', async () => {
        const sync = new CounterSync(t.db, () => undefined)
        const first = sync.read([counter('a')])
        await nextStatement()
        const views = await Promise.all([
          first,
          ...[['b', 'zz'], ['c'], ['a', 'c']].map((keys) => sync.read(keys.map((k) => counter(k)))),
        ])
        assert.deepEqual(
          views.map((v) => Object.fromEntries([...v].filter(([, n]) => n > 0))),
          [{ a: 1 }, { b: 2 }, { c: 3 }, { a: 1, c: 3 }],
        )
        assert.ok([undefined, 0].includes(views[1].get('zz')), 'a counter without a row is 0')
        // The first check is read at once, the three that came meanwhile together.
        assert.equal(sync.stats.reads, 2)
        assert.equal(sync.stats.checks, 4)
        assert.equal(statements.length, 2, statements.join('\n'))
      })

      it('spaces its statements out, so that checks of several turns share the next one', async () => {
        const sync = new CounterSync(t.db, () => undefined, { spacingMs: 200 })
        await sync.read([counter('a')])
        // Three checks, each in its own turn of the event loop, all within the spacing.
        const later: Array<Promise<Map<string, number>>> = []
        for (const key of ['a', 'b', 'c']) {
          later.push(sync.read([counter(key)]))
          await new Promise((resolve) => setImmediate(resolve))
        }
        const views = await Promise.all(later)
        assert.deepEqual(
          views.map((v) => Object.fromEntries(v)),
          [{ a: 1 }, { b: 2 }, { c: 3 }],
        )
        assert.equal(sync.stats.reads, 2)
        assert.equal(statements.length, 2, statements.join('\n'))
      })

      it('counts in a read what was added before it, in the same statement where it can', async () => {
        const sync = new CounterSync(t.db, () => undefined)
        const first = sync.read([counter('a')])
        await nextStatement()
        // Added while the first read runs: the next statement adds them and reads.
        sync.add([add('a', 5)])
        sync.add([add('a', 1), add('new', 2)])
        const seen = await sync.read([counter('a'), counter('new')])
        assert.equal((await first).get('a'), 1)
        assert.deepEqual(Object.fromEntries(seen), { a: 7, new: 2 })
        assert.equal(statements.length, returning ? 2 : 3, statements.join('\n'))
        assert.equal(sync.stats.writes, 1)
      })

      it('writes amounts alone at once when nothing is running, else with the next statement', async () => {
        const sync = new CounterSync(t.db, () => undefined)
        sync.add([add('a', 1)])
        await nextStatement()
        sync.add([add('a', 1)])
        sync.add([add('b', 1)])
        await sync.drain()
        // The first add starts a statement; the two that came meanwhile go together in the next.
        assert.equal(statements.length, 2, statements.join('\n'))
        assert.equal(sync.stats.writes, 2)
        const { counters } = await readCounters(t.db, ['a', 'b'], [])
        assert.deepEqual(Object.fromEntries(counters), { a: 3, b: 3 })
      })

      it('keeps what the database refused and adds it with the next statement', async () => {
        await t.db.schema.renameTable('usage_counters', 'usage_counters_away')
        const lines: string[] = []
        const sync = new CounterSync(t.db, (l) => lines.push(l))
        try {
          sync.add([add('k', 3)])
          await sync.drain()
          assert.equal(sync.stats.errors, 1)
          assert.match(lines[0], /spend counters not updated \(1 kept for the next try\)/)
          await pause(40)
          assert.equal(sync.stats.errors, 1, 'no retry loop against a database that refuses')
        } finally {
          await t.db.schema.renameTable('usage_counters_away', 'usage_counters')
        }
        sync.add([add('k', 1)])
        await sync.drain()
        assert.equal((await readCounters(t.db, ['k'], [])).counters.get('k'), 4)
      })

      it('fails the checks of a read the database refused, and reads again after', async () => {
        const sync = new CounterSync(t.db, () => undefined)
        await t.db.schema.renameTable('usage_counters', 'usage_counters_away')
        try {
          const results = await Promise.allSettled([
            sync.read([counter('a')]),
            sync.read([counter('b')]),
          ])
          assert.deepEqual(
            results.map((r) => r.status),
            ['rejected', 'rejected'],
          )
        } finally {
          await t.db.schema.renameTable('usage_counters_away', 'usage_counters')
        }
        assert.equal((await sync.read([counter('a')])).get('a'), 1)
      })
    })
  }

  describe(`lib/db CounterSync (${kind}): upsert returning`, () => {
    let t: TestDatabase
    afterEach(() => t?.drop())

    it('makes the row of a counter it only read, expiring with its window', async () => {
      t = await createTestDatabase(kind)
      assumeUpsertReturns(t.db, true)
      const sync = new CounterSync(t.db, () => undefined)
      assert.equal((await sync.read([counter('fresh', 1234)])).get('fresh'), 0)
      const row = await t.db('usage_counters').where({ counter_key: 'fresh' }).first()
      assert.equal(Number(row.used), 0)
      assert.equal(Number(row.expires_at), 1234)
    })

    it('still serves the reads when the amounts it carries are refused', async () => {
      t = await createTestDatabase(kind)
      assumeUpsertReturns(t.db, true)
      const lines: string[] = []
      const sync = new CounterSync(t.db, (l) => lines.push(l))
      // A counter row the table refuses (no end to its window): the statement with it fails,
      // the read alone does not.
      const first = sync.read([counter('other')])
      await new Promise((resolve) => t.db.once('query', resolve))
      sync.add([{ key: 'bad', amount: 1, expiresAt: null as unknown as number }])
      const seen = await sync.read([counter('other')])
      assert.equal((await first).get('other'), 0)
      assert.ok([undefined, 0].includes(seen.get('other')))
      assert.equal(sync.stats.errors, 1)
      assert.match(lines[0] ?? '', /spend counters not updated/)
    })
  })
}

/** Resolves once some transaction of the server waits for a row lock. */
async function lockWaitSeen(db: TestDatabase['db']): Promise<void> {
  const until = Date.now() + 10_000
  for (;;) {
    const [rows] = (await db.raw(
      `select count(*) as n from information_schema.innodb_trx where trx_state = 'LOCK WAIT'`,
    )) as [Array<{ n: number }>]
    if (Number(rows[0].n) > 0) return
    if (Date.now() > until) throw new Error('no statement waited for a lock')
    // InnoDB refreshes these tables from a cache at most every 100 ms; polled faster than
    // that, they went on showing the state before the wait began.
    await pause(150)
  }
}

if (databaseKinds().includes('mysql')) {
  for (const returning of [true, false]) {
    describe(`lib/db CounterSync (mysql, ${returning ? 'upsert returning' : 'upsert then read'}): deadlocks`, () => {
      let t: TestDatabase
      afterEach(() => t?.drop())

      it('writes again the statement a deadlock rolled back, and serves its reads', async () => {
        t = await createTestDatabase('mysql')
        assumeUpsertReturns(t.db, returning)
        await addToCounters(t.db, [add('a', 1), add('b', 2)])
        const deadlocks: unknown[] = []
        t.db.on('query-error', (err: { code?: string }) => {
          if (err?.code === 'ER_LOCK_DEADLOCK') deadlocks.push(err)
        })
        // Another writer, made the heavier transaction (51 rows written) so that InnoDB picks the
        // counters' statement as the victim. Its new rows lock nothing the statement needs; its
        // update of b (by key) holds b.
        const other = await t.db.transaction()
        try {
          await other('usage_counters').insert(
            Array.from({ length: 50 }, (_, i) => ({
              counter_key: `z${i}`,
              used: 1,
              expires_at: 10,
            })),
          )
          await other('usage_counters').where({ counter_key: 'b' }).increment('used', 1)
          const sync = new CounterSync(t.db, () => undefined)
          // Sorted by key, the statement takes a, then waits for b.
          sync.add([add('a', 10), add('b', 10)])
          const seen = sync.read([counter('a'), counter('b')])
          await lockWaitSeen(t.db)
          // The cycle: the other writer asks for a. The counters' statement is rolled back.
          await other('usage_counters').where({ counter_key: 'a' }).increment('used', 1)
          await other.commit()
          assert.deepEqual(Object.fromEntries(await seen), { a: 12, b: 13 })
          await sync.drain()
          assert.equal(sync.stats.errors, 0)
        } finally {
          if (!other.isCompleted()) await other.rollback()
        }
        assert.equal(deadlocks.length, 1, 'the counters statement was a deadlock victim once')
        const { counters } = await readCounters(t.db, ['a', 'b'], [])
        assert.deepEqual(Object.fromEntries(counters), { a: 12, b: 13 })
      })
    })
  }
}

describe('lib/db CounterSync: a database not migrated yet', () => {
  it('writes what it kept once the table exists', async () => {
    const t = await createTestDatabase('sqlite', { migrate: false })
    try {
      const sync = new CounterSync(t.db, () => undefined)
      sync.add([add('k', 2)])
      await sync.drain()
      assert.equal(sync.stats.errors, 1)
      await migrateLatest(t.db)
      sync.add([add('k', 1)])
      await sync.drain()
      assert.equal((await readCounters(t.db, ['k'], [])).counters.get('k'), 3)
    } finally {
      await t.drop()
    }
  })
})
