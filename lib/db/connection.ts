import fs from 'node:fs'
import path from 'node:path'
import knex, { type Knex } from 'knex'
import { DEFAULT_QUERY_TIMEOUT_MS, type DatabaseConfig } from '../config'
import { timedMysqlClient } from './query-timeout'

export type Db = Knex

export function isMysql(db: Db): boolean {
  return (db.client as { driverName?: string }).driverName === 'mysql2'
}

/**
 * knex warns, with a stack, on every failed connection attempt: during an outage that is a
 * line per statement. The callers get the same errors and report an outage once.
 */
function warnUnlessOutage(message: string): void {
  if (/^(Acquire connection error|Connection Error)/.test(String(message))) return
  console.warn(message)
}

function mysqlConfig(url: string, poolMax: number, queryTimeoutMs: number): Knex.Config {
  return {
    client: timedMysqlClient,
    queryTimeoutMs,
    connection: {
      uri: url.replace(/^mysql2:/, 'mysql:'),
      charset: 'utf8mb4',
      // BIGINT ids and millisecond times come back as numbers, which JS holds exactly below 2^53.
      supportBigNumbers: true,
      bigNumberStrings: false,
      timezone: 'Z',
      // For every statement of the process, affectedRows then counts rows changed, not rows
      // matched: insertEmails tells inserted rows from skipped duplicates by it. An UPDATE that
      // sets values equal to the old ones counts 0.
      flags: '-FOUND_ROWS',
      // A server that accepts the TCP connection but never greets counts as down this soon.
      connectTimeout: queryTimeoutMs,
    } as Knex.MySql2ConnectionConfig,
    pool: { min: 0, max: poolMax },
    // Waiting for a free (or new) connection is bounded like a statement.
    acquireConnectionTimeout: queryTimeoutMs,
    log: { warn: warnUnlessOutage },
  } as Knex.Config
}

function sqliteConfig(file: string): Knex.Config {
  try {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true })
  } catch {
    // Opening the file will fail with the reason, where the caller can report it.
  }
  return {
    client: 'better-sqlite3',
    connection: { filename: file },
    useNullAsDefault: true,
    acquireConnectionTimeout: 5_000,
    // One connection: better-sqlite3 is synchronous, and a single writer avoids SQLITE_BUSY
    // between pooled connections of the same process. Other processes wait on busy_timeout.
    pool: {
      min: 1,
      max: 1,
      afterCreate(
        conn: { pragma(s: string): unknown },
        done: (err: Error | null, conn: unknown) => void,
      ) {
        try {
          conn.pragma('journal_mode = WAL')
          conn.pragma('busy_timeout = 5000')
          conn.pragma('foreign_keys = ON')
          // FULL: a commit the MX answered 250 for must survive a power cut, not only a crash.
          conn.pragma('synchronous = FULL')
          done(null, conn)
        } catch (err) {
          done(err as Error, conn)
        }
      },
    },
  }
}

export function openDb(config: DatabaseConfig): Db {
  if (!config.url) return knex(sqliteConfig(config.sqliteFile))
  const db = knex(
    mysqlConfig(config.url, config.poolMax, config.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS),
  )
  // knex reads `client` only to build the client: code that tells the dialect by its name (the
  // migrations) still reads 'mysql2', and a copy of this config makes an untimed pool.
  db.client.config.client = 'mysql2'
  return db
}

/**
 * Another pool on the same database whose statements may run as long as they need: migrations
 * (an ALTER on a large table) and the wait for the migration lock. New connections still give
 * up after the query timeout. SQLite has no such timeout: the same handle serves.
 */
export function openUntimedDb(db: Db, poolMax = 1): { db: Db; close(): Promise<void> } {
  if (!isMysql(db)) return { db, close: async () => undefined }
  const untimed = knex({ ...(db.client.config as Knex.Config), pool: { min: 0, max: poolMax } })
  return { db: untimed, close: () => untimed.destroy() }
}

/** Human description for logs, never including a password. */
export function describeDb(config: DatabaseConfig): string {
  if (!config.url) return `sqlite:${config.sqliteFile}`
  try {
    const u = new URL(config.url)
    return `mysql://${u.hostname}:${u.port || 3306}${u.pathname}`
  } catch {
    return 'mysql://(unparsable url)'
  }
}
