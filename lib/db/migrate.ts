import fs from 'node:fs'
import path from 'node:path'
import type { Knex } from 'knex'
import type { Db } from './connection'

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
 * Another process is migrating the same database: its lock is held, or it created knex's own
 * tables a moment before us.
 */
function isConcurrentMigration(err: unknown): boolean {
  const message = String((err as Error)?.message ?? '')
  const code = (err as { code?: string })?.code ?? ''
  return (
    message.includes('Migration table is already locked') ||
    (/knex_migrations/.test(message) &&
      (code === 'ER_TABLE_EXISTS_ERROR' ||
        code === 'ER_DUP_ENTRY' ||
        /already exists|UNIQUE/.test(message)))
  )
}

/** Several nodes may start together on one database: the others wait for the one migrating. */
export async function migrateLatestWaiting(db: Db, timeoutMs = 60_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await migrateLatest(db)
    } catch (err) {
      if (!isConcurrentMigration(err) || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 500))
    }
  }
}

/** Clears the lock a killed migration left behind. */
export async function unlockMigrations(db: Db): Promise<void> {
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
