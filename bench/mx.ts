/**
 * `npm run bench:mx`: accepted messages per second through the whole Mail2SMS MX on MariaDB,
 * against a bare Haraka with the same Haraka settings, measured in the same run.
 */
import { seedSendingAccount } from '../test/support/accounts'
import fs from 'node:fs'
import path from 'node:path'
import { createTestDatabase, type TestDatabase } from '../test/support/databases'
import { SMS_DOMAIN } from '../test/support/mx'
import { ensureSmtpSource, runSmtpSource, smtpSourceArgs, type LoadOptions } from './smtp-source'
import { busyShare, findDatabasePid, machineTimes, processCpuSeconds } from './proc'
import { formatProfile, type ProfileSummary } from './cpu-profile'
import {
  acceptedInLog,
  collectProfile,
  SERVERS,
  startServer,
  takeLog,
  toggleProfilers,
  type Server,
  type ServerName,
} from './mx-servers'
import { compareWithHistory } from './mx-history'
import { parseBenchOptions } from './options'
import { benchCleanups, runBench, type BenchCleanups } from './lifecycle'
import { machineFacts, RESULTS_DIR, RUN_STAMP, writeResults } from './report'

const SENDER = 'bench@bench.example'
const RECIPIENT = `0612345678@${SMS_DOMAIN}`
const TARGET_RATIO = 0.8
// Everything stops by itself: no run, and not the whole bench, can hang past these.
const RUN_TIMEOUT_MS = 60_000
const BENCH_DEADLINE_MS = 8 * 60_000

interface Settings {
  rounds: number
  sessions: number
  warmup: number
  /** Seconds a measured round should last; its message count is derived from the warm-up. */
  roundSeconds: number
  /** Fixed messages per round instead of roundSeconds. */
  messages: number | null
  bodyBytes: number
  /** Also run the two partial pipelines, to split the cost by SMTP phase. */
  stages: boolean
  /** Record a V8 CPU profile of each Haraka during the measured rounds. */
  profile: boolean
  /** Write each Haraka's log to bench/results/, e.g. to see what it logs per message. */
  saveLogs: boolean
  /** Rows of history for the second database of --history (bench/mx-history.ts); null: none. */
  history: number | null
  reuse: boolean
  keep: boolean
}

const USAGE = `usage: npm run bench:mx -- [options]
  --rounds N          measured rounds per server (3)
  --round-seconds N   how long a round should last, sized from the warm-up (15)
  --messages N        messages per round instead of --round-seconds
  --sessions N        parallel SMTP sessions (20)
  --warmup N          messages in the first warm-up (400)
  --body-bytes N      message body size (140: one SMS)
  --stages            also measure our envelope plugins alone, then with data.sms_text
  --profile           CPU-profile each Haraka during the measured rounds
  --save-logs         keep each Haraka's log in bench/results/
  --history N         bare and full on an empty database, then on one with N SMS of history
  --keep              with --history: keep the history database for a later --reuse
  --reuse             with --history: use the kept history database if it holds N SMS; keeps it`

function readSettings(argv: string[]): Settings {
  const s: Settings = {
    rounds: 3,
    sessions: 20,
    warmup: 400,
    roundSeconds: 15,
    messages: null,
    bodyBytes: 140,
    stages: false,
    profile: false,
    saveLogs: false,
    history: null,
    reuse: false,
    keep: false,
  }
  const numbers: Record<string, (v: number) => void> = {
    '--rounds': (v) => (s.rounds = v),
    '--round-seconds': (v) => (s.roundSeconds = v),
    '--messages': (v) => (s.messages = v),
    '--sessions': (v) => (s.sessions = v),
    '--warmup': (v) => (s.warmup = v),
    '--body-bytes': (v) => (s.bodyBytes = v),
    '--history': (v) => (s.history = v),
  }
  const switches: Record<string, () => void> = {
    '--stages': () => (s.stages = true),
    '--profile': () => (s.profile = true),
    '--save-logs': () => (s.saveLogs = true),
    '--reuse': () => (s.reuse = s.keep = true),
    '--keep': () => (s.keep = true),
  }
  parseBenchOptions(argv, USAGE, numbers, switches)
  return s
}

interface Round {
  server: ServerName
  /** 0 for the warm-ups. */
  round: number
  messages: number
  seconds: number
  /** Accepted messages per second. */
  rate: number
  refused: number
  aborted: string | null
  /** What the server's own log says it accepted, to cross-check smtp-source. */
  serverAccepted: number
  rowsInserted?: number
  alreadyQueued?: number
  /** CPU per message, in ms, of the Haraka under test and of MariaDB. */
  harakaCpuMs: number | null
  databaseCpuMs: number | null
  /** Share of all the machine's CPUs busy during the round (smtp-source and others included). */
  machineBusy: number | null
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function medianOf(rounds: Round[], pick: (r: Round) => number | null): number | null {
  const values = rounds.map(pick).filter((v): v is number => v !== null)
  return values.length ? median(values) : null
}

async function seed(t: TestDatabase): Promise<void> {
  await seedSendingAccount(t.db, { ref: 'bench', name: 'Bench', segmentCap: 4 }, [SENDER])
}

/**
 * Rows with an id above `after` (the highest id, when not given). By id rather than a count of
 * the table: on a database with millions of SMS (--history), counting them all between rounds
 * would read the table through the buffer pool and evict what the next round needs.
 */
async function rowsAfter(t: TestDatabase, after: number | null = null): Promise<number> {
  if (after === null) {
    const row = await t.db('outbound_sms').max({ id: 'id' }).first()
    return Number(row?.id ?? 0)
  }
  const row = await t.db('outbound_sms').where('id', '>', after).count({ n: '*' }).first()
  return Number(row?.n ?? 0)
}

function loadFor(port: number, s: Settings, messages: number): LoadOptions {
  return {
    host: '127.0.0.1',
    port,
    messages,
    sessions: s.sessions,
    bodyBytes: s.bodyBytes,
    from: SENDER,
    to: RECIPIENT,
    heloName: 'bench.example',
    timeoutMs: RUN_TIMEOUT_MS,
  }
}

/** CPU seconds of the server and of MariaDB, and the machine's counters, at one moment. */
function cpuSnapshot(server: Server, dbPid: number | null) {
  return {
    haraka: processCpuSeconds(server.pid),
    db: processCpuSeconds(dbPid),
    machine: machineTimes(),
  }
}

async function measure(
  binary: string,
  server: Server,
  t: TestDatabase,
  s: Settings,
  messages: number,
  round: number,
): Promise<Round> {
  const lastId = server.name === 'full' ? await rowsAfter(t) : 0
  const dbPid = findDatabasePid()
  const before = cpuSnapshot(server, dbPid)
  const result = await runSmtpSource(binary, loadFor(server.mx.port, s, messages))
  const after = cpuSnapshot(server, dbPid)
  const perMessage = (a: number | null, b: number | null): number | null =>
    a === null || b === null ? null : ((b - a) * 1000) / messages
  const log = takeLog(server)
  const r: Round = {
    server: server.name,
    round,
    messages,
    seconds: result.seconds,
    rate: (messages - result.refused.length) / result.seconds,
    refused: result.refused.length,
    aborted: result.aborted,
    serverAccepted: acceptedInLog(server, log),
    harakaCpuMs: perMessage(before.haraka, after.haraka),
    databaseCpuMs: perMessage(before.db, after.db),
    machineBusy: busyShare(before.machine, after.machine),
  }
  if (server.name === 'full') {
    r.rowsInserted = await rowsAfter(t, lastId)
    // Each SMS line of a message repeats the message's count: one per trace.
    const perMessage = new Map<string, number>()
    for (const m of log.matchAll(/event=sms\.queued trace=(\S+) .*?duplicates=(\d+)/g))
      perMessage.set(m[1], Number(m[2]))
    r.alreadyQueued = [...perMessage.values()].reduce((n, d) => n + d, 0)
  }
  console.log(describeRound(r))
  for (const refusal of result.refused.slice(0, 3)) {
    console.log(`  refused at ${refusal.step}: ${refusal.code} ${refusal.text}`)
  }
  return r
}

function roundName(r: Round): string {
  return `${r.server} ${r.round === 0 ? 'warm-up' : `round ${r.round}`}`
}

function describeRound(r: Round): string {
  const ms = (v: number | null): string => (v === null ? '?' : v.toFixed(2))
  const rows = r.rowsInserted === undefined ? '' : `, ${r.rowsInserted} rows`
  const busy = r.machineBusy === null ? '' : `, machine ${(r.machineBusy * 100).toFixed(0)}% busy`
  const refused = r.refused ? `, REFUSED ${r.refused}` : ''
  const aborted = r.aborted ? `, ABORTED ${r.aborted}` : ''
  return (
    `${roundName(r)}: ${r.messages} msgs in ${r.seconds.toFixed(2)} s = ` +
    `${r.rate.toFixed(0)} msg/s${rows}; CPU/msg Haraka ${ms(r.harakaCpuMs)} ms, ` +
    `MariaDB ${ms(r.databaseCpuMs)} ms${busy}${refused}${aborted}`
  )
}

/** What went wrong in a round, if anything: refusals, an aborted run, messages unaccounted for. */
function problemsOf(r: Round): string[] {
  const where = roundName(r)
  const out: string[] = []
  if (r.refused > 0) out.push(`${where}: ${r.refused} messages refused`)
  if (r.aborted) out.push(`${where}: smtp-source stopped early (${r.aborted})`)
  const accepted = r.messages - r.refused
  if (!r.aborted && r.serverAccepted !== accepted) {
    out.push(
      `${where}: smtp-source saw ${accepted} accepted, the server logged ${r.serverAccepted}`,
    )
  }
  if (r.rowsInserted !== undefined && r.rowsInserted + (r.alreadyQueued ?? 0) !== accepted) {
    out.push(
      `${where}: ${accepted} accepted but ${r.rowsInserted} rows inserted + ` +
        `${r.alreadyQueued} already queued`,
    )
  }
  return out
}

interface ServerStats {
  label: string
  rates: number[]
  medianRate: number
  /** This server's median rate over the bare Haraka's. */
  ratio: number
  medianHarakaCpuMs: number | null
  medianDatabaseCpuMs: number | null
  medianMachineBusy: number | null
}

function statsOf(name: ServerName, measured: Round[], bareRate: number | null): ServerStats {
  const mine = measured.filter((r) => r.server === name)
  const medianRate = medianOf(mine, (r) => r.rate) ?? 0
  return {
    label: SERVERS[name].label,
    rates: mine.map((r) => Math.round(r.rate)),
    medianRate,
    ratio: bareRate ? medianRate / bareRate : 1,
    medianHarakaCpuMs: medianOf(mine, (r) => r.harakaCpuMs),
    medianDatabaseCpuMs: medianOf(mine, (r) => r.databaseCpuMs),
    medianMachineBusy: medianOf(mine, (r) => r.machineBusy),
  }
}

function formatStats(name: ServerName, st: ServerStats): string[] {
  const ms = (v: number | null): string => (v === null ? '?' : `${v.toFixed(2)} ms`)
  const busy = st.medianMachineBusy === null ? '?' : `${(st.medianMachineBusy * 100).toFixed(0)}%`
  const ratio = name === 'bare' ? '' : ` (${st.ratio.toFixed(2)} of bare)`
  return [
    `${name.padEnd(10)} ${st.label}`,
    `           rounds ${st.rates.join(', ')} msg/s; median ${st.medianRate.toFixed(0)} msg/s${ratio}`,
    `           CPU per message: Haraka ${ms(st.medianHarakaCpuMs)}, ` +
      `MariaDB ${ms(st.medianDatabaseCpuMs)}; machine ${busy} busy`,
  ]
}

/** One comparison of servers on one database: a new one, seeded, unless `database` is given. */
async function run(
  s: Settings,
  binary: string,
  cleanups: BenchCleanups,
  database: TestDatabase | null = null,
) {
  const t = database ?? (await createTestDatabase('mysql'))
  if (!database) {
    cleanups.push(() => t.drop())
    await seed(t)
  }
  const names: ServerName[] = s.stages
    ? ['bare', 'envelope', 'parse', 'unlimited', 'full']
    : s.history
      ? ['bare', 'full']
      : ['bare', 'unlimited', 'full']
  const servers: Server[] = []
  for (const name of names) {
    const dir = s.profile ? path.join(RESULTS_DIR, `mx-${RUN_STAMP}-profile`, name) : null
    const server = await startServer(name, t.config, dir)
    cleanups.push(() => server.mx.stop())
    servers.push(server)
  }
  const args = smtpSourceArgs(loadFor(0, s, 0))
    .slice(0, -1)
    .filter((a, i, all) => a !== '-m' && all[i - 1] !== '-m')
  console.log(`load: smtp-source ${args.join(' ')}`)

  const rounds: Round[] = []
  const perRound = new Map<ServerName, number>()
  for (const server of servers) {
    // The first warm-up runs cold code and undershoots by half or more; the second, sized
    // from it, is closer to the warm rate that sizes the measured rounds.
    const cold = await measure(binary, server, t, s, s.warmup, 0)
    const warm = await measure(binary, server, t, s, Math.round(cold.rate * 4), 0)
    rounds.push(cold, warm)
    perRound.set(server.name, s.messages ?? Math.max(500, Math.round(warm.rate * s.roundSeconds)))
  }
  if (s.profile) toggleProfilers(servers)
  // Alternating servers spreads slow spells of a shared machine over all of them.
  for (let round = 1; round <= s.rounds; round++) {
    for (const server of servers) {
      rounds.push(await measure(binary, server, t, s, perRound.get(server.name) ?? 0, round))
    }
  }
  const profiles: Partial<Record<ServerName, ProfileSummary | null>> = {}
  if (s.profile) {
    toggleProfilers(servers)
    for (const server of servers) profiles[server.name] = await collectProfile(server)
  }
  if (s.saveLogs) {
    fs.mkdirSync(RESULTS_DIR, { recursive: true })
    for (const server of servers) {
      fs.writeFileSync(
        path.join(RESULTS_DIR, `mx-${RUN_STAMP}-${server.name}.log`),
        server.mx.logs(),
      )
    }
  }
  return { t, names, args, rounds, profiles, servers }
}

async function main(): Promise<number> {
  const s = readSettings(process.argv.slice(2))
  const binary = ensureSmtpSource()
  // A history's load: about 5 minutes for 10 million SMS on the test machine.
  const deadline = BENCH_DEADLINE_MS * (s.history ? 2 : 1) + ((s.history ?? 0) / 1e6) * 60_000
  const cleanups = benchCleanups(deadline, 'stopping the servers')

  try {
    if (s.history) {
      return await compareWithHistory(
        s,
        SENDER,
        cleanups,
        (database) => run(s, binary, cleanups, database),
        problemsOf,
        (summary) => path.relative(process.cwd(), writeResults('mx-history', summary)),
      )
    }
    const { t, names, args, rounds, profiles } = await run(s, binary, cleanups)
    const measured = rounds.filter((r) => r.round > 0)
    const bareRate = medianOf(
      measured.filter((r) => r.server === 'bare'),
      (r) => r.rate,
    )
    const stats = Object.fromEntries(names.map((n) => [n, statsOf(n, measured, bareRate)]))
    const ratio = stats.full.ratio
    const fullRounds = rounds.filter((r) => r.server === 'full')
    const totals = {
      fullSent: fullRounds.reduce((n, r) => n + r.messages, 0),
      fullAccepted: fullRounds.reduce((n, r) => n + r.messages - r.refused, 0),
      rowsInserted: fullRounds.reduce((n, r) => n + (r.rowsInserted ?? 0), 0),
      alreadyQueued: fullRounds.reduce((n, r) => n + (r.alreadyQueued ?? 0), 0),
      refused: rounds.reduce((n, r) => n + r.refused, 0),
    }
    const problems = rounds.flatMap(problemsOf)
    const machine = await machineFacts(t.db)
    const summary = {
      date: new Date().toISOString(),
      machine,
      load: { tool: 'smtp-source', args, recipient: RECIPIENT },
      settings: s,
      servers: stats,
      ratio,
      targetRatio: TARGET_RATIO,
      totals,
      rounds,
      problems,
      ok: problems.length === 0,
      profiles,
    }
    const file = writeResults('mx', summary)

    const lines = [
      '',
      '== bench:mx summary ==',
      `machine    ${machine.cpus} CPUs, Node ${machine.node}, ${machine.database}`,
      `load       smtp-source ${args.join(' ')}`,
      ...names.flatMap((n) => formatStats(n, stats[n])),
      `ratio      full/bare ${ratio.toFixed(2)} ` +
        `(target >= ${TARGET_RATIO}: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`,
      `limits     full with limits / without: ${(stats.full.medianRate / stats.unlimited.medianRate).toFixed(2)} ` +
        `(${stats.full.medianRate.toFixed(0)} vs ${stats.unlimited.medianRate.toFixed(0)} msg/s)`,
      `rows       ${totals.rowsInserted} inserted + ${totals.alreadyQueued} already queued ` +
        `for ${totals.fullAccepted} accepted of ${totals.fullSent} sent to the full MX`,
      `refused    ${totals.refused} (replies other than 2xx, all servers, warm-ups included)`,
      ...problems.map((p) => `PROBLEM    ${p}`),
      `result     ${summary.ok ? 'OK' : 'FAILED'}; written to ${path.relative(process.cwd(), file)}`,
    ]
    console.log(lines.join('\n'))
    for (const name of [...names].reverse()) {
      const profile = profiles[name]
      const messages = measured.filter((r) => r.server === name).reduce((n, r) => n + r.messages, 0)
      if (profile) console.log(`\n${formatProfile(`${name} Haraka profile`, profile, messages)}`)
      else if (s.profile) console.log(`\n${name} Haraka profile: none was written`)
    }
    return summary.ok ? 0 : 1
  } finally {
    await cleanups.run()
  }
}

runBench(main)
