import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import knex from 'knex'
import type { DatabaseConfig } from '../../lib/config'
import { openDb, type Db } from '../../lib/db/connection'
import { migrateLatest } from '../../lib/db/migrate'

/** Server for the MySQL runs; each test database is created fresh on it and dropped after. */
export const MYSQL_SERVER_URL = process.env.MAIL2SMS_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306'

export interface TestDatabase {
  kind: 'sqlite' | 'mysql'
  config: DatabaseConfig
  db: Db
  drop(): Promise<void>
}

async function createSqlite(migrate: boolean): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-sqlite-'))
  const config: DatabaseConfig = {
    url: null,
    sqliteFile: path.join(dir, 'test.sqlite'),
    poolMax: 1,
  }
  const db = openDb(config)
  if (migrate) await migrateLatest(db)
  return {
    kind: 'sqlite',
    config,
    db,
    drop: async () => {
      await db.destroy()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

async function createMysql(migrate: boolean): Promise<TestDatabase> {
  const name = `m2s_test_${crypto.randomBytes(4).toString('hex')}`
  const admin = knex({
    client: 'mysql2',
    connection: { uri: MYSQL_SERVER_URL } as never,
    pool: { min: 0, max: 1 },
  })
  try {
    await admin.raw(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  } finally {
    await admin.destroy()
  }
  const config: DatabaseConfig = { url: `${MYSQL_SERVER_URL}/${name}`, sqliteFile: '', poolMax: 10 }
  const db = openDb(config)
  if (migrate) await migrateLatest(db)
  return {
    kind: 'mysql',
    config,
    db,
    drop: async () => {
      await db.raw(`DROP DATABASE \`${name}\``)
      await db.destroy()
    },
  }
}

export function createTestDatabase(
  kind: 'sqlite' | 'mysql',
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const migrate = options.migrate ?? true
  return kind === 'sqlite' ? createSqlite(migrate) : createMysql(migrate)
}

/**
 * The backends a suite runs on. MySQL is part of every run; when it can't be reached the suite
 * fails with the reason (under CI=true always, elsewhere unless MAIL2SMS_TEST_SKIP_MYSQL=1).
 */
export function databaseKinds(): Array<'sqlite' | 'mysql'> {
  if (process.env.MAIL2SMS_TEST_SKIP_MYSQL === '1' && process.env.CI !== 'true') {
    console.warn('MAIL2SMS_TEST_SKIP_MYSQL=1: MySQL runs skipped (never allowed under CI=true)')
    return ['sqlite']
  }
  return ['sqlite', 'mysql']
}
