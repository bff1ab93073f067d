/**
 * `bench:worker -- --workers N`: N worker processes on one database drain the same queue into
 * the simulator, against the raw `smpp` client measured in the same run. Each drain checks
 * exactly-once across the processes: every SMS submitted once, every row delivered, every
 * receipt sent by the simulator acknowledged and recorded against its SMS.
 */
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import type { SmppConfig, WorkerConfig } from '../lib/config'
import type { TestDatabase } from '../test/support/databases'
import { busyShare, findDatabasePid, machineTimes, processCpuSeconds } from './proc'
import { cpuCeiling, describeCeiling, machineFacts, writeResults } from './report'
import type { MultiChildConfig, MultiChildMessage, MultiChildRequest } from './worker-multi-child'
import {
  checkSubmits,
  countByStatus,
  mobileNumbers,
  seedQueued,
  smsText,
  submitProblems,
  whenTrue,
  type BenchAccount,
  type SubmitCheck,
} from './worker-drain'
import { runRawClient } from './worker-raw'
import { SMSC_PASSWORD, SMSC_SYSTEM_ID, type SmscChild } from './worker-smsc'

/** The target for N workers: their rate, with receipts, against the raw client's. */
export const MULTI_RATIO_TARGET = 0.5

const ROOT = path.resolve(__dirname, '..')
const START_TIMEOUT_MS = 60_000

export interface MultiOptions {
  workers: number
  rounds: number
  messages: number
  warmup: number
  window: number
  /** One account's SMS, from the run's database; the simulator already running. */
  t: TestDatabase
  account: BenchAccount
  smsc: SmscChild
  config: { worker: WorkerConfig; smpp: SmppConfig }
  describeTuning: string
  phaseTimeoutMs: number
  /** The next four-digit prefix after +33: every phase writes to numbers of its own. */
  takePrefix(): string
  runStamp: string
}

interface Cpu {
  /** The worker processes together, the simulator, MariaDB (ms per SMS); machine busy share. */
  workers: number | null
  smsc: number | null
  db: number | null
  machineBusy: number | null
}

interface CpuMark {
  workers: Array<number | null>
  smsc: number | null
  db: number | null
  machine: ReturnType<typeof machineTimes>
}

function mark(children: WorkerChild[], smsc: SmscChild, dbPid: number | null): CpuMark {
  return {
    workers: children.map((c) => processCpuSeconds(c.pid)),
    smsc: processCpuSeconds(smsc.pid),
    db: processCpuSeconds(dbPid),
    machine: machineTimes(),
  }
}

function cpuBetween(a: CpuMark, b: CpuMark, count: number): Cpu {
  const ms = (x: number | null, y: number | null): number | null =>
    x === null || y === null ? null : ((y - x) * 1000) / count
  let workers: number | null = 0
  for (let i = 0; i < a.workers.length; i++) {
    const used = ms(a.workers[i], b.workers[i])
    workers = used === null || workers === null ? null : workers + used
  }
  return {
    workers,
    smsc: ms(a.smsc, b.smsc),
    db: ms(a.db, b.db),
    machineBusy: busyShare(a.machine, b.machine),
  }
}

const msText = (v: number | null): string => (v === null ? '?' : v.toFixed(3))

function describeCpu(c: Cpu, client: string): string {
  const busy = c.machineBusy === null ? '' : `, machine ${(c.machineBusy * 100).toFixed(0)}% busy`
  return `CPU ms/SMS ${client} ${msText(c.workers)}, SMSC ${msText(c.smsc)}, MariaDB ${msText(c.db)}${busy}`
}

/** One worker process, between drains. */
class WorkerChild {
  sent = 0
  receipts = 0
  private waiting: Array<{ type: string; resolve: (m: MultiChildMessage) => void }> = []

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (m: MultiChildMessage) => {
      if (m.type === 'progress') {
        this.sent = m.sent
        this.receipts = m.receipts
        return
      }
      const i = this.waiting.findIndex((w) => w.type === m.type)
      if (i >= 0) this.waiting.splice(i, 1)[0].resolve(m)
    })
  }

  get pid(): number | null {
    return this.child.pid ?? null
  }

  static async start(config: MultiChildConfig): Promise<WorkerChild> {
    const child = fork(
      path.join(ROOT, 'bin', 'run-ts.js'),
      [path.join(__dirname, 'worker-multi-child.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, BENCH_WORKER_CONFIG: JSON.stringify(config) },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    )
    const w = new WorkerChild(child)
    await w.next('ready', START_TIMEOUT_MS)
    return w
  }

  next<T extends MultiChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<MultiChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void =>
        reject(new Error(`worker process exited (code ${code}) before '${type}'`))
      const timer = setTimeout(() => {
        this.child.off('exit', onExit)
        reject(new Error(`worker process: no '${type}' in ${timeoutMs} ms`))
      }, timeoutMs)
      this.child.once('exit', onExit)
      this.waiting.push({
        type,
        resolve: (m) => {
          clearTimeout(timer)
          this.child.off('exit', onExit)
          resolve(m as Extract<MultiChildMessage, { type: T }>)
        },
      })
    })
  }

  tell(request: MultiChildRequest): void {
    if (this.child.connected) this.child.send(request)
  }

  async exit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    this.tell({ type: 'exit' })
    await exited
    clearTimeout(timer)
  }
}

interface MultiRun {
  label: string
  messages: number
  sentRate: number
  deliveredRate: number
  sentSeconds: number
  deliveredSeconds: number
  statuses: Record<string, number>
  /** Each process's counters: the work must be shared, and nothing retried. */
  perWorker: Array<Record<string, number>>
  claimErrors: number
  writeErrors: number
  deadlocks: number
  errorLines: string[]
  receiptsSent: number
  receiptsAcked: number
  /** delivery_events rows tied to these SMS, and how many SMS have one. */
  receiptsRecorded: number
  smsWithReceipt: number
  submits: SubmitCheck
  cpu: Cpu
}

interface RawRun {
  label: string
  sentRate: number
  deliveredRate: number
  submits: SubmitCheck
  receipts: number
  accepted: number
  cpu: Cpu
}

async function runRaw(o: MultiOptions, label: string, count: number, dbPid: number | null) {
  await o.smsc.report()
  const destinations = mobileNumbers(o.takePrefix(), count).map((n) => n.slice(1))
  const before = mark([], o.smsc, dbPid)
  const cpuStart = process.cpuUsage()
  const r = await runRawClient({
    port: o.smsc.port,
    systemId: SMSC_SYSTEM_ID,
    password: SMSC_PASSWORD,
    window: o.window,
    destinations,
    text: smsText,
    sourceName: 'Bench',
    timeoutMs: o.phaseTimeoutMs,
  })
  const used = process.cpuUsage(cpuStart)
  const cpu = {
    ...cpuBetween(before, mark([], o.smsc, dbPid), count),
    workers: (used.user + used.system) / 1000 / count,
  }
  const report = await o.smsc.report()
  const run: RawRun = {
    label,
    sentRate: count / r.sentSeconds,
    deliveredRate: count / r.deliveredSeconds,
    submits: checkSubmits(
      destinations.map((d) => `+${d}`),
      report.submits,
    ),
    receipts: r.receipts,
    accepted: r.accepted,
    cpu,
  }
  console.log(
    `${label}: ${count} SMS, ${run.sentRate.toFixed(0)} SMS/s to the last submit_sm_resp, ` +
      `${run.deliveredRate.toFixed(0)} SMS/s to the last receipt; ${describeCpu(cpu, 'raw')}`,
  )
  return run
}

async function runDrain(
  o: MultiOptions,
  children: WorkerChild[],
  label: string,
  count: number,
  dbPid: number | null,
): Promise<MultiRun> {
  const { t, smsc } = o
  await smsc.report()
  const seeded = await seedQueued(
    t.db,
    o.account,
    mobileNumbers(o.takePrefix(), count),
    `${label}-${o.runStamp}`,
  )
  if (seeded.ids.length !== count) {
    throw new Error(`${label}: seeded ${seeded.ids.length} rows instead of ${count}`)
  }
  for (const c of children) c.sent = c.receipts = 0
  const before = mark(children, smsc, dbPid)
  const started = children.map((c) => c.next('started', START_TIMEOUT_MS))
  for (const c of children) c.tell({ type: 'drain' })
  // The clock starts when the first process starts its worker (its session bound).
  const startedAt = (await Promise.all(started))
    .map((m) => BigInt(m.startedAt))
    .reduce((a, b) => (a < b ? a : b))
  const total = (key: 'sent' | 'receipts'): number => children.reduce((n, c) => n + c[key], 0)
  let stopped: Array<Extract<MultiChildMessage, { type: 'stopped' }>>
  let sentAt: bigint
  let deliveredAt: bigint
  let statuses: Record<string, number>
  let after: CpuMark
  try {
    sentAt = await whenTrue(() => total('sent') >= count, 2, o.phaseTimeoutMs, `${label} sent`)
    deliveredAt = await whenTrue(
      () => total('receipts') >= count,
      2,
      o.phaseTimeoutMs,
      `${label} receipts`,
    )
    statuses = await countByStatus(t.db, seeded.ids)
    // A receipt that overtook the record of its submit (another process's) is settled later.
    const deadline = Date.now() + 10_000
    while ((statuses.delivered ?? 0) < count && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20))
      statuses = await countByStatus(t.db, seeded.ids)
      deliveredAt = process.hrtime.bigint()
    }
    after = mark(children, smsc, dbPid)
  } finally {
    const done = children.map((c) => c.next('stopped', o.phaseTimeoutMs))
    for (const c of children) c.tell({ type: 'stop' })
    stopped = await Promise.all(done)
  }
  const report = await smsc.report()
  const recorded = await receiptsOf(t, seeded.ids)
  const seconds = (at: bigint): number => Number(at - startedAt) / 1e9
  const run: MultiRun = {
    label,
    messages: count,
    sentSeconds: seconds(sentAt),
    deliveredSeconds: seconds(deliveredAt),
    sentRate: count / seconds(sentAt),
    deliveredRate: count / seconds(deliveredAt),
    statuses,
    perWorker: stopped.map((s) => s.stats),
    claimErrors: stopped.reduce((n, s) => n + s.claimErrors, 0),
    writeErrors: stopped.reduce((n, s) => n + s.writeErrors, 0),
    deadlocks: stopped.reduce((n, s) => n + s.deadlocks, 0),
    errorLines: stopped.flatMap((s) => s.errorLines),
    receiptsSent: report.receipts,
    receiptsAcked: report.receiptAcks,
    receiptsRecorded: recorded.events,
    smsWithReceipt: recorded.sms,
    submits: checkSubmits(seeded.recipients, report.submits),
    cpu: cpuBetween(before, after, count),
  }
  const shares = run.perWorker.map((s) => s.sent).join('/')
  console.log(
    `${label} (${children.length} processes): ${count} SMS, all sent in ` +
      `${run.sentSeconds.toFixed(3)} s = ${run.sentRate.toFixed(0)} SMS/s, all delivered in ` +
      `${run.deliveredSeconds.toFixed(3)} s = ${run.deliveredRate.toFixed(0)} SMS/s ` +
      `(sent by each: ${shares}); ${describeCpu(run.cpu, 'workers')}`,
  )
  if (run.claimErrors || run.writeErrors) {
    console.log(
      `  worker errors, retried: ${run.claimErrors} claims, ${run.writeErrors} result writes ` +
        `(${run.deadlocks} deadlocks)`,
    )
    for (const line of run.errorLines.slice(0, 2))
      console.log(`  worker log: ${line.slice(0, 300)}`)
  }
  return run
}

async function receiptsOf(
  t: TestDatabase,
  ids: number[],
): Promise<{ events: number; sms: number }> {
  let events = 0
  let sms = 0
  for (let at = 0; at < ids.length; at += 5000) {
    const row = await t
      .db('delivery_events')
      .whereIn('sms_id', ids.slice(at, at + 5000))
      .first(t.db.raw('count(*) as events'), t.db.raw('count(distinct sms_id) as sms'))
    events += Number(row?.events ?? 0)
    sms += Number(row?.sms ?? 0)
  }
  return { events, sms }
}

function drainProblems(r: MultiRun): string[] {
  const out = submitProblems(r.label, r.submits, r.messages)
  const delivered = r.statuses.delivered ?? 0
  if (delivered !== r.messages) {
    out.push(
      `${r.label}: ${delivered} of ${r.messages} rows delivered (${JSON.stringify(r.statuses)})`,
    )
  }
  const sum = (key: string): number => r.perWorker.reduce((n, s) => n + (s[key] ?? 0), 0)
  if (sum('retried') || sum('failed') || sum('expired')) {
    out.push(
      `${r.label}: workers retried ${sum('retried')}, failed ${sum('failed')}, expired ${sum('expired')}`,
    )
  }
  if (sum('sent') !== r.messages) out.push(`${r.label}: workers recorded ${sum('sent')} sent`)
  if (r.receiptsSent !== r.messages || r.receiptsAcked !== r.messages) {
    out.push(
      `${r.label}: simulator sent ${r.receiptsSent} receipts, ${r.receiptsAcked} acknowledged, ` +
        `for ${r.messages} SMS`,
    )
  }
  if (r.receiptsRecorded !== r.messages || r.smsWithReceipt !== r.messages) {
    out.push(
      `${r.label}: ${r.receiptsRecorded} receipts recorded on ${r.smsWithReceipt} of ` +
        `${r.messages} SMS`,
    )
  }
  return out
}

function rawProblems(r: RawRun): string[] {
  const out = submitProblems(r.label, r.submits, r.submits.once + r.submits.missing)
  if (r.receipts !== r.accepted) out.push(`${r.label}: ${r.receipts} receipts for ${r.accepted}`)
  return out
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Runs the N-process mode and prints its summary; resolves with the exit status. */
export async function runMultiWorkerBench(o: MultiOptions): Promise<number> {
  const dbPid = findDatabasePid()
  const childConfig: MultiChildConfig = { database: o.t.config, ...o.config }
  const children = await Promise.all(
    Array.from({ length: o.workers }, () => WorkerChild.start(childConfig)),
  )
  try {
    const warmRaw = await runRaw(o, 'raw warm-up', o.warmup, dbPid)
    const warmDrain = await runDrain(o, children, 'workers warm-up', o.warmup, dbPid)
    const raws: RawRun[] = []
    const drains: MultiRun[] = []
    // Alternating rounds spread the slow spells of a shared machine over both clients.
    for (let round = 1; round <= o.rounds; round++) {
      raws.push(await runRaw(o, `raw round ${round}`, o.messages, dbPid))
      drains.push(await runDrain(o, children, `workers round ${round}`, o.messages, dbPid))
    }
    const rawRate = median(raws.map((r) => r.sentRate))
    const rawDelivered = median(raws.map((r) => r.deliveredRate))
    const rate = median(drains.map((d) => d.sentRate))
    const delivered = median(drains.map((d) => d.deliveredRate))
    const ratio = rate / rawRate
    const deliveredRatio = delivered / rawDelivered
    const cpu = (pick: (c: Cpu) => number | null): number =>
      median(drains.map((d) => pick(d.cpu) ?? NaN))
    const problems = [
      ...[warmRaw, ...raws].flatMap(rawProblems),
      ...[warmDrain, ...drains].flatMap(drainProblems),
    ]
    const all = [warmDrain, ...drains]
    const once = all.reduce((n, d) => n + d.submits.once, 0)
    const expected = all.reduce((n, d) => n + d.messages, 0)
    const twice = all.reduce((n, d) => n + d.submits.twice, 0)
    const lost = all.reduce((n, d) => n + d.submits.missing, 0)
    const recorded = all.reduce((n, d) => n + Math.min(d.smsWithReceipt, d.messages), 0)
    const met = deliveredRatio >= MULTI_RATIO_TARGET
    const machine = await machineFacts(o.t.db)
    const ceiling = cpuCeiling(
      machine.cpus,
      cpu((c) => c.workers) + cpu((c) => c.db) + cpu((c) => c.smsc),
      rawRate,
      MULTI_RATIO_TARGET,
    )
    const file = writeResults('worker-multi', {
      date: new Date().toISOString(),
      machine,
      settings: {
        workers: o.workers,
        rounds: o.rounds,
        messages: o.messages,
        tuning: o.describeTuning,
      },
      target: { deliveredRatio: MULTI_RATIO_TARGET },
      throughput: { rate, delivered, rawRate, rawDelivered, ratio, deliveredRatio, ceiling },
      raws: [warmRaw, ...raws],
      drains: all,
      problems,
      ok: problems.length === 0,
    })
    const rounds = (runs: Array<{ sentRate: number }>): string =>
      runs.map((x) => x.sentRate.toFixed(0)).join(', ')
    console.log(
      [
        '',
        `== bench:worker summary, ${o.workers} worker processes on one database ==`,
        `machine    ${machine.cpus} CPUs, Node ${machine.node}, ${machine.database}`,
        `settings   ${o.describeTuning} in each process; receipts ${o.config.smpp.receipts}`,
        `raw        rounds ${rounds(raws)} SMS/s; median ${rawRate.toFixed(0)} SMS/s to the last ` +
          `submit_sm_resp, ${rawDelivered.toFixed(0)} SMS/s to the last receipt`,
        `workers    rounds ${rounds(drains)} SMS/s; median ${rate.toFixed(0)} SMS/s to all ` +
          `'sent', ${delivered.toFixed(0)} SMS/s to all 'delivered' (${o.messages} queued rows each)`,
        `           CPU per SMS: workers together ${msText(cpu((c) => c.workers))} ms, MariaDB ` +
          `${msText(cpu((c) => c.db))} ms, simulator ${msText(cpu((c) => c.smsc))} ms`,
        `ratio      workers/raw ${ratio.toFixed(2)}; with receipts ${deliveredRatio.toFixed(2)} ` +
          `(target >= ${MULTI_RATIO_TARGET}: ${met ? 'met' : 'NOT met'})`,
        describeCeiling(ceiling, machine.cpus, 'workers, MariaDB, simulator', MULTI_RATIO_TARGET),
        `once       queued rows ${once}/${expected} sent exactly once (${twice} twice, ${lost} lost); ` +
          `${recorded}/${expected} with their receipt recorded`,
        ...problems.map((p) => `PROBLEM    ${p}`),
        `result     ${problems.length === 0 ? 'OK' : 'FAILED'}; written to ${path.relative(process.cwd(), file)}`,
      ].join('\n'),
    )
    return problems.length === 0 ? 0 : 1
  } finally {
    await Promise.all(children.map((c) => c.exit()))
  }
}
