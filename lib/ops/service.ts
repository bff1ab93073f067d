import type { Registry } from 'prom-client'
import type { OpsListen } from '../config'
import type { Db } from '../db/connection'
import { createMetricsRegistry, databaseMetrics } from './metrics'
import { databaseCheck, type ReadinessCheck } from './readiness'
import { startOpsServer, type OpsServer } from './server'

/** One service's metrics and ops listener. */
export interface ServiceOps {
  /** Where the service's metrics go; null when its listener is off (nothing is measured). */
  registry: Registry | null
  /** The listener's port; null when it is off or could not start. */
  port: number | null
  /** Adds a readiness check, or replaces the one of the same name. */
  setCheck(check: ReadinessCheck): void
  close(): Promise<void>
}

export interface ServiceOpsOptions {
  /** The service's `[ops] *_listen`; null turns metrics and listener off. */
  listen: OpsListen | null
  /** The service's database: its statements are timed, and /readyz probes it. */
  db: Db
  log: (line: string) => void
  warn?: (line: string) => void
  /** The service's registry when it made its own (timing its database already). */
  registry?: Registry
  /** Serves other text than the registry's (the MX's master, aggregating its cluster workers). */
  metrics?: () => Promise<{ text: string; contentType: string }>
}

export const opsOff: ServiceOps = {
  registry: null,
  port: null,
  setCheck: () => undefined,
  close: async () => undefined,
}

/**
 * Makes the service's registry (process and database figures in it), and serves it with
 * /healthz and /readyz (the database check first; the service adds its own). Off when the
 * service has no `[ops]` address: then nothing is measured either.
 */
export async function startServiceOps(opts: ServiceOpsOptions): Promise<ServiceOps> {
  if (!opts.listen) return opsOff
  const registry = opts.registry ?? createMetricsRegistry()
  const detach = opts.registry ? () => undefined : databaseMetrics(registry, opts.db)
  const checks: ReadinessCheck[] = [databaseCheck(opts.db)]
  const server: OpsServer | null = await startOpsServer({
    listen: opts.listen,
    metrics:
      opts.metrics ??
      (async () => ({ text: await registry.metrics(), contentType: registry.contentType })),
    checks: () => checks,
    log: opts.log,
    warn: opts.warn,
  })
  return {
    registry,
    port: server?.port ?? null,
    setCheck(check) {
      const i = checks.findIndex((c) => c.name === check.name)
      if (i >= 0) checks[i] = check
      else checks.push(check)
    },
    close: async () => {
      detach()
      await server?.close()
    },
  }
}
