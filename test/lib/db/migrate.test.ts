import assert from 'node:assert/strict'
import { openDb } from '../../../lib/db/connection'
import { migrateLatestWaiting, migrationStatus, unlockMigrations } from '../../../lib/db/migrate'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

async function tablesWithoutPrimaryKey(t: TestDatabase): Promise<string[]> {
  if (t.kind === 'mysql') {
    const [rows] = (await t.db.raw(
      `SELECT t.table_name AS name FROM information_schema.tables t
         LEFT JOIN information_schema.table_constraints c
           ON c.table_schema = t.table_schema AND c.table_name = t.table_name
          AND c.constraint_type = 'PRIMARY KEY'
        WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE'
          AND c.constraint_name IS NULL`,
    )) as [Array<{ name: string }>]
    return rows.map((r) => r.name)
  }
  const tables = (await t
    .db('sqlite_master')
    .where({ type: 'table' })
    .whereNot('name', 'like', 'sqlite_%')
    .pluck('name')) as string[]
  const missing: string[] = []
  for (const name of tables) {
    const columns = (await t.db.raw(`PRAGMA table_info(\`${name}\`)`)) as Array<{ pk: number }>
    if (!columns.some((c) => c.pk > 0)) missing.push(name)
  }
  return missing
}

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

      // Galera replicates rows by their primary key and refuses DML on a table without one.
      it('gives every table a primary key', async () => {
        await migrateLatestWaiting(t.db)
        assert.deepEqual(await tablesWithoutPrimaryKey(t), [])
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
