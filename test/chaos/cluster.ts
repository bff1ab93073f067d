import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import knex from 'knex'
import type { DatabaseConfig } from '../../lib/config'
import { loadConfig } from '../../lib/config'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { openDb, type Db } from '../../lib/db/connection'
import { migrateLatestWaiting } from '../../lib/db/migrate'
import { addSender } from '../../lib/db/senders'
import { freePort, startMx } from '../support/mx'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy'
import { SingleServer, type DatabaseServers } from './database-servers'
import type { ChaosSettings } from './settings'
import { RestartableSmsc, SMSC_CREDENTIALS } from './smsc'
import { launchWorkerProcess, SupervisedService } from './supervised'

export const SENDERS = ['alice@acme.example', 'bob@acme.example']
const DATABASE = 'mail2sms_chaos'

/** A process of the gateway, with the proxy its database connections go through. */
export interface Node {
  service: SupervisedService
  dbProxy: TcpProxy
}

export interface MxNode extends Node {
  port: number
}

export interface WorkerLimits {
  batchSize: number
  window: number
}

/** One of the migrations started at once at the start: what it applied, or why it failed. */
export interface MigrationRun {
  server: string
  applied: string[]
  error?: string
}

/** Everything the chaos run starts: the database, two MX, two workers, one SMSC. */
export interface Cluster {
  servers: DatabaseServers
  migrations: MigrationRun[]
  smsc: RestartableSmsc
  mx: MxNode[]
  workers: Node[]
  /** As the workers read them from their config file. */
  limits: WorkerLimits
  /** A connection of the harness's own, straight to a server that answers now. */
  openDb(): Db
  stop(): Promise<void>
}

const databaseUrl = (server: string) => `${server}/${DATABASE}`

async function createDatabase(serverUrl: string): Promise<void> {
  const admin = knex({ client: 'mysql2', connection: { uri: serverUrl } as never })
  try {
    await admin.raw(`CREATE DATABASE ${DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  } finally {
    await admin.destroy()
  }
}

/**
 * Migrates from every server at once, as nodes started together would (each waits for the one
 * migrating), and says how each fared.
 */
async function migrateFromEach(servers: string[]): Promise<MigrationRun[]> {
  return Promise.all(
    servers.map(async (server): Promise<MigrationRun> => {
      const db = openDb({ url: databaseUrl(server), sqliteFile: '', poolMax: 2 })
      try {
        return { server, applied: await migrateLatestWaiting(db) }
      } catch (err) {
        return { server, applied: [], error: (err as Error).message }
      } finally {
        await db.destroy()
      }
    }),
  )
}

async function seed(db: Db): Promise<void> {
  const acme = await createAccount(db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })
  for (const sender of SENDERS) await addSender(db, acme.id, sender, { status: 'accepted' })
  await addAllowedIp(db, acme.id, '127.0.0.1')
}

function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url)
  u.port = String(proxy.port)
  return u.toString()
}

function writeWorkerIni(file: string, url: string, smscPort: number, s: ChaosSettings): void {
  const lines = [
    '[database]',
    `url=${url}`,
    'pool_max=5',
    '[worker]',
    'transport=smpp',
    `batch_size=${s.worker.batchSize}`,
    'poll_ms=20',
    `lease_ms=${s.worker.leaseMs}`,
    'retry_initial_ms=200',
    'retry_max_ms=2000',
    'shutdown_grace_ms=1000',
    '[smpp]',
    'host=127.0.0.1',
    `port=${smscPort}`,
    `system_id=${SMSC_CREDENTIALS.systemId}`,
    `password=${SMSC_CREDENTIALS.password}`,
    `window=${s.worker.window}`,
    'request_timeout_ms=2000',
    'enquire_link_ms=5000',
    'reconnect_initial_ms=100',
    'reconnect_max_ms=1000',
    '[mailer]',
    `directory=${path.join(path.dirname(file), 'mail')}`,
  ]
  fs.writeFileSync(file, lines.join('\n') + '\n')
}

/**
 * The spend limits stay on (the MX reads and writes its counters under every fault) but far
 * above the load: one sender mails 8-15 emails a second here, past the default per-sender rate.
 */
const LOAD_LIMITS = {
  account_sms_per_minute: 1_000_000,
  sender_sms_per_minute: 1_000_000,
  segments_per_day: 100_000_000,
}

async function startMxNode(i: number, url: string, s: ChaosSettings): Promise<MxNode> {
  const dbProxy = await startTcpProxy('127.0.0.1', Number(new URL(url).port))
  const database: DatabaseConfig = { url: viaProxy(url, dbProxy), sqliteFile: '', poolMax: 5 }
  const port = await freePort()
  const service = new SupervisedService(
    `mx${i + 1}`,
    async () => {
      const mx = await startMx({ database, port, cacheRefreshMs: 1000, limits: LOAD_LIMITS })
      return { exited: mx.exited, kill: () => mx.stop(), logs: () => mx.logs() }
    },
    s.restartDelayMs,
  )
  await service.start()
  return { service, dbProxy, port }
}

async function startWorkerNode(
  i: number,
  url: string,
  dir: string,
  smscPort: number,
  s: ChaosSettings,
): Promise<Node & { limits: WorkerLimits }> {
  const dbProxy = await startTcpProxy('127.0.0.1', Number(new URL(url).port))
  const ini = path.join(dir, `worker${i + 1}.ini`)
  writeWorkerIni(ini, viaProxy(url, dbProxy), smscPort, s)
  const config = loadConfig(ini, {})
  const service = new SupervisedService(
    `worker${i + 1}`,
    () => launchWorkerProcess(ini),
    s.restartDelayMs,
  )
  await service.start()
  return {
    service,
    dbProxy,
    limits: { batchSize: config.worker.batchSize, window: config.smpp.window },
  }
}

/**
 * Starts the database (by default one private server), migrates and seeds it, then the SMSC,
 * the two MX and the two workers, each on the server `servers` places it on.
 */
export async function startCluster(
  s: ChaosSettings,
  startServers: () => Promise<DatabaseServers> = () => SingleServer.start(2),
): Promise<Cluster> {
  const stops: Array<() => Promise<unknown>> = []
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined)
  }
  try {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-chaos-'))
    stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }))
    const servers = await startServers()
    stops.push(() => servers.destroy())
    await createDatabase(servers.liveServer())
    const migrations = await migrateFromEach(servers.migrationServers())
    const failed = migrations.filter((m) => m.error)
    if (failed.length === migrations.length) throw new Error(`migrations: ${failed[0].error}`)
    const open = () =>
      openDb({ url: databaseUrl(servers.liveServer()), sqliteFile: '', poolMax: 2 })
    const db = open()
    try {
      await seed(db)
    } finally {
      await db.destroy()
    }
    const smsc = await RestartableSmsc.start()
    stops.push(() => smsc.close())
    const nodes = await Promise.all([
      startMxNode(0, databaseUrl(servers.serverFor('mx', 0)), s),
      startMxNode(1, databaseUrl(servers.serverFor('mx', 1)), s),
      startWorkerNode(0, databaseUrl(servers.serverFor('worker', 0)), dir, smsc.port, s),
      startWorkerNode(1, databaseUrl(servers.serverFor('worker', 1)), dir, smsc.port, s),
    ])
    for (const node of nodes) {
      stops.push(() => node.dbProxy.close())
      stops.push(() => node.service.stop())
    }
    const [mx1, mx2, w1, w2] = nodes
    return {
      servers,
      migrations,
      smsc,
      mx: [mx1, mx2],
      workers: [w1, w2],
      limits: w1.limits,
      openDb: open,
      stop: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}
