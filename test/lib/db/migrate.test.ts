import assert from 'node:assert/strict'
import { openDb } from '../../../lib/db/connection'
import { migrateLatestWaiting, migrationStatus, unlockMigrations } from '../../../lib/db/migrate'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

describe('lib/db/migrate', function () {
  // DDL on MySQL, three nodes taking turns: seconds, more on a loaded machine.
  this.timeout(60_000)
  for (const kind of databaseKinds()) {
    describe(kind, () => {
      let t: TestDatabase

      beforeEach(async () => {
        t = await createTestDatabase(kind, { migrate: false })
      })

      afterEach(async () => t?.drop())

      it('lets several nodes start on one fresh database at once', async () => {
        const nodes = [openDb(t.config), openDb(t.config), openDb(t.config)]
        try {
          const applied = await Promise.all(nodes.map((db) => migrateLatestWaiting(db)))
          // Each migration ran once, by whichever node got the lock.
          const all = applied.flat()
          assert.equal(new Set(all).size, all.length)
          const status = await migrationStatus(t.db)
          assert.equal(status.pending.length, 0)
          assert.equal(status.done.length, all.length)
        } finally {
          await Promise.all(nodes.map((db) => db.destroy()))
        }
      })

      it('migrates past a lock table that an earlier race left with two rows', async () => {
        await t.db.schema.createTable('knex_migrations_lock', (table) => {
          table.increments('index').primary()
          table.integer('is_locked')
        })
        await t.db('knex_migrations_lock').insert([{ is_locked: 0 }, { is_locked: 0 }])
        const applied = await migrateLatestWaiting(t.db, 5_000)
        assert.ok(applied.length > 0)
        const rows = await t.db('knex_migrations_lock').select('is_locked')
        assert.equal(rows.length, 1)
      })

      it('clears a lock left by a migration that was killed', async () => {
        await migrateLatestWaiting(t.db)
        await t.db('knex_migrations_lock').update({ is_locked: 1 })
        await unlockMigrations(t.db)
        const [row] = await t.db('knex_migrations_lock').select('is_locked')
        assert.equal(Number(row.is_locked), 0)
      })
    })
  }
})
