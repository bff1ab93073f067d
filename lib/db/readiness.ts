import { describeDb, type Db } from './connection'
import type { DatabaseConfig } from '../config'
import { isDatabaseUnreachable } from './errors'
import { isSchemaCurrent, migrateLatestWaiting } from './migrate'

/** MySQL answers, but the account or the database it names is not there yet (still being set up). */
const NOT_SET_UP_YET = new Set([
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
])

class SchemaBehind extends Error {
  override name = 'SchemaBehind'
}

export interface WaitForDatabaseOptions {
  /** Apply pending migrations (else wait for another process to apply them). */
  migrate: boolean
  log: (line: string) => void
  /** Ends the wait early (the process is stopping): resolves false. */
  signal?: AbortSignal
  initialMs?: number
  maxMs?: number
}

/**
 * Returns once the database answers with every known migration applied (applying them first
 * when `migrate`), trying again with a doubling delay (1 s to 30 s) while it is unreachable,
 * not set up yet, or behind; one log line per try says what is awaited. A migration that fails
 * for another reason (a statement the server refuses) is thrown: retrying would not help.
 */
export async function waitForDatabase(
  db: Db,
  config: DatabaseConfig,
  opts: WaitForDatabaseOptions,
): Promise<boolean> {
  let delay = opts.initialMs ?? 1000
  const maxMs = opts.maxMs ?? 30_000
  for (;;) {
    if (opts.signal?.aborted) return false
    try {
      if (opts.migrate) {
        const applied = await migrateLatestWaiting(db)
        if (applied.length) opts.log(`migrations applied: ${applied.join(', ')}`)
        return true
      }
      if (await isSchemaCurrent(db)) return true
      throw new SchemaBehind('migrations pending (another process applies them)')
    } catch (err) {
      const code = (err as { code?: string })?.code ?? ''
      if (!(
        err instanceof SchemaBehind ||
        isDatabaseUnreachable(err) ||
        NOT_SET_UP_YET.has(code)
      )) {
        throw err
      }
      opts.log(
        `waiting for the database at ${describeDb(config)}: ${(err as Error).message}; next try in ${delay / 1000} s`,
      )
    }
    if (!(await sleep(delay, opts.signal))) return false
    delay = Math.min(delay * 2, maxMs)
  }
}

/** Resolves true after ms, or false as soon as the signal aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (slept: boolean) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', abort)
      resolve(slept)
    }
    const abort = () => done(false)
    const timer = setTimeout(() => done(true), ms)
    signal?.addEventListener('abort', abort)
  })
}
