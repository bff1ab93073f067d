import fs from 'node:fs'
import path from 'node:path'
import knex, { type Knex } from 'knex'
import type { DatabaseConfig } from '../config'

export type Db = Knex

export function isMysql(db: Db): boolean {
  return db.client.config.client === 'mysql2'
}

function mysqlConfig(url: string, poolMax: number): Knex.Config {
  return {
    client: 'mysql2',
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
    } as Knex.MySql2ConnectionConfig,
    pool: { min: 0, max: poolMax },
    acquireConnectionTimeout: 5_000,
  }
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
  return knex(
    config.url ? mysqlConfig(config.url, config.poolMax) : sqliteConfig(config.sqliteFile),
  )
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
