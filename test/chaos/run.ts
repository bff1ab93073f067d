import { startCluster, type Cluster, type MigrationRun } from './cluster'
import type { DatabaseServers } from './database-servers'
import { planFaults, runFaults } from './faults'
import { runLoad, sendProbe, type SentEmail } from './load'
import { IN_PROGRESS, reconcile, type Reconciliation, type SmsRow } from './reconcile'
import { formatReport } from './report'
import type { ChaosSettings } from './settings'
import { seededRandom } from '../support/seeded-random'
import type { UnplannedExit } from './supervised'

export interface ChaosResult {
  reconciliation: Reconciliation
  report: string
  unplannedExits: UnplannedExit[]
  /** One email per MX after the faults, each to be accepted at the first try. */
  probes: SentEmail[]
  /** Workers whose database link carried nothing for a while after the drain. */
  silentWorkers: string[]
  /** The migrations started at once from each database server at the start. */
  migrations: MigrationRun[]
  /** What each worker's running process printed, by worker. */
  workerLogs: string[]
}

const LIVENESS_WINDOW_MS = 3000

/** Undoes whatever a fault that failed half-way may have left: every part up, every link open. */
async function restoreAll(c: Cluster): Promise<void> {
  await c.servers.restore()
  for (const node of [...c.mx, ...c.workers]) node.dbProxy.thaw()
}

/** Probes each MX once, in turn, with emails numbered after the load's. */
async function probeEveryMx(c: Cluster, seed: number, firstIndex: number): Promise<SentEmail[]> {
  const ports = c.mx.map((m) => m.port)
  const probes: SentEmail[] = []
  for (let mx = 0; mx < ports.length; mx++)
    probes.push(await sendProbe(firstIndex + mx, seed, ports, mx))
  return probes
}

/** An idle worker still polls its database every poll_ms: one that says nothing is stuck. */
async function silentWorkers(c: Cluster): Promise<string[]> {
  const before = c.workers.map((w) => w.dbProxy.bytesFromClients())
  await new Promise((r) => setTimeout(r, LIVENESS_WINDOW_MS))
  return c.workers
    .filter((w, i) => w.dbProxy.bytesFromClients() === before[i])
    .map((w) => w.service.name)
}

/** Waits until no SMS is queued or being sent, or the deadline; returns every SMS row. */
async function drain(c: Cluster, deadlineMs: number): Promise<SmsRow[]> {
  const db = c.openDb()
  try {
    const deadline = Date.now() + deadlineMs
    for (;;) {
      try {
        const [{ n }] = await db('outbound_sms').whereIn('status', IN_PROGRESS).count({ n: '*' })
        if (Number(n) === 0 || Date.now() > deadline) break
      } catch (err) {
        if (Date.now() > deadline) throw err
      }
      await new Promise((r) => setTimeout(r, 500))
    }
    return (await db('outbound_sms').select('id', 'recipient', 'status')) as SmsRow[]
  } finally {
    await db.destroy()
  }
}

/**
 * Runs the whole scenario. `onStarted` receives a stop for everything started, for a caller
 * that gives up before the run returns (a mocha timeout) and must not leave processes behind.
 */
export async function runChaos(
  s: ChaosSettings,
  log: (line: string) => void,
  onStarted: (stop: () => Promise<void>) => void = () => undefined,
  startServers?: () => Promise<DatabaseServers>,
): Promise<ChaosResult> {
  log(
    `chaos ${s.scale}: seed ${s.seed} (CHAOS_SEED=${s.seed} to replay), faults ${s.faults.join(',')}`,
  )
  const random = seededRandom(s.seed)
  const plan = planFaults(s, random)
  const cluster = await startCluster(s, startServers)
  onStarted(() => cluster.stop())
  try {
    const loadStart = Date.now()
    const phase = (what: string) =>
      log(`${((Date.now() - loadStart) / 1000).toFixed(1)} s: ${what}`)
    phase(`load starts, ${plan.length} faults planned`)
    const [emails, faults] = await Promise.all([
      runLoad({
        seed: s.seed,
        mxPorts: cluster.mx.map((m) => m.port),
        emailsPerSecond: s.emailsPerSecond,
        durationMs: s.loadMs,
        giveUpAt: () => loadStart + s.loadMs + s.settleMs,
        retryDelayMs: 1000,
      }),
      runFaults(plan, cluster, s, random, loadStart, log).then((done) => {
        phase('faults over')
        return done
      }),
    ])
    phase('every email settled')
    await restoreAll(cluster)
    await drain(cluster, s.drainMs)
    phase('queue drained')
    // Once the dust has settled: a process that is still not right now will not recover alone.
    const probes = await probeEveryMx(cluster, s.seed, emails.length)
    const rows = await drain(cluster, s.drainMs)
    const silent = await silentWorkers(cluster)
    phase('probes and liveness checked')
    const services = [...cluster.mx, ...cluster.workers].map((n) => n.service)
    const unplannedExits = services.flatMap((x) => x.unplannedExits).sort((a, b) => a.at - b.at)
    const reconciliation = reconcile({
      // A refused probe is the liveness check's finding; an accepted one is reconciled.
      emails: [...emails, ...probes.filter((p) => p.acceptedAt !== null)],
      rows,
      submits: cluster.smsc.acceptedSubmits(),
      faults,
      limits: cluster.limits,
      workers: cluster.workers.length,
    })
    return {
      reconciliation,
      report: formatReport(s, reconciliation, loadStart, unplannedExits, {
        probes,
        silentWorkers: silent,
      }),
      unplannedExits,
      probes,
      silentWorkers: silent,
      migrations: cluster.migrations,
      workerLogs: cluster.workers.map((w) => w.service.logs()),
    }
  } finally {
    await cluster.stop()
  }
}
