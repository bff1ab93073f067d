import fs from 'node:fs'
import path from 'node:path'
import type { Knex } from 'knex'
import { isMysql, openUntimedDb, type Db } from './connection'
import { isDeadlock } from './errors'
import { freeClusterLock, isGaleraNode, withClusterLock } from './migration-lock'

const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations')

/**
 * Lists migrations by base name, so the same history applies whether the process runs the
 * TypeScript sources (ts-node) or the compiled JavaScript in dist/.
 */
class ProjectMigrationSource implements Knex.MigrationSource<string> {
  private readonly ext = path.extname(__filename)

  async getMigrations(): Promise<string[]> {
    return fs
      .readdirSync(MIGRATIONS_DIR)
      .filter((f) => f.endsWith(this.ext) && !f.endsWith('.d.ts'))
      .map((f) => path.basename(f, this.ext))
      .sort()
  }

  getMigrationName(name: string): string {
    return name
  }

  async getMigration(name: string): Promise<Knex.Migration> {
    // require, not import(): a dynamic import would bypass ts-node's CommonJS hook for .ts files.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(path.join(MIGRATIONS_DIR, name + this.ext)) as Knex.Migration
  }
}

const LOCK_TABLE = 'knex_migrations_lock'

const migrationConfig = (): Knex.MigratorConfig => ({
  migrationSource: new ProjectMigrationSource(),
  tableName: 'knex_migrations',
})

/** Applies pending migrations; returns the names applied. */
export async function migrateLatest(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest(migrationConfig())) as [number, string[]]
  return applied
}

/**
 * Another process is migrating the same database: its lock is held, it created knex's own
 * tables a moment before us, or (Galera) our lock or table creation lost the certification
 * against its own on another node.
 */
function isConcurrentMigration(err: unknown): boolean {
  const message = String((err as Error)?.message ?? '')
  const code = (err as { code?: string })?.code ?? ''
  return (
    message.includes('Migration table is already locked') ||
    // knex wraps a failed lock in an error of its own that keeps only the message.
    isDeadlock(err) ||
    /Deadlock found when trying to get lock/.test(message) ||
    (/knex_migrations/.test(message) &&
      (code === 'ER_TABLE_EXISTS_ERROR' ||
        code === 'ER_DUP_ENTRY' ||
        /already exists|UNIQUE|Duplicate entry/.test(message)))
  )
}

/**
 * Several nodes may start together on one database: the others wait for the one migrating.
 * On MySQL a named lock (GET_LOCK) makes them wait for each other; on a Galera cluster, where
 * that lock is only the node's own, a lock row of ours as well (lib/db/migration-lock.ts).
 * A node that still trips over another's work (knex's tables created a moment before, a
 * commit refused by certification) tries again after a pause.
 */
export async function migrateLatestWaiting(db: Db, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await migrateOnce(db, Math.max(1000, deadline - Date.now()))
    } catch (err) {
      if (!isConcurrentMigration(err) || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 500))
    }
  }
}

async function migrateOnce(db: Db, timeoutMs: number): Promise<string[]> {
  if (!isMysql(db)) {
    await collapseKnexLockRows(db)
    return migrateLatest(db)
  }
  // Without the query timeout: an ALTER on a large table may rightly take minutes.
  const untimed = openUntimedDb(db, 2)
  try {
    return await withServerLock(untimed.db, timeoutMs, () => migrateLatest(untimed.db))
  } finally {
    await untimed.close()
  }
}

const SERVER_LOCK = 'mail2sms.migrate'

/**
 * Runs fn while holding a MySQL named lock, taken on a connection of its own so that fn can
 * use the whole pool. knex's own lock is not enough on a fresh database: two nodes can both see
 * its lock table empty and both insert a row, after which its `update … where is_locked = 0`
 * changes two rows and every node is told, forever, that the table is locked.
 */
async function withServerLock<T>(db: Db, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const { db: lockDb, close } = openUntimedDb(db)
  try {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000))
    const [rows] = (await lockDb.raw('SELECT GET_LOCK(?, ?) AS got', [SERVER_LOCK, seconds])) as [
      Array<{ got: number | null }>,
    ]
    if (Number(rows[0]?.got) !== 1) {
      throw new Error(`another node has been migrating this database for over ${seconds}s`)
    }
    try {
      const run = async () => {
        await collapseKnexLockRows(db)
        return fn()
      }
      // Under Galera the named lock is the node's own: the cluster needs one of its own too.
      if (await isGaleraNode(lockDb)) return await withClusterLock(lockDb, { timeoutMs }, run)
      return await run()
    } finally {
      await lockDb.raw('SELECT RELEASE_LOCK(?)', [SERVER_LOCK])
    }
  } finally {
    await close()
  }
}

/**
 * Leaves knex's lock table with the one row its migrator expects, if an earlier race doubled it.
 * A doubled table can never be locked (knex wants exactly one row changed), so every extra row
 * still reads 0 and deleting it cannot release a lock a node holds.
 */
async function collapseKnexLockRows(db: Db): Promise<void> {
  if (!(await db.schema.hasTable(LOCK_TABLE))) return
  const rows = (await db(LOCK_TABLE).select('index').orderBy('index')) as Array<{ index: number }>
  if (rows.length < 2) return
  await db(LOCK_TABLE).where('index', '>', rows[0].index).andWhere('is_locked', 0).delete()
}

/** Clears the lock a killed migration left behind. */
export async function unlockMigrations(db: Db): Promise<void> {
  if (isMysql(db)) await freeClusterLock(db)
  await collapseKnexLockRows(db)
  await db.migrate.forceFreeMigrationsLock(migrationConfig())
}

export async function migrationStatus(db: Db): Promise<{ done: string[]; pending: string[] }> {
  const [done, pending] = (await db.migrate.list(migrationConfig())) as [
    Array<{ name: string }>,
    Array<{ file: string } | string>,
  ]
  return {
    done: done.map((m) => m.name),
    pending: pending.map((m) => (typeof m === 'string' ? m : m.file)),
  }
}

/**
 * Every migration this build knows is applied: read-only (knex's own list would create its
 * table), so a node that must not migrate can wait on it while another one migrates.
 */
export async function isSchemaCurrent(db: Db): Promise<boolean> {
  const known = await new ProjectMigrationSource().getMigrations()
  if (!(await db.schema.hasTable('knex_migrations'))) return known.length === 0
  const rows = (await db('knex_migrations').select('name')) as Array<{ name: string }>
  // Applied names may carry the extension of whichever build ran them.
  const applied = new Set(rows.map((r) => r.name.replace(/\.(ts|js)$/, '')))
  return known.every((name) => applied.has(name))
}
