import { describeDb, type Db } from './connection'
import type { DatabaseConfig } from '../config'
import { isDatabaseUnreachable } from './errors'
import { isSchemaCurrent, migrateLatestWaiting } from './migrate'
import { InterruptibleSleep } from '../process/interruptible-sleep'

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
  const pause = new InterruptibleSleep()
  opts.signal?.addEventListener('abort', () => pause.wake(), { once: true })
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
    if (opts.signal?.aborted) return false
    await pause.sleep(delay)
    delay = Math.min(delay * 2, maxMs)
  }
}

/**
 * waitForDatabase for a whole process: SIGTERM or SIGINT during the wait ends it (false), so a
 * service that waits for its database can still be stopped; the handlers go once it returns.
 */
export async function waitForDatabaseOrStop(
  db: Db,
  config: DatabaseConfig,
  opts: Omit<WaitForDatabaseOptions, 'signal'>,
): Promise<boolean> {
  const waiting = new AbortController()
  const stop = (sig: NodeJS.Signals) => {
    opts.log(`${sig}: stopping`)
    waiting.abort()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  try {
    return await waitForDatabase(db, config, { ...opts, signal: waiting.signal })
  } finally {
    process.off('SIGTERM', stop)
    process.off('SIGINT', stop)
  }
}
