/**
 * `npm run bench:mx-memory`: how much memory the full Mail2SMS MX holds per SMTP connection,
 * idle after EHLO and mid-DATA, and whether all of it is given back when they close.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fork, type ChildProcess } from 'node:child_process'
import type { Db } from '../lib/db/connection'
import { seedSendingAccount } from '../test/support/accounts'
import { createTestDatabase } from '../test/support/databases'
import { freePort, startMx, SMS_DOMAIN, type RunningMx } from '../test/support/mx'
import { startDnsServer, type DnsZone } from '../test/support/dns-server'
import { findHarakaPid } from './proc'
import { parseBenchOptions } from './options'
import { benchCleanups, runBench, type BenchCleanups } from './lifecycle'
import { machineFacts, RESULTS_DIR, RUN_STAMP, writeResults } from './report'
import { diffHeapSnapshots, formatHeapDiff } from './heap-snapshot'
import type { ClientReply, ClientRequest, HoldMode } from './mx-memory-client'

const ROOT = path.resolve(__dirname, '..')
const SENDER = 'bench@bench.example'
const RECIPIENT = `0612345678@${SMS_DOMAIN}`
const TARGET_IDLE_KIB = 50
// An hour: no connection may time out while the bench holds it (shipped: 300 s).
const INACTIVITY_TIMEOUT_S = 3600
// What "back near the baseline" allows after close: V8 keeps some heap for its own (compiled
// code, inline caches, Haraka's and our caches grown by the load), a leak grows with the
// connections: 1 MiB, plus 100 KiB (10 bytes a connection) per thousand connections opened.
const HEAP_SLACK_KIB = 1024
const HEAP_SLACK_KIB_PER_1000 = 100
const BENCH_DEADLINE_MS = 10 * 60_000
const REPORT_TIMEOUT_MS = 120_000
const DRAIN_TIMEOUT_MS = 60_000
// After the last socket closed: longer than what a closed connection may still hold on to
// (disconnect.sms_hangup's one-second linger timer), so that it is measured gone.
const SETTLE_MS = 3000

interface Settings {
  idle: number
  data: number
  cycles: number
  concurrency: number
  /** Connections open while the second heap snapshot is taken; 0: no snapshots. */
  snapshot: number
}

const USAGE = `usage: npm run bench:mx-memory -- [options]
  --idle N            idle connections (banner, EHLO) held open per cycle (10000)
  --data N            connections held in DATA per cycle, on top of the idle ones (1000)
  --cycles N          open/measure/close cycles (3)
  --concurrency N     connections being set up at a time (50)
  --heap-snapshot N   after the cycles, heap snapshots with no connection, N idle, then N
                      more in DATA: what one connection holds, by kind of object (try 1000)`

function readSettings(argv: string[]): Settings {
  const s: Settings = { idle: 10_000, data: 1000, cycles: 3, concurrency: 50, snapshot: 0 }
  parseBenchOptions(
    argv,
    USAGE,
    {
      '--idle': (v) => (s.idle = v),
      '--data': (v) => (s.data = v),
      '--cycles': (v) => (s.cycles = v),
      '--concurrency': (v) => (s.concurrency = v),
      '--heap-snapshot': (v) => (s.snapshot = v),
    },
    {},
  )
  return s
}

/** A fresh database (a random name, dropped at the end), migrated and seeded as bench/mx.ts's. */
async function createBenchDatabase(): Promise<{ url: string; db: Db; drop(): Promise<void> }> {
  const t = await createTestDatabase('mysql')
  // As bench/mx.ts seeds it: the sender accepted, 127.0.0.1 on the account's IP list.
  await seedSendingAccount(t.db, { ref: 'bench', name: 'Bench', segmentCap: 4 }, [SENDER])
  return { url: t.config.url as string, db: t.db, drop: () => t.drop() }
}

interface Memory {
  gc: boolean
  vmRssKiB: number
  heapUsed: number
  heapTotal: number
  external: number
  arrayBuffers: number
  mallocedMemory: number
  handles: number
  /** Descriptors the Haraka process holds: its sockets, so the count of open connections. */
  fds: number
}

interface Haraka {
  mx: RunningMx
  pid: number
  memoryDir: string
  measure(snapshot?: string): Promise<Memory>
}

function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length
}

/** Names for the client addresses, so that Haraka's lookup before the banner finds one. */
function clientNames(): DnsZone {
  const zone: DnsZone = {}
  for (let i = 1; i < 255; i++)
    zone[`${i}.0.0.127.in-addr.arpa`] = { PTR: [`client-${i}.bench.example`] }
  return zone
}

async function startHaraka(url: string, cleanups: BenchCleanups): Promise<Haraka> {
  const dns = await startDnsServer(clientNames())
  cleanups.push(() => dns.close())
  const port = await freePort()
  const memoryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memory-bench-'))
  cleanups.push(async () => fs.rmSync(memoryDir, { recursive: true, force: true }))
  const smtpIni = fs
    .readFileSync(path.join(ROOT, 'config', 'smtp.ini'), 'utf8')
    .replace(/^listen=.*$/m, `listen=127.0.0.1:${port}`)
    .replace(/^nodes=.*$/m, 'nodes=0')
    .replace(/^inactivity_timeout=.*$/m, `inactivity_timeout=${INACTIVITY_TIMEOUT_S}`)
  if (!smtpIni.includes(`inactivity_timeout=${INACTIVITY_TIMEOUT_S}`)) {
    throw new Error('config/smtp.ini has no inactivity_timeout line to lengthen')
  }
  const mx = await startMx({
    port,
    database: { url, sqliteFile: '', poolMax: 10 },
    // The production default: the directory is checked once a second.
    cacheRefreshMs: 1000,
    dnsServer: dns.server,
    // Every connection comes from loopback: the per-IP limit would refuse all but a few.
    mxSettings: { max_connections_per_ip: 0 },
    extraConfigFiles: { 'smtp.ini': smtpIni },
    env: {
      NODE_PATH: path.join(ROOT, 'node_modules'),
      NODE_OPTIONS: `--expose-gc --require ${path.join(__dirname, 'memory-preload.js')}`,
      MAIL2SMS_BENCH_MEMORY_DIR: memoryDir,
      MAIL2SMS_BENCH_DNS_SERVER: dns.server,
    },
  })
  cleanups.push(() => mx.stop())
  const pid = findHarakaPid(mx.dir)
  if (pid === null) throw new Error('cannot find the Haraka process in /proc')
  let requests = 0
  const measure = async (snapshot?: string): Promise<Memory> => {
    const id = ++requests
    fs.writeFileSync(path.join(memoryDir, 'request.json'), JSON.stringify({ id, snapshot }))
    process.kill(pid, 'SIGUSR2')
    const file = path.join(memoryDir, `report-${id}.json`)
    const until = Date.now() + REPORT_TIMEOUT_MS
    while (!fs.existsSync(file)) {
      if (Date.now() > until)
        throw new Error(`Haraka wrote no memory report:\n${mx.logs().slice(-2000)}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const report = JSON.parse(fs.readFileSync(file, 'utf8')) as Omit<Memory, 'fds'>
    return { ...report, fds: openFds(pid) }
  }
  return { mx, pid, memoryDir, measure }
}

interface Clients {
  request(req: ClientRequest): Promise<ClientReply>
}

function startClients(cleanups: BenchCleanups): Clients {
  const child: ChildProcess = fork(
    path.join(ROOT, 'bin', 'run-ts.js'),
    [path.join(__dirname, 'mx-memory-client.ts')],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  )
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  // One request at a time: replies come back in order.
  return {
    request: (req) =>
      new Promise((resolve, reject) => {
        const onExit = (code: number | null): void =>
          reject(new Error(`the client process ended (${code})`))
        child.once('exit', onExit)
        child.once('message', (reply: ClientReply) => {
          child.off('exit', onExit)
          resolve(reply)
        })
        child.send(req)
      }),
  }
}

/** Waits until Haraka has closed its side of every connection: its descriptors are back. */
async function waitForDrain(h: Haraka, fds: number): Promise<void> {
  const until = Date.now() + DRAIN_TIMEOUT_MS
  while (openFds(h.pid) > fds) {
    if (Date.now() > until) {
      throw new Error(`Haraka still holds ${openFds(h.pid) - fds} more descriptors than before`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

const kib = (bytes: number): number => bytes / 1024
const heapOf = (m: Memory): number => m.heapUsed + m.external
const f1 = (n: number): string => n.toFixed(1)
const mib = (k: number): string => `${(k / 1024).toFixed(1)} MiB`
const signedMib = (k: number): string => `${k >= 0 ? '+' : ''}${mib(k)}`

/** Memory per connection between two readings, in KiB: resident, and V8 heap plus external. */
function perConnection(before: Memory, after: Memory, count: number) {
  return {
    rssKiB: (after.vmRssKiB - before.vmRssKiB) / count,
    heapKiB: kib(heapOf(after) - heapOf(before)) / count,
  }
}

interface Cycle {
  cycle: number
  idle: Memory
  data: Memory
  closed: Memory
  perIdle: { rssKiB: number; heapKiB: number }
  perData: { rssKiB: number; heapKiB: number }
  openIdleMs: number
  openDataMs: number
}

async function open(
  clients: Clients,
  h: Haraka,
  s: Settings,
  mode: HoldMode,
  count: number,
  localAddress: string,
): Promise<number> {
  const reply = await clients.request({
    type: 'open',
    port: h.mx.port,
    count,
    mode,
    localAddress,
    sender: SENDER,
    recipient: RECIPIENT,
    concurrency: s.concurrency,
  })
  if (reply.type !== 'opened') throw new Error(`client: unexpected ${reply.type}`)
  if (reply.failed > 0) {
    throw new Error(`${reply.failed} of ${count} ${mode} connections failed: ${reply.firstError}`)
  }
  return reply.ms
}

async function closeAll(clients: Clients, h: Haraka, fds: number): Promise<void> {
  const reply = await clients.request({ type: 'close' })
  if (reply.type !== 'closed') throw new Error(`client: unexpected ${reply.type}`)
  await waitForDrain(h, fds)
  await new Promise((r) => setTimeout(r, SETTLE_MS))
}

async function runCycle(
  n: number,
  clients: Clients,
  h: Haraka,
  s: Settings,
  base: Memory,
): Promise<Cycle> {
  // A source address per cycle: the client's side of the previous cycle's connections is in
  // TIME_WAIT, and 127.0.0.1 stays free for the DATA connections (on the account's IP list).
  const openIdleMs = await open(clients, h, s, 'idle', s.idle, `127.0.0.${n + 1}`)
  const idle = await h.measure()
  const openDataMs = await open(clients, h, s, 'data', s.data, '127.0.0.1')
  const data = await h.measure()
  await closeAll(clients, h, base.fds)
  const closed = await h.measure()
  const cycle: Cycle = {
    cycle: n,
    idle,
    data,
    closed,
    perIdle: perConnection(base, idle, s.idle),
    perData: perConnection(idle, data, s.data),
    openIdleMs,
    openDataMs,
  }
  console.log(
    `cycle ${n}: ${s.idle} idle open (${f1(openIdleMs / 1000)} s, ${idle.fds - base.fds} more fds): ` +
      `RSS ${mib(idle.vmRssKiB)}, ${f1(cycle.perIdle.rssKiB)} KiB/conn (heap ${f1(cycle.perIdle.heapKiB)}); ` +
      `+${s.data} in DATA: ${f1(cycle.perData.rssKiB)} KiB/conn (heap ${f1(cycle.perData.heapKiB)}); ` +
      `closed: RSS ${mib(closed.vmRssKiB)}, heap ${mib(kib(heapOf(closed)))}`,
  )
  return cycle
}

/**
 * Heap snapshots without connections, with N idle ones, then with N more in DATA: what one
 * connection of each kind is made of.
 */
async function snapshotDiffs(clients: Clients, h: Haraka, s: Settings, base: Memory) {
  const dir = path.join(RESULTS_DIR, `mx-memory-${RUN_STAMP}-snapshots`)
  fs.mkdirSync(dir, { recursive: true })
  const none = path.join(dir, 'none.heapsnapshot')
  const idle = path.join(dir, `idle-${s.snapshot}.heapsnapshot`)
  const data = path.join(dir, `idle-${s.snapshot}-data-${s.snapshot}.heapsnapshot`)
  await h.measure(none)
  await open(clients, h, s, 'idle', s.snapshot, `127.0.0.${s.cycles + 2}`)
  await h.measure(idle)
  await open(clients, h, s, 'data', s.snapshot, '127.0.0.1')
  await h.measure(data)
  await closeAll(clients, h, base.fds)
  return {
    dir,
    idle: diffHeapSnapshots(none, idle, s.snapshot),
    data: diffHeapSnapshots(idle, data, s.snapshot),
  }
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b)
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

async function main(): Promise<number> {
  const s = readSettings(process.argv.slice(2))
  const cleanups = benchCleanups(BENCH_DEADLINE_MS, 'stopping Haraka, dropping the database')
  try {
    const database = await createBenchDatabase()
    cleanups.push(() => database.drop())
    const machine = await machineFacts(database.db)
    const h = await startHaraka(database.url, cleanups)
    const clients = startClients(cleanups)

    // Warm-up: the first connections load the directory, compile the hooks and grow Haraka's
    // caches; none of that is memory per connection.
    const cold = await h.measure()
    await open(clients, h, s, 'idle', Math.min(500, s.idle), '127.0.0.1')
    await open(clients, h, s, 'data', Math.min(100, s.data), '127.0.0.1')
    await closeAll(clients, h, cold.fds)
    const base = await h.measure()
    if (!base.gc) console.log('warning: no gc() in Haraka: figures include uncollected garbage')
    console.log(
      `baseline (after a warm-up of ${Math.min(500, s.idle)} idle and ${Math.min(100, s.data)} DATA connections): ` +
        `RSS ${mib(base.vmRssKiB)}, heap ${mib(kib(heapOf(base)))} (cold start: RSS ${mib(cold.vmRssKiB)})`,
    )

    const cycles: Cycle[] = []
    for (let n = 1; n <= s.cycles; n++) cycles.push(await runCycle(n, clients, h, s, base))
    const snapshot = s.snapshot ? await snapshotDiffs(clients, h, s, base) : null

    const idleKiB = median(cycles.map((c) => c.perIdle.rssKiB))
    const dataKiB = median(cycles.map((c) => c.perData.rssKiB))
    const last = cycles[cycles.length - 1].closed
    const first = cycles[0].closed
    const heapAfterKiB = kib(heapOf(last) - heapOf(base))
    const heapSlackKiB = HEAP_SLACK_KIB + (HEAP_SLACK_KIB_PER_1000 * (s.idle + s.data)) / 1000
    const heapClimbKiB = kib(heapOf(last) - heapOf(first))
    const rssClimbKiB = last.vmRssKiB - first.vmRssKiB
    const problems: string[] = []
    if (heapAfterKiB > heapSlackKiB) {
      problems.push(`heap after close is ${mib(heapAfterKiB)} above the baseline`)
    }
    if (s.cycles > 1 && heapClimbKiB > heapSlackKiB / 2) {
      problems.push(`heap after close climbed ${mib(heapClimbKiB)} from cycle 1 to ${s.cycles}`)
    }
    const rssPerCycle = s.cycles > 1 ? rssClimbKiB / (s.cycles - 1) : 0
    // Resident memory that the allocator keeps after a peak is not a leak, but it must not
    // grow cycle after cycle by more than a small share of one cycle's peak.
    const peakKiB = median(cycles.map((c) => c.data.vmRssKiB)) - base.vmRssKiB
    if (s.cycles > 1 && rssPerCycle > peakKiB * 0.1) {
      problems.push(`RSS after close climbs ${mib(rssPerCycle)} per cycle`)
    }
    const idleMet = idleKiB <= TARGET_IDLE_KIB

    const summary = {
      date: new Date().toISOString(),
      machine,
      settings: { ...s, inactivityTimeoutS: INACTIVITY_TIMEOUT_S },
      cold,
      base,
      cycles,
      perIdleRssKiB: idleKiB,
      perDataRssKiB: dataKiB,
      targetIdleKiB: TARGET_IDLE_KIB,
      heapAfterCloseKiB: heapAfterKiB,
      snapshot: snapshot ? { idle: snapshot.idle, data: snapshot.data } : null,
      problems,
      ok: problems.length === 0,
    }
    const file = writeResults('mx-memory', summary)
    const afterClose = cycles
      .map(
        (c) =>
          `${signedMib(c.closed.vmRssKiB - base.vmRssKiB)} RSS / ${signedMib(kib(heapOf(c.closed) - heapOf(base)))} heap`,
      )
      .join(', ')
    console.log(
      [
        '',
        '== bench:mx-memory summary ==',
        `machine    ${machine.cpus} CPUs, Node ${machine.node}, ${machine.database}`,
        `server     full Mail2SMS MX (config/plugins), nodes=0, inactivity_timeout=${INACTIVITY_TIMEOUT_S}, max_connections_per_ip=0`,
        `baseline   RSS ${mib(base.vmRssKiB)}, heap+external ${mib(kib(heapOf(base)))}, ${base.fds} fds`,
        `idle       ${s.idle} connections after EHLO: ${f1(idleKiB)} KiB RSS per connection ` +
          `(cycles ${cycles.map((c) => f1(c.perIdle.rssKiB)).join(', ')}; heap ${cycles.map((c) => f1(c.perIdle.heapKiB)).join(', ')}) ` +
          `(target <= ${TARGET_IDLE_KIB}: ${idleMet ? 'met' : 'NOT met'})`,
        `in DATA    ${s.data} connections mid-message: ${f1(dataKiB)} KiB RSS per connection ` +
          `(cycles ${cycles.map((c) => f1(c.perData.rssKiB)).join(', ')}; heap ${cycles.map((c) => f1(c.perData.heapKiB)).join(', ')})`,
        `closed     vs baseline, per cycle: ${afterClose}`,
        `growth     heap after close ${signedMib(heapAfterKiB)} (allowed ${mib(heapSlackKiB)}); ` +
          `cycle 1 to ${s.cycles}: heap ${signedMib(heapClimbKiB)}, RSS ${signedMib(rssClimbKiB)}: ` +
          `${problems.length ? 'GROWS' : 'no growth'}`,
        ...problems.map((p) => `PROBLEM    ${p}`),
        `result     ${problems.length ? 'FAILED' : 'OK'}; written to ${path.relative(process.cwd(), file)}`,
      ].join('\n'),
    )
    if (snapshot) {
      console.log(
        `\n${formatHeapDiff('idle', snapshot.idle)}\n\n${formatHeapDiff('DATA', snapshot.data)}\n(snapshots in ${path.relative(process.cwd(), snapshot.dir)})`,
      )
    }
    return problems.length ? 1 : 0
  } finally {
    await cleanups.run()
  }
}

runBench(main)
