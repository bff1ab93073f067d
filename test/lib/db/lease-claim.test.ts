import assert from 'node:assert/strict'
import { openDb, type Db } from '../../../lib/db/connection'
import {
  CONFLICT_TRIES,
  claimUnderLease,
  renewLease,
  type ClaimSpec,
} from '../../../lib/db/lease-claim'
import type { ClaimObserver } from '../../../lib/ops/observers'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

/** A table of its own: the claim is generic, and the callers' tables have their own tests. */
const TABLE = 'lease_claim_rows'
const LEASE_MS = 60_000
const NOW = 1_700_000_000_000

/** Rows that wait, then are held under lease; `tries` counts the claims of each row. */
function claimSpec(db: Db, owner: string): ClaimSpec {
  return {
    work: 'things',
    table: TABLE,
    leaseColumn: 'lease_until',
    due: [{ where: { status: 'held' } }, { where: { status: 'waiting' }, orUnleased: true }],
    set: { status: 'held', owner, tries: db.raw('tries + 1') },
  }
}

/** What mysql2 rejects with when the server picks this transaction as a deadlock victim. */
function deadlock(): Error {
  return Object.assign(new Error('Deadlock found when trying to get lock; try restarting'), {
    code: 'ER_LOCK_DEADLOCK',
    errno: 1213,
    sqlState: '40001',
  })
}

function lockWaitTimeout(): Error {
  return Object.assign(new Error('Lock wait timeout exceeded; try restarting transaction'), {
    code: 'ER_LOCK_WAIT_TIMEOUT',
    errno: 1205,
    sqlState: 'HY000',
  })
}

/**
 * The database, except that the next transactions fail when they would commit, with the given
 * errors, and are rolled back: what a Galera node does to the loser of a certification
 * conflict, and no single server does on demand.
 */
function failingCommits(db: Db, errors: Error[]): Db {
  return new Proxy(db, {
    get(target, prop) {
      if (prop !== 'transaction') return Reflect.get(target, prop)
      return (work: (trx: Db) => Promise<unknown>, config: unknown) =>
        target.transaction(async (trx) => {
          const result = await work(trx)
          const err = errors.shift()
          if (err) throw err
          return result
        }, config as never)
    },
  })
}

function recordingObserver(): ClaimObserver & {
  calls: Array<{ work: string; rows: number; seconds: number; conflicts: number }>
} {
  const calls: Array<{ work: string; rows: number; seconds: number; conflicts: number }> = []
  return {
    calls,
    claimed: (work, rows, seconds, conflicts) => calls.push({ work, rows, seconds, conflicts }),
  }
}

for (const kind of databaseKinds()) {
  describe(`lib/db lease claim (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase

    before(async () => {
      t = await createTestDatabase(kind, { migrate: false })
      await t.db.schema.createTable(TABLE, (table) => {
        table.bigIncrements('id').primary()
        table.string('status', 16).notNullable()
        table.bigInteger('lease_until').nullable()
        table.string('owner', 32).nullable()
        table.integer('tries').notNullable().defaultTo(0)
        table.index(['status', 'lease_until'])
      })
    })

    after(async () => {
      await t?.drop()
    })

    beforeEach(async () => {
      await t.db(TABLE).delete()
    })

    async function insert(rows: Array<{ status: string; lease_until: number | null }>) {
      for (const row of rows) await t.db(TABLE).insert(row)
      return (await t.db(TABLE).orderBy('id').pluck('id')).map(Number)
    }

    const rowsById = async () =>
      new Map(
        (await t.db(TABLE).select()).map((r) => [
          Number(r.id),
          { ...r, lease_until: r.lease_until === null ? null : Number(r.lease_until) },
        ]),
      )

    it('takes due rows group by group, writes the lease and the columns, leaves the rest', async () => {
      const [abandoned, waiting, fresh, later, leased, done] = await insert([
        { status: 'held', lease_until: NOW - 1 },
        { status: 'waiting', lease_until: NOW },
        { status: 'waiting', lease_until: null },
        { status: 'waiting', lease_until: NOW + 1 },
        { status: 'held', lease_until: NOW + 5000 },
        { status: 'sent', lease_until: NOW - 10 },
      ])
      const observer = recordingObserver()
      const claim = await claimUnderLease(t.db, claimSpec(t.db, 'w1'), {
        limit: 10,
        leaseMs: LEASE_MS,
        now: NOW,
        observer,
      })
      assert.deepEqual(
        [...claim.ids].sort((a, b) => a - b),
        [abandoned, waiting, fresh],
      )
      assert.equal(claim.leaseUntil, NOW + LEASE_MS)
      const rows = await rowsById()
      for (const id of claim.ids) {
        assert.equal(rows.get(id)?.status, 'held')
        assert.equal(rows.get(id)?.owner, 'w1')
        assert.equal(rows.get(id)?.lease_until, NOW + LEASE_MS)
        assert.equal(Number(rows.get(id)?.tries), 1)
      }
      for (const id of [later, leased, done]) assert.equal(rows.get(id)?.owner, null)
      assert.equal(observer.calls.length, 1)
      assert.equal(observer.calls[0].work, 'things')
      assert.equal(observer.calls[0].rows, 3)
      assert.equal(observer.calls[0].conflicts, 0)
      assert.ok(observer.calls[0].seconds >= 0 && observer.calls[0].seconds < 10)
    })

    it('takes the first group before the next, up to the limit', async () => {
      const ids = await insert([
        { status: 'waiting', lease_until: NOW - 100 },
        { status: 'held', lease_until: NOW - 1 },
        { status: 'held', lease_until: NOW - 2 },
      ])
      const claim = await claimUnderLease(t.db, claimSpec(t.db, 'w1'), {
        limit: 2,
        leaseMs: LEASE_MS,
        now: NOW,
      })
      // The waiting row is the oldest, but rows whose holder died come first.
      assert.deepEqual(
        [...claim.ids].sort((a, b) => a - b),
        [ids[1], ids[2]],
      )
    })

    it('renews only the rows still held as the caller says, and says how many', async () => {
      const [mine, theirs, mineToo] = await insert([
        { status: 'waiting', lease_until: NOW },
        { status: 'waiting', lease_until: NOW },
        { status: 'waiting', lease_until: NOW },
      ])
      await claimUnderLease(t.db, claimSpec(t.db, 'w1'), { limit: 3, leaseMs: 10, now: NOW })
      await t.db(TABLE).where({ id: theirs }).update({ owner: 'w2' })
      const moved = await renewLease(
        t.db,
        { work: 'things', table: TABLE, leaseColumn: 'lease_until' },
        { status: 'held', owner: 'w1' },
        NOW + 999,
      )
      assert.equal(moved, 2)
      const rows = await rowsById()
      assert.equal(rows.get(mine)?.lease_until, NOW + 999)
      assert.equal(rows.get(mineToo)?.lease_until, NOW + 999)
      assert.equal(rows.get(theirs)?.lease_until, NOW + 10)
    })

    it('two connections racing take every row exactly once', async () => {
      const ids = await insert(
        Array.from({ length: 150 }, (_, i) => ({ status: 'waiting', lease_until: NOW - i })),
      )
      // A second pool (its own connections) on the same database, as a second worker has.
      const other = openDb(t.config)
      try {
        const drain = async (db: Db, owner: string): Promise<number[]> => {
          const taken: number[] = []
          for (;;) {
            const { ids: got } = await claimUnderLease(db, claimSpec(db, owner), {
              limit: 7,
              leaseMs: LEASE_MS,
              now: NOW,
            })
            if (got.length === 0) return taken
            taken.push(...got)
          }
        }
        const [a, b] = await Promise.all([drain(t.db, 'A'), drain(other, 'B')])
        assert.equal(new Set([...a, ...b]).size, a.length + b.length, 'no row taken twice')
        assert.deepEqual(
          [...a, ...b].sort((x, y) => x - y),
          ids,
        )
        const rows = await rowsById()
        for (const id of a) assert.equal(rows.get(id)?.owner, 'A')
        for (const id of b) assert.equal(rows.get(id)?.owner, 'B')
        for (const row of rows.values()) assert.equal(Number(row.tries), 1)
        if (kind === 'mysql') assert.ok(a.length > 0 && b.length > 0, 'both connections took rows')
      } finally {
        await other.destroy()
      }
    })

    if (kind === 'mysql') {
      it('tries again when its commit loses to another transaction (1213, 1205)', async () => {
        const ids = await insert([
          { status: 'waiting', lease_until: NOW },
          { status: 'waiting', lease_until: NOW },
        ])
        const observer = recordingObserver()
        const db = failingCommits(t.db, [deadlock(), lockWaitTimeout()])
        const claim = await claimUnderLease(db, claimSpec(db, 'w1'), {
          limit: 5,
          leaseMs: LEASE_MS,
          now: NOW,
          observer,
        })
        assert.deepEqual(
          [...claim.ids].sort((a, b) => a - b),
          ids,
        )
        // The two lost tries were rolled back: each row was claimed once.
        for (const row of (await rowsById()).values()) {
          assert.equal(Number(row.tries), 1)
          assert.equal(row.owner, 'w1')
        }
        assert.deepEqual(
          observer.calls.map((c) => [c.rows, c.conflicts]),
          [[2, 2]],
        )
      })

      it('gives up quietly after losing every try: nothing taken, nothing thrown', async () => {
        await insert([{ status: 'waiting', lease_until: NOW }])
        const observer = recordingObserver()
        const db = failingCommits(
          t.db,
          Array.from({ length: CONFLICT_TRIES }, () => deadlock()),
        )
        const claim = await claimUnderLease(db, claimSpec(db, 'w1'), {
          limit: 5,
          leaseMs: LEASE_MS,
          now: NOW,
          observer,
        })
        assert.deepEqual(claim.ids, [])
        const [row] = [...(await rowsById()).values()]
        assert.equal(row.status, 'waiting', 'still due for the next claim')
        assert.equal(Number(row.tries), 0)
        assert.deepEqual(
          observer.calls.map((c) => [c.rows, c.conflicts]),
          [[0, CONFLICT_TRIES]],
        )
        // The next claim, won, takes it.
        const next = await claimUnderLease(t.db, claimSpec(t.db, 'w1'), {
          limit: 5,
          leaseMs: LEASE_MS,
          now: NOW,
        })
        assert.equal(next.ids.length, 1)
      })

      it('throws any other error as it is', async () => {
        await insert([{ status: 'waiting', lease_until: NOW }])
        const refused = Object.assign(new Error('Table is read only'), {
          code: 'ER_OPEN_AS_READONLY',
          errno: 1036,
        })
        const db = failingCommits(t.db, [refused])
        await assert.rejects(
          claimUnderLease(db, claimSpec(db, 'w1'), { limit: 5, leaseMs: LEASE_MS, now: NOW }),
          /read only/,
        )
      })
    }
  })
}
