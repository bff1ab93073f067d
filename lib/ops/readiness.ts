import type { Db } from '../db/connection'
import { usableDatabaseProbe } from '../db/health'

/** One thing a service needs to do its work, as /readyz reports it. */
export interface ReadinessCheck {
  name: string
  /** ok, and a few plain words on what was seen; never throws. */
  check(): Promise<{ ok: boolean; detail: string }>
}

/** Longest a readiness check may take: /readyz answers within it even when a part hangs. */
export const CHECK_TIMEOUT_MS = 2000

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

/**
 * The database answers and every migration this build knows is applied (the same probe as
 * the MX's health gate: lib/db/health.ts, isSchemaCurrent).
 */
export function databaseCheck(db: Db, timeoutMs = CHECK_TIMEOUT_MS): ReadinessCheck {
  const probe = usableDatabaseProbe(db)
  return {
    name: 'database',
    check: async () => {
      try {
        const current = await withTimeout(probe(), timeoutMs, 'the database')
        return current
          ? { ok: true, detail: 'answers, migrations current' }
          : { ok: false, detail: 'answers, but migrations are pending' }
      } catch (err) {
        return { ok: false, detail: `unreachable: ${oneLine(err)}` }
      }
    },
  }
}

/** A check whose answer is known at once (the SMSC session, a part still starting…). */
export function stateCheck(
  name: string,
  read: () => { ok: boolean; detail: string },
): ReadinessCheck {
  return { name, check: async () => read() }
}

export interface Readiness {
  ready: boolean
  /** `name: detail`, one per check, in order. */
  lines: string[]
}

export async function runChecks(checks: readonly ReadinessCheck[]): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        return { name: c.name, ...(await c.check()) }
      } catch (err) {
        return { name: c.name, ok: false, detail: oneLine(err) }
      }
    }),
  )
  return {
    ready: results.every((r) => r.ok),
    lines: results.map((r) => `${r.name}: ${r.ok ? 'ok' : 'DOWN'}, ${r.detail}`),
  }
}

function oneLine(err: unknown): string {
  const e = err as { message?: string; code?: string } | null
  const text = (e?.message || String(err)).replace(/\s+/g, ' ').slice(0, 300)
  return e?.code && !text.includes(e.code) ? `${text} (${e.code})` : text
}

/** The worker's link to the carrier: bound over SMPP, or the console transport (always ready). */
export function transportCheck(
  transport: { name: string; ready: boolean },
  smsc: string,
): ReadinessCheck {
  return stateCheck('smsc', () => {
    if (transport.name === 'console')
      return { ok: true, detail: 'console transport: SMS are printed, no SMSC used' }
    return transport.ready
      ? { ok: true, detail: `bound to ${smsc}` }
      : { ok: false, detail: `not bound to ${smsc}` }
  })
}
