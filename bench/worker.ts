/**
 * `npm run bench:worker`: SMS per second from queued rows on MariaDB through one SmsWorker to the
 * SMSC simulator, receipts included, against the raw `smpp` client on the same simulator in the
 * same run; then the latency from an email's 250 to its submit_sm at a steady 100 emails/s.
 */
import { seedSendingAccount } from '../test/support/accounts'
import path from 'node:path'
import { loadConfig, type SmppConfig, type WorkerConfig } from '../lib/config'
import { createTestDatabase, type TestDatabase } from '../test/support/databases'
import { startMx, SMS_DOMAIN } from '../test/support/mx'
import { formatProfile, summariseProfile } from './cpu-profile'
import { busyShare, findDatabasePid, machineTimes, processCpuSeconds } from './proc'
import {
  checkSubmits,
  countByStatus,
  mobileNumbers,
  seedQueued,
  smsText,
  startBenchWorker,
  submitProblems,
  whenTrue,
  type BenchAccount,
  type SubmitCheck,
} from './worker-drain'
import { percentiles, sendPaced, type Percentiles } from './worker-latency'
import { InProcessProfiler } from './worker-profile'
import { runMultiWorkerBench } from './worker-multi'
import { runRawClient } from './worker-raw'
import { describeBacklog, runBacklogPhase, type BacklogPhase } from './worker-backlog'
import { SMSC_PASSWORD, SMSC_SYSTEM_ID, startSmscChild, type SmscChild } from './worker-smsc'
import { parseBenchOptions } from './options'
import { benchCleanups, runBench, type BenchCleanups } from './lifecycle'
import {
  cpuCeiling,
  describeCeiling,
  machineFacts,
  RESULTS_DIR,
  RUN_STAMP,
  writeResults,
} from './report'

const SENDER = 'bench@bench.example'
const SENDER_NAME = 'Bench'
const TARGETS = { rate: 2000, ratio: 0.5, p50Ms: 100, p99Ms: 500 }
// Everything stops by itself: no phase, and not the whole bench, can hang past these.
const PHASE_TIMEOUT_MS = 90_000
const BENCH_DEADLINE_MS = 6 * 60_000
const SHIPPED_CONFIG = path.join(__dirname, '..', 'config', 'mail2sms.ini')

interface Settings {
  rounds: number
  messages: number
  warmup: number
  /** Worker settings; null takes the value from the shipped config/mail2sms.ini. */
  window: number | null
  batchSize: number | null
  pollMs: number | null
  receiptDelayMs: number
  latencyEmails: number
  perSecond: number
  sessions: number
  latency: boolean
  /** Also drain with other windows, batch sizes and poll_ms (SWEEP), and raw at window 50. */
  sweep: boolean
  profile: boolean
  /** Also drain parts of a backlog this size, behind as much history (worker-backlog.ts). */
  backlog: number | null
  /** Worker processes on one database (bench/worker-multi.ts); 1 runs the usual bench. */
  workers: number
}

const USAGE = `usage: npm run bench:worker -- [options]
  --rounds N          measured rounds, each a raw client run then a worker drain (3)
  --messages N        queued SMS per measured drain, and for the raw client (10000)
  --warmup N          SMS in each warm-up, worker and raw client (1000)
  --window N          submit_sm outstanding at once, worker and raw client (config: 10)
  --batch-size N      worker batch_size (config: 300)
  --poll-ms N         worker poll_ms (config: 50)
  --receipt-delay N   ms from submit_sm_resp to the simulator's receipt (10)
  --emails N          emails in the latency phase (1500)
  --rate N            emails per second in the latency phase (100)
  --sessions N        SMTP sessions open in the latency phase (8)
  --no-latency        skip the latency phase (no MX)
  --sweep             also drain with window 10/50 x batch_size 100/500 and poll_ms 10
  --profile           CPU-profile the worker during the last measured drain
  --backlog N         also drain --messages at a time from N queued SMS behind N of history,
                      alternating with drains of an empty queue (about a minute more per 1M)
  --workers N         instead, N worker processes drain each queue together (1)`

function readSettings(argv: string[]): Settings {
  const s: Settings = {
    rounds: 3,
    messages: 10_000,
    warmup: 1000,
    window: null,
    batchSize: null,
    pollMs: null,
    receiptDelayMs: 10,
    latencyEmails: 1500,
    perSecond: 100,
    sessions: 8,
    latency: true,
    sweep: false,
    profile: false,
    backlog: null,
    workers: 1,
  }
  const numbers: Record<string, (v: number) => void> = {
    '--rounds': (v) => (s.rounds = v),
    '--messages': (v) => (s.messages = v),
    '--warmup': (v) => (s.warmup = v),
    '--window': (v) => (s.window = v),
    '--batch-size': (v) => (s.batchSize = v),
    '--poll-ms': (v) => (s.pollMs = v),
    '--receipt-delay': (v) => (s.receiptDelayMs = v),
    '--emails': (v) => (s.latencyEmails = v),
    '--rate': (v) => (s.perSecond = v),
    '--sessions': (v) => (s.sessions = v),
    '--backlog': (v) => (s.backlog = v),
    '--workers': (v) => (s.workers = v),
  }
  const switches: Record<string, () => void> = {
    '--no-latency': () => (s.latency = false),
    '--sweep': () => (s.sweep = true),
    '--profile': () => (s.profile = true),
  }
  parseBenchOptions(argv, USAGE, numbers, switches)
  return s
}

interface Tuning {
  window: number
  batchSize: number
  pollMs: number
}

/** The shipped settings, the command line's over them, pointed at the simulator. */
function benchConfig(smscPort: number, tuning: Tuning): { worker: WorkerConfig; smpp: SmppConfig } {
  const shipped = loadConfig(SHIPPED_CONFIG, {})
  return {
    worker: {
      ...shipped.worker,
      transport: 'smpp',
      batchSize: tuning.batchSize,
      pollMs: tuning.pollMs,
    },
    smpp: {
      ...shipped.smpp,
      host: '127.0.0.1',
      port: smscPort,
      systemId: SMSC_SYSTEM_ID,
      password: SMSC_PASSWORD,
      window: tuning.window,
    },
  }
}

function shippedTuning(s: Settings): Tuning {
  const shipped = loadConfig(SHIPPED_CONFIG, {})
  return {
    window: s.window ?? shipped.smpp.window,
    batchSize: s.batchSize ?? shipped.worker.batchSize,
    pollMs: s.pollMs ?? shipped.worker.pollMs,
  }
}

const describeTuning = (t: Tuning): string =>
  `window ${t.window}, batch_size ${t.batchSize}, poll_ms ${t.pollMs}`

interface CpuSnapshot {
  bench: NodeJS.CpuUsage
  smsc: number | null
  db: number | null
  machine: ReturnType<typeof machineTimes>
}

interface CpuPerSms {
  /** This process: the worker or the raw client (and the bench's own polling). */
  client: number
  smsc: number | null
  db: number | null
  machineBusy: number | null
}

function cpuSnapshot(smsc: SmscChild, dbPid: number | null): CpuSnapshot {
  return {
    bench: process.cpuUsage(),
    smsc: processCpuSeconds(smsc.pid),
    db: processCpuSeconds(dbPid),
    machine: machineTimes(),
  }
}

function cpuPerSms(a: CpuSnapshot, b: CpuSnapshot, count: number): CpuPerSms {
  const ms = (x: number | null, y: number | null): number | null =>
    x === null || y === null ? null : ((y - x) * 1000) / count
  const used = b.bench.user + b.bench.system - a.bench.user - a.bench.system
  return {
    client: used / 1000 / count,
    smsc: ms(a.smsc, b.smsc),
    db: ms(a.db, b.db),
    machineBusy: busyShare(a.machine, b.machine),
  }
}

function describeCpu(c: CpuPerSms, client: string): string {
  const ms = (v: number | null): string => (v === null ? '?' : v.toFixed(3))
  const busy = c.machineBusy === null ? '' : `, machine ${(c.machineBusy * 100).toFixed(0)}% busy`
  const db = c.db === null && client === 'raw' ? '' : `, MariaDB ${ms(c.db)}`
  return `CPU ms/SMS ${client} ${ms(c.client)}, SMSC ${ms(c.smsc)}${db}${busy}`
}

interface RawRun {
  label: string
  window: number
  messages: number
  sentSeconds: number
  deliveredSeconds: number
  sentRate: number
  deliveredRate: number
  accepted: number
  refused: number
  receipts: number
  maxOutstanding: number
  submits: SubmitCheck
  cpu: CpuPerSms
}

interface WorkerRun {
  label: string
  tuning: Tuning
  messages: number
  /** From worker.start() (session already bound) to the commit of the last 'sent'. */
  sentSeconds: number
  /** To the commit of the last receipt, every row 'delivered'. */
  deliveredSeconds: number
  sentRate: number
  deliveredRate: number
  statuses: Record<string, number>
  workerStats: Record<string, number>
  receiptsSent: number
  receiptsAcked: number
  maxOutstanding: number
  submits: SubmitCheck
  cpu: CpuPerSms
  /** Claims and result writes that failed and were retried (the worker logs each), deadlocks among them. */
  claimErrors: number
  writeErrors: number
  deadlocks: number
  workerLog: string[]
}

interface Context {
  s: Settings
  t: TestDatabase
  smsc: SmscChild
  account: BenchAccount
  dbPid: number | null
  /** Four digits after +33 for the next phase's numbers: every phase has its own. */
  nextPrefix: number
}

function takePrefix(ctx: Context): string {
  return String(ctx.nextPrefix++)
}

async function runRaw(ctx: Context, label: string, count: number, window: number) {
  await ctx.smsc.report()
  const destinations = mobileNumbers(takePrefix(ctx), count).map((n) => n.slice(1))
  const before = cpuSnapshot(ctx.smsc, ctx.dbPid)
  const r = await runRawClient({
    port: ctx.smsc.port,
    systemId: SMSC_SYSTEM_ID,
    password: SMSC_PASSWORD,
    window,
    destinations,
    text: smsText,
    sourceName: SENDER_NAME,
    timeoutMs: PHASE_TIMEOUT_MS,
  })
  const cpu = cpuPerSms(before, cpuSnapshot(ctx.smsc, ctx.dbPid), count)
  const report = await ctx.smsc.report()
  const run: RawRun = {
    label,
    window,
    messages: count,
    sentSeconds: r.sentSeconds,
    deliveredSeconds: r.deliveredSeconds,
    sentRate: count / r.sentSeconds,
    deliveredRate: count / r.deliveredSeconds,
    accepted: r.accepted,
    refused: r.refused,
    receipts: r.receipts,
    maxOutstanding: report.maxOutstanding,
    submits: checkSubmits(
      destinations.map((d) => `+${d}`),
      report.submits,
    ),
    cpu,
  }
  console.log(
    `${label}: ${count} SMS, all answered in ${r.sentSeconds.toFixed(2)} s = ` +
      `${run.sentRate.toFixed(0)} SMS/s, receipts in ${r.deliveredSeconds.toFixed(2)} s = ` +
      `${run.deliveredRate.toFixed(0)} SMS/s; ${describeCpu(cpu, 'raw')}`,
  )
  return run
}

async function runWorker(
  ctx: Context,
  label: string,
  count: number,
  tuning: Tuning,
  profileFile: string | null = null,
): Promise<WorkerRun> {
  const { t, smsc } = ctx
  await smsc.report()
  const seeded = await seedQueued(
    t.db,
    ctx.account,
    mobileNumbers(takePrefix(ctx), count),
    `${label}-${RUN_STAMP}`,
  )
  if (seeded.ids.length !== count) {
    throw new Error(`${label}: seeded ${seeded.ids.length} rows instead of ${count}`)
  }
  const { worker, smpp } = benchConfig(smsc.port, tuning)
  const profiler = profileFile ? new InProcessProfiler() : null
  await profiler?.start()
  const before = cpuSnapshot(smsc, ctx.dbPid)
  const running = await startBenchWorker(t.config, smpp, worker)
  let after: CpuSnapshot
  let sentAt: bigint
  let deliveredAt: bigint
  let statuses: Record<string, number>
  try {
    const { stats } = running.worker
    sentAt = await whenTrue(() => stats.sent >= count, 2, PHASE_TIMEOUT_MS, `${label} sent`)
    deliveredAt = await whenTrue(
      () => stats.receipts >= count,
      2,
      PHASE_TIMEOUT_MS,
      `${label} receipts`,
    )
    statuses = await countByStatus(t.db, seeded.ids)
    // A receipt that overtook its submit's record is settled by a later write: wait for it.
    if ((statuses.delivered ?? 0) < count) {
      deliveredAt = await pollDelivered(ctx, seeded.ids, count)
      statuses = await countByStatus(t.db, seeded.ids)
    }
    after = cpuSnapshot(smsc, ctx.dbPid)
    if (profiler && profileFile) await profiler.stop(profileFile)
  } finally {
    await running.stop()
  }
  const report = await smsc.report()
  const seconds = (at: bigint): number => Number(at - running.startedAt) / 1e9
  const run: WorkerRun = {
    label,
    tuning,
    messages: count,
    sentSeconds: seconds(sentAt),
    deliveredSeconds: seconds(deliveredAt),
    sentRate: count / seconds(sentAt),
    deliveredRate: count / seconds(deliveredAt),
    statuses,
    workerStats: { ...running.worker.stats },
    receiptsSent: report.receipts,
    receiptsAcked: report.receiptAcks,
    maxOutstanding: report.maxOutstanding,
    submits: checkSubmits(seeded.recipients, report.submits),
    cpu: cpuPerSms(before, after, count),
    claimErrors: running.log.filter((l) => / event=cannot\.claim /.test(l)).length,
    writeErrors: running.log.filter((l) => / event=cannot\.record/.test(l)).length,
    deadlocks: running.log.filter((l) => l.includes('Deadlock found')).length,
    workerLog: running.log.slice(0, 20),
  }
  console.log(
    `${label} (${describeTuning(tuning)}): ${count} SMS, all sent in ` +
      `${run.sentSeconds.toFixed(3)} s = ${run.sentRate.toFixed(0)} SMS/s, all delivered in ` +
      `${run.deliveredSeconds.toFixed(3)} s = ${run.deliveredRate.toFixed(0)} SMS/s; ` +
      describeCpu(run.cpu, 'worker'),
  )
  if (run.claimErrors || run.writeErrors) console.log(`  ${describeErrors(run)}`)
  // Stopping the worker closes its session: anything else it logged is worth seeing.
  // (Each SMS's own lines, sms.submitted…, are not kept.)
  const other = running.log.filter(
    (l) => !/ event=(smpp\.bound|cannot\.claim|cannot\.record|worker\.)|client stopped/.test(l),
  )
  for (const line of other.slice(0, 3)) console.log(`  worker log: ${line.slice(0, 200)}`)
  return run
}

function describeErrors(r: Pick<WorkerRun, 'claimErrors' | 'writeErrors' | 'deadlocks'>): string {
  return (
    `worker errors, retried: ${r.claimErrors} claims and ${r.writeErrors} result writes failed ` +
    `(${r.deadlocks} deadlocks); a failed write stops result writing for 500 ms`
  )
}

async function pollDelivered(ctx: Context, ids: number[], count: number): Promise<bigint> {
  const deadline = Date.now() + 10_000
  for (;;) {
    const statuses = await countByStatus(ctx.t.db, ids)
    if ((statuses.delivered ?? 0) >= count || Date.now() > deadline) return process.hrtime.bigint()
    await new Promise((r) => setTimeout(r, 20))
  }
}

function workerProblems(r: WorkerRun): string[] {
  const out = submitProblems(r.label, r.submits, r.messages)
  const delivered = r.statuses.delivered ?? 0
  if (delivered !== r.messages) {
    out.push(
      `${r.label}: ${delivered} of ${r.messages} rows delivered (${JSON.stringify(r.statuses)})`,
    )
  }
  const { retried, failed, expired } = r.workerStats
  if (retried || failed || expired) {
    out.push(`${r.label}: worker retried ${retried}, failed ${failed}, expired ${expired}`)
  }
  return out
}

function rawProblems(r: RawRun): string[] {
  const out = submitProblems(r.label, r.submits, r.messages)
  if (r.receipts !== r.accepted)
    out.push(`${r.label}: ${r.receipts} receipts for ${r.accepted} SMS`)
  return out
}

interface LatencyRun {
  emails: number
  accepted: number
  refused: number
  perSecond: number
  sessions: number
  /** Seconds from the first email's start to the last 250. */
  seconds: number
  maxLateMs: number
  /** submit_sm arrival at the simulator minus the client's receipt of the 250 (the primary). */
  fromReply: Percentiles
  /** submit_sm arrival minus the row's created_at (set by the MX just before its commit). */
  fromCreatedAt: Percentiles
  /** Client's 250 minus the row's created_at: the MX's commit and reply. */
  commitMs: Percentiles
  /** Whole SMTP transactions, MAIL FROM to the 250 after DATA. */
  smtpMs: Percentiles
  /** Emails that started more than 10 ms behind their schedule (all sessions busy). */
  late: number
  submits: SubmitCheck
  problems: string[]
}

async function runLatency(ctx: Context, tuning: Tuning): Promise<LatencyRun> {
  const { s, t, smsc } = ctx
  // The latency run mails 1,500 SMS from one sender in 15 s: far past the default spend limits,
  // which are not what this measures.
  const mx = await startMx({
    database: t.config,
    limits: { account_sms_per_minute: 0, sender_sms_per_minute: 0, loop_max_repeats: 0 },
  })
  let running: Awaited<ReturnType<typeof startBenchWorker>> | null = null
  try {
    const { worker, smpp } = benchConfig(smsc.port, tuning)
    running = await startBenchWorker(t.config, smpp, worker)
    const stats = running.worker.stats
    const national = (e164: string): string => `0${e164.slice(3)}`
    const send = (recipients: string[], perSecond: number) =>
      sendPaced({
        port: mx.port,
        from: SENDER,
        recipients: recipients.map((r) => `${national(r)}@${SMS_DOMAIN}`),
        perSecond,
        sessions: s.sessions,
        body: (i) => smsText(i),
      })
    // Warm-up: the MX's first messages open its database pool and run cold code.
    const warm = await send(mobileNumbers(takePrefix(ctx), 100), s.perSecond)
    const warmAccepted = warm.emails.filter((e) => e.code === 250).length
    await whenTrue(() => stats.sent >= warmAccepted, 5, PHASE_TIMEOUT_MS, 'latency warm-up')
    await smsc.report()
    const sentBefore = stats.sent

    const recipients = mobileNumbers(takePrefix(ctx), s.latencyEmails)
    const paced = await send(recipients, s.perSecond)
    const accepted = paced.emails.filter((e) => e.code === 250)
    await whenTrue(
      () => stats.sent - sentBefore >= accepted.length,
      5,
      PHASE_TIMEOUT_MS,
      'latency submits',
    )
    const report = await smsc.report()
    const submittedAt = new Map(report.submits.map(([dest, at]) => [dest, at]))
    const ids = accepted.map((e) => e.smsId).filter((id): id is number => id !== null)
    const createdAt = new Map<number, number>()
    for (let at = 0; at < ids.length; at += 1000) {
      const rows = await t
        .db('outbound_sms')
        .whereIn('id', ids.slice(at, at + 1000))
        .select('id', 'created_at')
      for (const r of rows) createdAt.set(Number(r.id), Number(r.created_at))
    }
    const fromReply: number[] = []
    const fromCreatedAt: number[] = []
    const commit: number[] = []
    for (let i = 0; i < paced.emails.length; i++) {
      const e = paced.emails[i]
      const at = submittedAt.get(recipients[i].slice(1))
      const created = e.smsId === null ? undefined : createdAt.get(e.smsId)
      if (e.code !== 250 || at === undefined) continue
      fromReply.push(at - e.repliedAt)
      if (created !== undefined) {
        fromCreatedAt.push(at - created)
        commit.push(e.repliedAt - created)
      }
    }
    const refused = paced.emails.filter((e) => e.code !== 250)
    const acceptedNumbers = recipients.filter((_, i) => paced.emails[i].code === 250)
    const submits = checkSubmits(acceptedNumbers, report.submits)
    const problems = [
      ...submitProblems('latency', submits, accepted.length),
      ...refused
        .slice(0, 3)
        .map((e) => `latency: email to ${e.recipient} refused: ${e.code} ${e.text}`),
    ]
    if (refused.length > 3) problems.push(`latency: ${refused.length} emails refused in all`)
    const run: LatencyRun = {
      emails: paced.emails.length,
      accepted: accepted.length,
      refused: refused.length,
      perSecond: s.perSecond,
      sessions: s.sessions,
      seconds: paced.seconds,
      maxLateMs: paced.maxLateMs,
      fromReply: percentiles(fromReply),
      fromCreatedAt: percentiles(fromCreatedAt),
      commitMs: percentiles(commit),
      smtpMs: percentiles(accepted.map((e) => e.repliedAt - e.startedAt)),
      late: paced.emails.filter((e) => e.startedAt - e.dueAt > 10).length,
      submits,
      problems,
    }
    console.log(
      `latency (${describeTuning(tuning)}): ${run.accepted}/${run.emails} emails accepted in ` +
        `${run.seconds.toFixed(1)} s (${(run.accepted / run.seconds).toFixed(0)}/s, ` +
        `${run.late} started over 10 ms late, the latest by ${run.maxLateMs} ms); SMTP transaction ` +
        `p50 ${run.smtpMs.p50} ms, p99 ${run.smtpMs.p99} ms; 250 to submit_sm ` +
        describePercentiles(run.fromReply),
    )
    return run
  } finally {
    await running?.stop()
    await mx.stop()
  }
}

function describePercentiles(p: Percentiles): string {
  const f = (v: number): string => `${Math.round(v)} ms`
  return `p50 ${f(p.p50)}, p90 ${f(p.p90)}, p99 ${f(p.p99)}, max ${f(p.max)} (min ${f(p.min)})`
}

async function seedAccount(t: TestDatabase): Promise<BenchAccount> {
  const { account, senders } = await seedSendingAccount(
    t.db,
    { ref: 'bench', name: 'Bench', senderName: SENDER_NAME, segmentCap: 4 },
    [SENDER],
  )
  return { accountId: account.id, senderId: senders[0].id, senderEmail: SENDER }
}

const SWEEP: Array<Omit<Tuning, 'pollMs'> & { pollMs?: number }> = [
  { window: 10, batchSize: 500 },
  { window: 10, batchSize: 100, pollMs: 10 },
  { window: 50, batchSize: 100 },
  { window: 50, batchSize: 500 },
  { window: 50, batchSize: 500, pollMs: 10 },
]

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function run(s: Settings, cleanups: BenchCleanups) {
  const smsc = await startSmscChild(s.receiptDelayMs)
  cleanups.push(() => smsc.stop())
  const t = await createTestDatabase('mysql')
  cleanups.push(() => t.drop())
  const ctx: Context = {
    s,
    t,
    smsc,
    account: await seedAccount(t),
    dbPid: findDatabasePid(),
    nextPrefix: 6100,
  }
  const tuning = shippedTuning(s)
  const profileFile = s.profile
    ? path.join(RESULTS_DIR, `worker-${RUN_STAMP}-profile`, 'worker.cpuprofile')
    : null

  // Warm-ups run the code cold (JIT, pools, first binds): they are shown, not counted.
  const warmups = {
    raw: await runRaw(ctx, 'raw warm-up', s.warmup, tuning.window),
    worker: await runWorker(ctx, 'worker warm-up', s.warmup, tuning),
  }
  // Alternating rounds spread the slow spells of a shared machine over both clients.
  const raws: RawRun[] = []
  const workers: WorkerRun[] = []
  for (let round = 1; round <= s.rounds; round++) {
    raws.push(await runRaw(ctx, `raw round ${round}`, s.messages, tuning.window))
    const profiled = round === s.rounds ? profileFile : null
    workers.push(await runWorker(ctx, `worker round ${round}`, s.messages, tuning, profiled))
  }
  const profile = profileFile ? summariseProfile(profileFile) : null
  const sweep: WorkerRun[] = []
  if (s.sweep) {
    for (const variant of SWEEP) {
      const v = { ...variant, pollMs: variant.pollMs ?? tuning.pollMs }
      sweep.push(await runWorker(ctx, 'sweep', s.messages, v))
    }
    // Each variant is compared with the raw client at its own window.
    for (const window of new Set(SWEEP.map((v) => v.window))) {
      if (window !== tuning.window) {
        raws.push(await runRaw(ctx, `raw, window ${window}`, s.messages, window))
      }
    }
  }
  const backlog: BacklogPhase<WorkerRun> | null = s.backlog
    ? await runBacklogPhase({
        size: s.backlog,
        rounds: s.rounds,
        messages: s.messages,
        smsc,
        config: benchConfig(smsc.port, tuning),
        seedAccount,
        drainEmpty: (label) => runWorker(ctx, label, s.messages, tuning),
        cleanups,
      })
    : null
  const latency = s.latency ? await runLatency(ctx, tuning) : null
  const { receipts } = benchConfig(smsc.port, tuning).smpp
  return { t, tuning, receipts, warmups, raws, workers, sweep, latency, profile, backlog }
}

/** --workers N: the processes, the raw client and their checks are in bench/worker-multi.ts. */
async function runMulti(s: Settings, cleanups: BenchCleanups): Promise<number> {
  const smsc = await startSmscChild(s.receiptDelayMs)
  cleanups.push(() => smsc.stop())
  const t = await createTestDatabase('mysql')
  cleanups.push(() => t.drop())
  const tuning = shippedTuning(s)
  let prefix = 6100
  return runMultiWorkerBench({
    workers: s.workers,
    rounds: s.rounds,
    messages: s.messages,
    warmup: s.warmup,
    window: tuning.window,
    t,
    account: await seedAccount(t),
    smsc,
    config: benchConfig(smsc.port, tuning),
    describeTuning: describeTuning(tuning),
    phaseTimeoutMs: PHASE_TIMEOUT_MS,
    takePrefix: () => String(prefix++),
    runStamp: RUN_STAMP,
  })
}

const verdict = (ok: boolean): string => (ok ? 'met' : 'NOT met')
const rate = (v: number): string => `${v.toFixed(0)} SMS/s`

async function main(): Promise<number> {
  const s = readSettings(process.argv.slice(2))
  // A backlog's load and drains: about a minute per million SMS on the test machine.
  const cleanups = benchCleanups(BENCH_DEADLINE_MS + ((s.backlog ?? 0) / 1e6) * 4 * 60_000)

  try {
    if (s.workers > 1) return await runMulti(s, cleanups)
    const r = await run(s, cleanups)
    const { latency } = r
    const measuredRaw = r.raws.filter((x) => x.label.startsWith('raw round'))
    const rawRate = median(measuredRaw.map((x) => x.sentRate))
    const rawDelivered = median(measuredRaw.map((x) => x.deliveredRate))
    const workerRate = median(r.workers.map((x) => x.sentRate))
    const workerDelivered = median(r.workers.map((x) => x.deliveredRate))
    const ratio = workerRate / rawRate
    const rawFor = (window: number): number | null => {
      if (window === r.tuning.window) return rawRate
      const other = r.raws.find((x) => x.window === window)
      return other ? other.sentRate : null
    }
    const deliveredRatio = workerDelivered / rawDelivered
    const problems = [
      ...[r.warmups.raw, ...r.raws].flatMap(rawProblems),
      ...[r.warmups.worker, ...r.workers, ...r.sweep].flatMap(workerProblems),
      ...(latency?.problems ?? []),
      ...(r.backlog?.problems ?? []),
      ...(r.backlog?.empty ?? []).flatMap(workerProblems),
    ]
    const met = {
      rate: workerRate >= TARGETS.rate,
      ratio: ratio >= TARGETS.ratio,
      p50: latency ? latency.fromReply.p50 <= TARGETS.p50Ms : null,
      p99: latency ? latency.fromReply.p99 <= TARGETS.p99Ms : null,
    }
    const errors = {
      claimErrors: r.workers.reduce((n, w) => n + w.claimErrors, 0),
      writeErrors: r.workers.reduce((n, w) => n + w.writeErrors, 0),
      deadlocks: r.workers.reduce((n, w) => n + w.deadlocks, 0),
    }
    const workerCpu = median(r.workers.map((x) => x.cpu.client))
    const dbCpu = median(r.workers.map((x) => x.cpu.db ?? NaN))
    const smscCpu = median(r.workers.map((x) => x.cpu.smsc ?? NaN))
    const machine = await machineFacts(r.t.db)
    const ceiling = cpuCeiling(machine.cpus, workerCpu + dbCpu + smscCpu, rawRate, TARGETS.ratio)
    const summary = {
      date: new Date().toISOString(),
      machine,
      settings: { ...s, worker: r.tuning, source: 'config/mail2sms.ini, then the command line' },
      targets: TARGETS,
      throughput: {
        workerSmsPerSecond: workerRate,
        workerDeliveredPerSecond: workerDelivered,
        rawSmsPerSecond: rawRate,
        rawDeliveredPerSecond: rawDelivered,
        ratio,
        deliveredRatio,
        workerCpuMsPerSms: workerCpu,
        databaseCpuMsPerSms: dbCpu,
        smscCpuMsPerSms: smscCpu,
        ceiling,
        ...errors,
      },
      latency,
      met,
      warmups: r.warmups,
      raws: r.raws,
      workers: r.workers,
      sweep: r.sweep,
      backlog: r.backlog,
      problems,
      ok: problems.length === 0,
      profile: r.profile,
    }
    const file = writeResults('worker', summary)
    const ms = (v: number): string => (Number.isNaN(v) ? '?' : v.toFixed(3))
    const rounds = (runs: Array<{ sentRate: number }>): string =>
      runs.map((x) => x.sentRate.toFixed(0)).join(', ')
    const lines = [
      '',
      '== bench:worker summary ==',
      `machine    ${machine.cpus} CPUs, Node ${machine.node}, ${machine.database}`,
      `settings   ${describeTuning(r.tuning)}; receipts ${r.receipts}, simulator receipt delay ` +
        `${s.receiptDelayMs} ms; simulator in its own process`,
      `raw        rounds ${rounds(measuredRaw)} SMS/s; median ${rate(rawRate)} to the last ` +
        `submit_sm_resp, ${rate(rawDelivered)} to the last receipt`,
      `worker     rounds ${rounds(r.workers)} SMS/s; median ${rate(workerRate)} to all 'sent', ` +
        `${rate(workerDelivered)} to all 'delivered' (${s.messages} queued rows each)`,
      `           CPU per SMS: worker ${ms(workerCpu)} ms, MariaDB ${ms(dbCpu)} ms, ` +
        `simulator ${ms(smscCpu)} ms`,
      ...(errors.claimErrors || errors.writeErrors ? [`           ${describeErrors(errors)}`] : []),
      `rate       worker ${rate(workerRate)} (target >= ${TARGETS.rate}: ${verdict(met.rate)})`,
      `ratio      worker/raw ${ratio.toFixed(2)} (target >= ${TARGETS.ratio}: ` +
        `${verdict(met.ratio)}); with receipts ${deliveredRatio.toFixed(2)}`,
      describeCeiling(ceiling, machine.cpus, 'worker, MariaDB, simulator', TARGETS.ratio),
      ...r.sweep.map((w) => {
        const raw = rawFor(w.tuning.window)
        const ratioText = raw
          ? ` (${(w.sentRate / raw).toFixed(2)} of raw at window ${w.tuning.window})`
          : ''
        return (
          `sweep      ${describeTuning(w.tuning)}: ${rate(w.sentRate)} sent${ratioText}, ` +
          `${rate(w.deliveredRate)} delivered`
        )
      }),
      ...r.raws
        .filter((x) => !measuredRaw.includes(x))
        .map((x) => `sweep      ${x.label}: ${rate(x.sentRate)}`),
      ...(latency
        ? [
            `latency    ${latency.accepted} emails at ${latency.perSecond}/s over ` +
              `${latency.sessions} SMTP sessions, client's 250 to submit_sm:`,
            `           ${describePercentiles(latency.fromReply)}`,
            `           (from the row's created_at: ${describePercentiles(latency.fromCreatedAt)})`,
            `           p50 <= ${TARGETS.p50Ms} ms: ${verdict(met.p50 === true)}; ` +
              `p99 <= ${TARGETS.p99Ms} ms: ${verdict(met.p99 === true)}`,
          ]
        : ['latency    skipped (--no-latency)']),
      ...(r.backlog ? describeBacklog(r.backlog) : []),
      `once       ${onceLine(r, latency)}`,
      ...problems.map((p) => `PROBLEM    ${p}`),
      `result     ${summary.ok ? 'OK' : 'FAILED'}; written to ${path.relative(process.cwd(), file)}`,
    ]
    console.log(lines.join('\n'))
    if (r.profile) {
      console.log(`\n${formatProfile('worker profile (last round)', r.profile, s.messages)}`)
    }
    return summary.ok ? 0 : 1
  } finally {
    await cleanups.run()
  }
}

/** How many SMS reached the simulator exactly once, of those that should have. */
function onceLine(
  r: { warmups: { worker: WorkerRun }; workers: WorkerRun[]; sweep: WorkerRun[] },
  latency: LatencyRun | null,
): string {
  const drains = [r.warmups.worker, ...r.workers, ...r.sweep]
  const once = drains.reduce((n, w) => n + w.submits.once, 0)
  const expected = drains.reduce((n, w) => n + w.messages, 0)
  const twice = drains.reduce((n, w) => n + w.submits.twice, 0)
  const lost = drains.reduce((n, w) => n + w.submits.missing, 0)
  const fromMail = latency
    ? `; emails ${latency.submits.once}/${latency.accepted} ` +
      `(${latency.submits.twice} twice, ${latency.submits.missing} lost)`
    : ''
  return `queued rows ${once}/${expected} sent exactly once (${twice} twice, ${lost} lost)${fromMail}`
}

runBench(main)
