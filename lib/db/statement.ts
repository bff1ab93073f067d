import type { Knex } from 'knex'
import { isMysql, type Db } from './connection'

/** The parts of knex's client that a statement outside its query builder uses. */
interface PooledClient {
  acquireConnection(): Promise<unknown>
  releaseConnection(connection: unknown): Promise<unknown>
  _query(connection: unknown, obj: StatementEvent): Promise<{ response: [unknown, unknown] }>
  emit(event: string, ...args: unknown[]): boolean
}

/** What knex's query events carry, so that listeners (the ops metrics) time these too. */
interface StatementEvent {
  __knexQueryUid: string
  method: string
  sql: string
  bindings: readonly unknown[]
}

let sequence = 0

/**
 * Runs one SQL statement, already written with `?` placeholders, and returns what the driver
 * returns: the rows of a SELECT, the result header of an INSERT or UPDATE.
 *
 * On MySQL it goes straight to a pooled connection, past knex's query builder and runner,
 * which cost about 50 µs of CPU a statement (twice the driver's own work) on this MX's path:
 * the group commit, the spend counters' read and their update, a few statements for every
 * message. The connection still comes from knex's pool, the statement still runs through the
 * client's `_query`, so the query timeout (lib/db/query-timeout.ts) and the disposal of a
 * connection that stopped answering apply, and knex's query events are emitted for the ops
 * metrics. Inside a transaction, and on SQLite, it is knex's `raw`.
 */
export async function runStatement<T>(
  db: Db,
  method: 'select' | 'insert' | 'update',
  sql: string,
  bindings: readonly unknown[],
): Promise<T> {
  const values = bindings as readonly Knex.RawBinding[]
  if (!isMysql(db)) return (await db.raw(sql, values)) as unknown as T
  if (db.isTransaction) return ((await db.raw(sql, values)) as unknown as [T])[0]
  const client = db.client as unknown as PooledClient
  const event: StatementEvent = { __knexQueryUid: `statement-${++sequence}`, method, sql, bindings }
  const connection = await client.acquireConnection()
  try {
    client.emit('query', event)
    const { response } = await client._query(connection, event)
    client.emit('query-response', response[0], event)
    return response[0] as T
  } catch (err) {
    client.emit('query-error', err, event)
    throw err
  } finally {
    await client.releaseConnection(connection)
  }
}

/** Rows per INSERT of insertRows: within SQLite's bound on a statement's values. */
const ROWS_PER_INSERT = 500

/**
 * A multi-row INSERT of `values`, `width` of them per row, in statements of at most
 * ROWS_PER_INSERT rows; `sqlFor(rows, mysql)` writes the statement for a number of rows (a
 * sqlPerCount of lib/db/sql-text.ts).
 */
export async function insertRows(
  db: Db,
  sqlFor: (rows: number, mysql: boolean) => string,
  width: number,
  values: readonly unknown[],
): Promise<void> {
  const step = ROWS_PER_INSERT * width
  for (let i = 0; i < values.length; i += step) {
    const chunk = values.slice(i, i + step)
    await runStatement(db, 'insert', sqlFor(chunk.length / width, isMysql(db)), chunk)
  }
}
