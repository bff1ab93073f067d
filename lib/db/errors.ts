/** Driver-neutral classification of database errors, so callers never read driver codes. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? ''
  return (
    code === 'ER_DUP_ENTRY' ||
    code.startsWith('SQLITE_CONSTRAINT_UNIQUE') ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  )
}

/** MySQL chose this transaction as a deadlock victim: running it again is the remedy. */
export function isDeadlock(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | null
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213
}

/**
 * Another transaction got the rows first: a deadlock victim (1213), a lock wait that ran out
 * (1205), or on a Galera cluster a certification failure, which the node reports as a deadlock
 * at any statement or at COMMIT when another node committed a write to the same rows. The work
 * was rolled back whole; nothing is wrong with the database.
 */
export function isLockConflict(err: unknown): boolean {
  const e = err as { code?: string; errno?: number } | null
  return isDeadlock(err) || e?.code === 'ER_LOCK_WAIT_TIMEOUT' || e?.errno === 1205
}

/** What a statement that outlived database.query_timeout_ms rejects with. */
export class QueryTimeoutError extends Error {
  override name = 'QueryTimeoutError'
  readonly code = 'MAIL2SMS_QUERY_TIMEOUT'
}

/** Driver codes that mean the server could not be reached, or stopped answering. */
const UNREACHABLE_CODES = new Set([
  'MAIL2SMS_QUERY_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  // 1047, from a Galera node outside the cluster's primary component or still joining it:
  // "WSREP has not yet prepared node for application use". It serves again once synced.
  'ER_UNKNOWN_COM_ERROR',
  'SQLITE_CANTOPEN',
])

/**
 * The database is out of reach (refused, reset, silent, shutting down), as opposed to a
 * statement it refused: the same call is worth trying again once it answers.
 */
export function isDatabaseUnreachable(err: unknown): boolean {
  const e = err as { code?: string; name?: string; message?: string; fatal?: boolean } | null
  if (!e) return false
  if (e.code && UNREACHABLE_CODES.has(e.code)) return true
  // knex's pool: no connection could be made or freed in time.
  if (e.name === 'KnexTimeoutError') return true
  // mysql2: a statement sent on a connection that an earlier failure closed.
  return e.fatal === true && /closed state/.test(e.message ?? '')
}
