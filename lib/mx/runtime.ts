import os from 'node:os'
import { loadConfig, type Mail2SmsConfig } from '../config'
import { openDb, type Db } from '../db/connection'
import { checkSpf, type SpfOutcome } from '../auth/spf'
import { createCachingResolver } from '../net/dns-resolver'
import { DirectoryCache } from './directory'
import { OutboxWriter } from '../db/outbox-writer'
import { SpendGuard } from './spend-guard'

/** The MX's shared parts: one per process, made when Haraka starts and closed at shutdown. */
export interface MxRuntime {
  config: Mail2SmsConfig
  db: Db
  directory: DirectoryCache
  outbox: OutboxWriter
  spend: SpendGuard
  spf(ip: string, sender: string, helo: string): Promise<SpfOutcome>
  close(): Promise<void>
}

let shared: MxRuntime | null = null

export function createMxRuntime(config: Mail2SmsConfig): MxRuntime {
  const db = openDb(config.database)
  const resolver = createCachingResolver({
    servers: config.mx.dnsServers.length ? config.mx.dnsServers : undefined,
    ttlMs: config.mx.dnsCacheTtlMs,
    timeoutMs: Math.min(5000, config.mx.spfTimeoutMs),
  })
  const mta = os.hostname()
  return {
    config,
    db,
    directory: new DirectoryCache(db, config.mx.cacheRefreshMs),
    outbox: new OutboxWriter(db),
    spend: new SpendGuard(db, config.limits),
    spf: (ip, sender, helo) =>
      checkSpf({ ip, sender, helo, resolver, timeoutMs: config.mx.spfTimeoutMs, mta }),
    close: () => db.destroy(),
  }
}

/** Every plugin asks for the runtime; the first call makes it. */
export function getMxRuntime(configFile?: string): MxRuntime {
  shared ??= createMxRuntime(loadConfig(configFile))
  return shared
}

export async function closeMxRuntime(): Promise<void> {
  const rt = shared
  shared = null
  if (rt) await rt.close()
}
