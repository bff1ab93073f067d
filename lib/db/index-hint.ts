import type { Knex } from 'knex'
import { isMysql, type Db } from './connection'

/**
 * `table` (as `alias`) read through the index it names, for a FROM or a JOIN: FORCE INDEX on
 * MySQL/MariaDB, INDEXED BY on SQLite. Keyset pages need it: MariaDB 10.11, given
 * `account_id = ? AND id < ?`, reads an (account_id, id) index as a `ref` on account_id alone
 * and walks down from the newest row to the page, seconds deep in a million rows; named, the
 * index is read as a range that starts at the page. 'PRIMARY' reads by primary key (SQLite
 * then picks its rowid by itself, which INDEXED BY cannot name).
 */
export function indexedTable(db: Db, table: string, index: string, alias?: string): Knex.Raw {
  const name = alias ? db.raw('?? AS ??', [table, alias]) : db.raw('??', [table])
  if (isMysql(db)) return db.raw('? FORCE INDEX (??)', [name, index])
  if (index === 'PRIMARY') return name
  return db.raw('? INDEXED BY ??', [name, index])
}

/** A query that reads `table` through the index it names (see indexedTable). */
export function fromIndex(db: Db, table: string, index: string) {
  return db.from(indexedTable(db, table, index))
}

export type IndexedQuery = ReturnType<typeof fromIndex>
