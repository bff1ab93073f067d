import os from 'node:os'
import { loadConfig, type Mail2SmsConfig } from '../config'
import { isMysql, openDb, type Db } from '../db/connection'
import { DatabaseHealth, usableDatabaseProbe } from '../db/health'
import { checkSpf, type SpfOutcome } from '../auth/spf'
import { createCachingResolver } from '../net/dns-resolver'
import { DirectoryCache, type Directory } from './directory'
import { OutboxWriter } from '../db/outbox-writer'
import { SpendGuard } from './spend-guard'
import type { EnqueueResult, NewSms } from '../db/outbound'
import type { CounterDelta } from '../db/usage-counters'
import type { Registry } from 'prom-client'
import { createMetricsRegistry, databaseMetrics } from '../ops/metrics'
import { mxMetrics, noMxMetrics, type MxMetrics } from '../ops/mx-metrics'

/** The longest the health probe waits for the database before counting it as down. */
const PROBE_TIMEOUT_MS = 2000

/** The directory as the hooks see it: refused at once while the database is known down. */
export interface MxDirectory {
  get(): Promise<Directory>
  /** The snapshot in hand, without waiting (null before the first load). */
  peek(): Directory | null
}

/** The MX's shared parts: one per process, made when Haraka starts and closed at shutdown. */
export interface MxRuntime {
  config: Mail2SmsConfig
  db: Db
  /** Closed (DatabaseUnavailableError, at once) until the database answers with its schema current. */
  health: DatabaseHealth
  directory: MxDirectory
  outbox: { write(items: NewSms[], usage?: CounterDelta[]): Promise<EnqueueResult> }
  spend: Pick<SpendGuard, 'check'>
  /**
   * SPF for the sender's domain, given up after `mx.spf_timeout_ms` or at `deadline` (epoch ms),
   * whichever comes first: a hook passes the time by which it must have answered.
   */
  spf(ip: string, sender: string, helo: string, deadline?: number): Promise<SpfOutcome>
  /** This process's metrics; null when `[ops] mx_listen` is empty (nothing is measured). */
  registry: Registry | null
  /** What the hooks count (no-ops when metrics are off). */
  metrics: MxMetrics
  close(): Promise<void>
}

let shared: MxRuntime | null = null

export function createMxRuntime(
  config: Mail2SmsConfig,
  log: (line: string) => void = (line) => console.log(`[mail2sms] ${line}`),
): MxRuntime {
  const db = openDb(config.database)
  // A pool of its own, with a short deadline, so the probe never queues behind stuck statements.
  const probeDb = isMysql(db)
    ? openDb({
        ...config.database,
        poolMax: 1,
        queryTimeoutMs: Math.min(PROBE_TIMEOUT_MS, config.database.queryTimeoutMs ?? Infinity),
      })
    : db
  const health = new DatabaseHealth({
    probe: usableDatabaseProbe(probeDb),
    log,
    meanwhile: 'mail gets 451',
  })
  void health.start()
  const resolver = createCachingResolver({
    servers: config.mx.dnsServers.length ? config.mx.dnsServers : undefined,
    ttlMs: config.mx.dnsCacheTtlMs,
    timeoutMs: Math.min(5000, config.mx.spfTimeoutMs),
  })
  const mta = os.hostname()
  const directory = new DirectoryCache(db, config.mx.cacheRefreshMs)
  const outbox = new OutboxWriter(db, { log })
  const spend = new SpendGuard(db, config.limits, Date.now, outbox.counters)
  const registry = config.ops.mx ? createMetricsRegistry() : null
  const detachDbMetrics = registry ? databaseMetrics(registry, db) : () => undefined
  return {
    config,
    db,
    health,
    directory: {
      get: () => health.guard(() => directory.get()),
      // No refresh is started while the database is down: the snapshot in hand serves.
      peek: () => (health.up ? directory.peek() : directory.snapshot()),
    },
    outbox: { write: (items, usage) => health.guard(() => outbox.write(items, usage)) },
    spend: { check: (drafts, rows) => health.guard(() => spend.check(drafts, rows)) },
    spf: (ip, sender, helo, deadline = Infinity) => {
      const timeoutMs = Math.max(0, Math.min(config.mx.spfTimeoutMs, deadline - Date.now()))
      return checkSpf({ ip, sender, helo, resolver, timeoutMs, mta })
    },
    registry,
    metrics: registry ? mxMetrics(registry) : noMxMetrics,
    close: async () => {
      health.close()
      detachDbMetrics()
      await outbox.counters.drain()
      if (probeDb !== db) await probeDb.destroy()
      await db.destroy()
    },
  }
}

/** Every plugin asks for the runtime; the first call makes it, with the log it is given. */
export function getMxRuntime(configFile?: string, log?: (line: string) => void): MxRuntime {
  shared ??= createMxRuntime(loadConfig(configFile), log)
  return shared
}

/** The runtime if it was made, without making it (what counts must never open a database). */
export function peekMxRuntime(): MxRuntime | null {
  return shared
}

export async function closeMxRuntime(): Promise<void> {
  const rt = shared
  shared = null
  if (rt) await rt.close()
}
