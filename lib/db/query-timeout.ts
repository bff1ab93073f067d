import type { Knex } from 'knex'
import { QueryTimeoutError } from './errors'

/** The parts of a mysql2 connection this module touches. */
interface RawConnection {
  destroy(): void
  stream?: { destroy(): void }
  /** knex's mark for a connection its pool must throw away, never hand out again. */
  __knex__disposed?: unknown
}

/*
 * knex's own mysql2 dialect. Its module has no type declarations; only the constructor's
 * prototype `_query` is used below.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Mysql2Client = require('knex/lib/dialects/mysql2') as new (config: Knex.Config) => {
  _query(connection: RawConnection, obj: unknown): Promise<unknown>
}

/**
 * knex's mysql2 client with a deadline on every statement (config.queryTimeoutMs; 0 for none).
 *
 * mysql2's own per-query `timeout` is not enough: on expiry it only fails the callback, leaves
 * the statement queued on the connection and the connection in knex's pool, so the next caller
 * to get that connection waits behind it forever. KILL QUERY is no remedy either: on a link that
 * stopped answering it would hang the same way. So the connection is destroyed (its socket too)
 * and marked disposed, and the caller gets a QueryTimeoutError, which lib/db/errors.ts counts
 * as the database being out of reach.
 *
 * A subclass rather than a patch of the instance: knex builds each transaction's client from
 * the prototype, so statements inside transactions are bounded as well.
 */
class TimedMysqlClient extends Mysql2Client {
  override _query(connection: RawConnection, obj: unknown): Promise<unknown> {
    const config = (this as unknown as { config: { queryTimeoutMs?: number } }).config
    const timeoutMs = Number(config.queryTimeoutMs ?? 0)
    const expiredText = () => `the database did not answer within ${timeoutMs} ms`
    // The ROLLBACK that knex sends after a statement timed out in a transaction: fail it with
    // the same reason, not mysql2's "closed state", which would hide why.
    if (connection.__knex__disposed instanceof QueryTimeoutError) {
      return Promise.reject(new QueryTimeoutError(expiredText()))
    }
    const running = super._query(connection, obj)
    if (!(timeoutMs > 0)) return running
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new QueryTimeoutError(expiredText())
        connection.__knex__disposed = err
        connection.destroy()
        // destroy() only half-closes; a peer that stopped reading would keep the socket open.
        connection.stream?.destroy()
        reject(err)
      }, timeoutMs)
    })
    // The statement's own late failure (connection lost) is handled by the race: no stray rejection.
    return Promise.race([running, expired]).finally(() => clearTimeout(timer))
  }
}

/** For knex's `client` setting, which expects its own Client type. */
export const timedMysqlClient = TimedMysqlClient as unknown as typeof Knex.Client
