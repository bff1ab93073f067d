import path from 'node:path'
import crypto from 'node:crypto'
import type { AddressInfo } from 'node:net'
import autocannon from 'autocannon'
import knex, { type Knex } from 'knex'
import { Hono } from 'hono'
import { serve, type ServerType } from '@hono/node-server'
import { createApp } from '../admin/app'
import type { AdminDeps } from '../admin/env'
import { PAGE_SIZE } from '../admin/routes/messages'
import { hashPassword } from '../lib/auth/password'
import type { AdminConfig } from '../lib/config'
import { createAccount, findAccountByRef } from '../lib/db/accounts'
import { createAdmin, findAdminByEmail, grantAccount } from '../lib/db/admins'
import { openDb, type Db } from '../lib/db/connection'
import { migrateLatest } from '../lib/db/migrate'
import { addSender } from '../lib/db/senders'
import { dailyCounts, foldDailyDeltas } from '../lib/db/outbound'
import type { Mailer } from '../lib/mail/mailer'
import { DEFAULT_ALLOWLIST_LIMITS } from '../lib/net/allowlist-coverage'
import { MYSQL_SERVER_URL } from '../test/support/databases'
import { BENCH_SENDERS, benchNumbers, loadInboundLog, loadMessageLog } from './admin-data'
import { parseBenchOptions } from './options'
import { benchCleanups, runBench, type BenchCleanups } from './lifecycle'
import { machineFacts, writeResults } from './report'
import { busyShare, findDatabasePid, machineTimes, processCpuSeconds } from './proc'

// Another name lets two people bench the same server without dropping each other's database.
const DATABASE = process.env.MAIL2SMS_BENCH_DATABASE || 'mail2sms_bench_admin'
const ADMIN_EMAIL = 'bench-admin@bench.example'
// A loopback-only bench database: the password only has to be the same from run to run.
const ADMIN_PASSWORD = 'bench admin password'
const TARGET = { p99Ms: 50, rate: 200, exportSeconds: 10 }
/** One received SMS for this many sent: replies, confirmations, STOPs. */
const INBOUND_SHARE = 10
/** The CSV export measured: at least this many SMS (and a tenth of it, to compare memory). */
const EXPORT_ROWS = 1_000_000
const BENCH_DEADLINE_MS = 20 * 60_000

interface Settings {
  rows: number
  otherRows: number | null
  days: number
  rate: number
  connections: number
  duration: number
  warmup: number
  reuse: boolean
  keep: boolean
}

const USAGE = `usage: npm run bench:admin -- [options]
  --rows N          SMS of the measured account (1000000)
  --other-rows N    SMS of a second account, in between (rows / 20)
  --days N          days the SMS are spread over (90)
  --rate N          requests per second, all connections together (200)
  --connections N   connections of the load generator (10)
  --duration N      seconds measured per page (20)
  --warmup N        seconds of warm-up per page, not counted (5)
  --reuse           use the database a --keep run left, if it holds the same rows; keeps it
  --keep            do not drop the database at the end (for a later --reuse)
The database is mail2sms_bench_admin, or MAIL2SMS_BENCH_DATABASE.`

function readSettings(argv: string[]): Settings {
  const s: Settings = {
    rows: 1_000_000,
    otherRows: null,
    days: 90,
    rate: TARGET.rate,
    connections: 10,
    duration: 20,
    warmup: 5,
    reuse: false,
    keep: false,
  }
  parseBenchOptions(
    argv,
    USAGE,
    {
      '--rows': (v) => (s.rows = v),
      '--other-rows': (v) => (s.otherRows = v),
      '--days': (v) => (s.days = v),
      '--rate': (v) => (s.rate = v),
      '--connections': (v) => (s.connections = v),
      '--duration': (v) => (s.duration = v),
      '--warmup': (v) => (s.warmup = v),
    },
    {
      '--reuse': () => (s.reuse = s.keep = true),
      '--keep': () => (s.keep = true),
    },
  )
  return s
}

interface Seeded {
  accountId: number
  otherAccountId: number
  rows: number
  otherRows: number
  /** SMS the measured account received (the inbox page's rows). */
  inboundRows: number
  /** Seconds the load took; null when an earlier run's rows were reused. */
  loadSeconds: number | null
}

function serverDb(): Knex {
  return knex({
    client: 'mysql2',
    connection: { uri: MYSQL_SERVER_URL } as Knex.MySql2ConnectionConfig,
    pool: { min: 0, max: 1 },
  })
}

async function databaseExists(): Promise<boolean> {
  const server = serverDb()
  try {
    const [rows] = (await server.raw('SHOW DATABASES LIKE ?', [DATABASE])) as [unknown[]]
    return rows.length > 0
  } finally {
    await server.destroy()
  }
}

async function recreateDatabase(): Promise<void> {
  const server = serverDb()
  try {
    await server.raw(`DROP DATABASE IF EXISTS \`${DATABASE}\``)
    await server.raw(
      `CREATE DATABASE \`${DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    )
  } finally {
    await server.destroy()
  }
}

async function dropDatabase(): Promise<void> {
  const server = serverDb()
  try {
    await server.raw(`DROP DATABASE IF EXISTS \`${DATABASE}\``)
  } finally {
    await server.destroy()
  }
}

const countRows = async (db: Db, accountId: number): Promise<number> =>
  Number((await db('outbound_sms').where('account_id', accountId).count({ n: '*' }))[0].n)

/** An earlier run's database, if it holds what this run asks for. */
async function reusable(db: Db, s: Settings, otherRows: number): Promise<Seeded | null> {
  const account = await findAccountByRef(db, 'bench')
  const other = await findAccountByRef(db, 'bench-other')
  if (!account || !other || !(await findAdminByEmail(db, ADMIN_EMAIL))) return null
  const rows = await countRows(db, account.id)
  const theirs = await countRows(db, other.id)
  const [inbound] = await db('inbound_sms').where('account_id', account.id).count({ n: '*' })
  const inboundRows = Number(inbound.n)
  if (rows !== s.rows || theirs !== otherRows) return null
  if (inboundRows !== Math.round(s.rows / INBOUND_SHARE)) return null
  return {
    accountId: account.id,
    otherAccountId: other.id,
    rows,
    otherRows,
    inboundRows,
    loadSeconds: null,
  }
}

async function seed(db: Db, s: Settings, otherRows: number): Promise<Seeded> {
  await migrateLatest(db)
  const account = await createAccount(db, { ref: 'bench', name: 'Bench', defaultCountry: 'FR' })
  const other = await createAccount(db, { ref: 'bench-other', name: 'Other' })
  const senderIds = new Map<string, number>()
  for (const email of BENCH_SENDERS) {
    senderIds.set(email, (await addSender(db, account.id, email, { status: 'accepted' })).id)
  }
  const admin = await createAdmin(db, {
    email: ADMIN_EMAIL,
    name: 'Bench',
    passwordHash: await hashPassword(ADMIN_PASSWORD),
  })
  await grantAccount(db, admin.id, account.id)
  let shown = 0
  const load = await loadMessageLog(
    db,
    {
      accountId: account.id,
      senderIds,
      rows: s.rows,
      otherAccountId: other.id,
      otherRows,
      days: s.days,
      now: Date.now(),
    },
    (done, total) => {
      if (done - shown >= total / 10 || done === total) {
        shown = done
        process.stdout.write(`  ${done} / ${total} rows\n`)
      }
    },
  )
  // The triggers counted every row as it went in (one delta each): fold them as the workers
  // would have, day after day, so that the chart reads a rollup, not a million deltas.
  const foldStarted = process.hrtime.bigint()
  let folded = 0
  for (let n; (n = await foldDailyDeltas(db, 20_000)) > 0;) folded += n
  const foldSeconds = Number(process.hrtime.bigint() - foldStarted) / 1e9
  process.stdout.write(
    `  ${folded} deltas folded into the daily counts in ${foldSeconds.toFixed(1)} s\n`,
  )
  const inbound = await loadInboundLog(db, {
    accountId: account.id,
    rows: Math.round(s.rows / INBOUND_SHARE),
    days: s.days,
    now: Date.now(),
  })
  process.stdout.write(`  ${inbound.rows} received SMS in ${inbound.seconds.toFixed(1)} s\n`)
  // Fresh statistics, as a database that grew over months would have.
  await db.raw('ANALYZE TABLE outbound_sms, inbound_sms, sms_daily_rollup')
  return {
    accountId: account.id,
    otherAccountId: other.id,
    rows: load.rows,
    otherRows: load.otherRows,
    inboundRows: inbound.rows,
    loadSeconds: load.seconds + inbound.seconds,
  }
}

/** Invitations are never sent during the bench: a mailer that refuses to. */
const noMailer: Mailer = {
  send: async () => {
    throw new Error('bench:admin sends no mail')
  },
  close: async () => undefined,
}

interface RunningServer {
  url: string
  server: ServerType
  /** Requests the admin is still answering: the load generator stops without waiting for them. */
  inFlight(): number
}

/**
 * The admin as in production (createApp on @hono/node-server), behind a small parent app that
 * answers /bench/ping itself: the trivial route runs in the same process, on the same server,
 * through the same Hono and node-server layers as the admin's pages.
 */
async function startServer(db: Db): Promise<RunningServer> {
  let admin: Hono | null = null
  let inFlight = 0
  const parent = new Hono()
  parent.get('/bench/ping', (c) => c.text('pong'))
  parent.all('*', async (c) => {
    inFlight++
    try {
      return await (admin as Hono).fetch(c.req.raw, c.env)
    } finally {
      inFlight--
    }
  })
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: parent.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s))
  })
  const { port } = server.address() as AddressInfo
  const url = `http://127.0.0.1:${port}`
  const config: AdminConfig = {
    host: '127.0.0.1',
    port,
    baseUrl: url,
    sessionSecret: crypto.randomBytes(32).toString('hex'),
    sessionTtlHours: 12,
    invitationTtlHours: 72,
    loginMaxFailures: 5,
    loginLockoutMinutes: 15,
    lockedLoginDelayMs: 3000,
    invitationMailsPerAddress: 3,
    invitationMailsPerAccount: 50,
    invitationMailWindowMinutes: 60,
  }
  const deps: AdminDeps = {
    db,
    mailer: noMailer,
    clock: Date.now,
    config,
    smsDomains: ['sms.bench.example'],
    allowlist: DEFAULT_ALLOWLIST_LIMITS,
    log: (line) => console.error(line),
  }
  admin = createApp(deps) as unknown as Hono
  return { url, server, inFlight: () => inFlight }
}

async function logIn(url: string): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: url },
    body: new URLSearchParams({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }).toString(),
  })
  if (res.status !== 303) throw new Error(`login answered ${res.status}, not 303`)
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
}

interface Page {
  name: string
  path: string
  /** What it shows, checked before the measure. */
  check: string
}

interface Measure {
  name: string
  path: string
  requests: number
  non2xx: number
  errors: number
  timeouts: number
  rps: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
  /** This process's CPU (the server; the load generator runs in its own thread), ms/request. */
  serverCpuMs: number
  databaseCpuMs: number | null
  machineBusy: number | null
  ratioToPing: number | null
}

async function pages(db: Db, seeded: Seeded): Promise<Page[]> {
  const base = `/a/${seeded.accountId}/messages`
  // A number with a typical history: neither the busiest nor a one-off.
  const numbers = benchNumbers(20_000)
  let number = numbers[0]
  let numberRows = 0
  for (const candidate of numbers.slice(200, 260)) {
    const n = Number(
      (
        await db('outbound_sms')
          .where({ account_id: seeded.accountId, recipient: candidate })
          .count({ n: '*' })
      )[0].n,
    )
    if (n > numberRows) [number, numberRows] = [candidate, n]
  }
  const [bounds] = await db('outbound_sms')
    .where('account_id', seeded.accountId)
    .min({ low: 'id' })
    .max({ high: 'id' })
  const middle = Math.round((Number(bounds.low) + Number(bounds.high)) / 2)
  // The day of the SMS in the middle of the log (a UTC day: the bench account's zone).
  const [midRow] = await db('outbound_sms')
    .where('account_id', seeded.accountId)
    .where('id', '>=', middle)
    .orderBy('id')
    .limit(1)
    .select('created_at')
  const day = new Date(Number(midRow.created_at)).toISOString().slice(0, 10)
  return [
    { name: 'ping', path: '/bench/ping', check: 'pong' },
    { name: 'first page', path: base, check: `${PAGE_SIZE} rows` },
    {
      name: `number (${numberRows} SMS)`,
      path: `${base}?number=${encodeURIComponent(number)}`,
      check: `${Math.min(PAGE_SIZE, numberRows)} rows`,
    },
    { name: 'deep page', path: `${base}?before=${middle}`, check: `${PAGE_SIZE} rows` },
    { name: 'status failed', path: `${base}?status=failed`, check: `${PAGE_SIZE} rows` },
    {
      name: 'one day',
      path: `${base}?from=${day}&to=${day}`,
      check: `${PAGE_SIZE} rows`,
    },
    // Part of an address: agent1, agent10…agent19; no index reads "contains".
    { name: 'part of an address', path: `${base}?sender=agent1`, check: `${PAGE_SIZE} rows` },
    // Usage: twelve months from the daily totals, the month per day and per user.
    { name: 'usage', path: `/a/${seeded.accountId}/usage`, check: 'a usage page' },
    {
      name: 'usage, a past month',
      path: `/a/${seeded.accountId}/usage?month=${day.slice(0, 7)}`,
      check: 'a usage page',
    },
    { name: 'inbox', path: `/a/${seeded.accountId}/inbox`, check: 'an inbox page' },
    {
      name: 'inbox, failed',
      path: `/a/${seeded.accountId}/inbox?outcome=failed`,
      check: 'an inbox page',
    },
    {
      name: 'inbox, one number',
      path: `/a/${seeded.accountId}/inbox?number=${encodeURIComponent(number)}`,
      check: 'an inbox page',
    },
    // Four digits found anywhere in a number: few SMS, read 10,000 at most per page.
    {
      name: 'digits of a number',
      path: `${base}?number=${number.slice(-4)}`,
      check: 'a page',
    },
  ]
}

interface ExportMeasure {
  name: string
  rows: number
  megabytes: number
  seconds: number
  rowsPerSecond: number
  /** This process (server and client), before and at its highest during the download. */
  rssBeforeMb: number
  rssPeakMb: number
  heapPeakMb: number
}

/**
 * The day from which the measured account has at least `rows` SMS (UTC, the bench account's
 * zone): an export from that day on is a download of that size.
 */
async function dayWithRowsAfter(db: Db, accountId: number, rows: number): Promise<string> {
  const [row] = await db('outbound_sms')
    .where('account_id', accountId)
    .orderBy('created_at', 'desc')
    .offset(rows - 1)
    .limit(1)
    .select('created_at')
  const at = row ? Number(row.created_at) : 0
  return new Date(at).toISOString().slice(0, 10)
}

/**
 * Downloads a CSV export to the end, counting its lines as they come and sampling this
 * process's memory: the export must stream, so its peak must not grow with its size.
 */
async function measureExport(
  url: string,
  cookie: string,
  name: string,
  path: string,
): Promise<ExportMeasure> {
  global.gc?.()
  const mb = (bytes: number) => bytes / 1024 / 1024
  const rssBefore = process.memoryUsage().rss
  let rssPeak = rssBefore
  let heapPeak = process.memoryUsage().heapUsed
  const sampler = setInterval(() => {
    const m = process.memoryUsage()
    rssPeak = Math.max(rssPeak, m.rss)
    heapPeak = Math.max(heapPeak, m.heapUsed)
  }, 50)
  const started = process.hrtime.bigint()
  let lines = 0
  let bytes = 0
  try {
    const res = await fetch(`${url}${path}`, { headers: { cookie } })
    if (res.status !== 200 || !res.body) throw new Error(`${path} answered ${res.status}`)
    const reader = res.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      bytes += value.length
      for (let i = 0; i < value.length; i++) if (value[i] === 10) lines++
    }
  } finally {
    clearInterval(sampler)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  // The bench's texts have no line breaks: one line per SMS after the header.
  const rows = lines - 1
  return {
    name,
    rows,
    megabytes: mb(bytes),
    seconds,
    rowsPerSecond: rows / seconds,
    rssBeforeMb: mb(rssBefore),
    rssPeakMb: mb(rssPeak),
    heapPeakMb: mb(heapPeak),
  }
}

/** Fetches a page once and checks it shows what it should: a bench of error pages proves nothing. */
async function checkPage(url: string, cookie: string, page: Page): Promise<string | null> {
  const res = await fetch(`${url}${page.path}`, { headers: { cookie }, redirect: 'manual' })
  const body = await res.text()
  if (res.status !== 200) return `${page.name}: ${page.path} answered ${res.status}`
  // A partial search may fill no page within its reading budget: any page of the log will do.
  if (page.check === 'a page') {
    return body.includes('class="sms-filter') ? null : `${page.name}: not the log page`
  }
  if (page.check === 'a usage page') {
    return /<table class="usage-senders/.test(body) ? null : `${page.name}: no usage by user shown`
  }
  if (page.check === 'an inbox page') {
    return /<tr id="inbound-\d+"/.test(body) ? null : `${page.name}: no received SMS shown`
  }
  const shows = page.check.endsWith(' rows')
    ? `${[...body.matchAll(/<tr id="sms-\d+"/g)].length} rows`
    : body
  return shows === page.check ? null : `${page.name}: expected ${page.check}, got ${shows}`
}

function load(url: string, cookie: string, s: Settings, seconds: number) {
  return autocannon({
    url,
    headers: { cookie },
    connections: s.connections,
    overallRate: s.rate,
    duration: seconds,
    // Its own thread: the load generator must not share the server's event loop.
    workers: 1,
    // autocannon's rate limit lets each connection send its share of the second at once, then
    // wait for the next second, and its correction for that adds made-up samples every
    // millisecond below each latency: the latencies are recorded as measured.
    ignoreCoordinatedOmission: true,
  })
}

async function measure(
  server: RunningServer,
  cookie: string,
  page: Page,
  s: Settings,
  dbPid: number | null,
): Promise<Measure> {
  await load(`${server.url}${page.path}`, cookie, s, s.warmup)
  const cpu = process.cpuUsage()
  const dbBefore = processCpuSeconds(dbPid)
  const machine = machineTimes()
  const r = await load(`${server.url}${page.path}`, cookie, s, s.duration)
  const used = process.cpuUsage(cpu)
  const dbAfter = processCpuSeconds(dbPid)
  const requests = r.requests.total
  const m: Measure = {
    name: page.name,
    path: page.path,
    requests,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    rps: requests / (r.duration || s.duration),
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    max: r.latency.max,
    mean: r.latency.average,
    // The autocannon thread's CPU counts in process.cpuUsage too: an upper bound.
    serverCpuMs: (used.user + used.system) / 1000 / Math.max(1, requests),
    databaseCpuMs:
      dbBefore === null || dbAfter === null
        ? null
        : ((dbAfter - dbBefore) * 1000) / Math.max(1, requests),
    machineBusy: busyShare(machine, machineTimes()),
    ratioToPing: null,
  }
  console.log(
    `${m.name.padEnd(24)} ${m.requests} requests, ${m.rps.toFixed(0)}/s; latency p50 ${m.p50} ms, ` +
      `p90 ${m.p90} ms, p99 ${m.p99} ms, max ${m.max} ms, mean ${m.mean.toFixed(1)} ms; ` +
      `non-2xx ${m.non2xx}, errors ${m.errors}`,
  )
  return m
}

interface PlanLine {
  page: string
  sql: string
  table: string | null
  type: string
  key: string | null
  rows: string | number | null
  extra: string
}

/** The plan MariaDB takes for every statement on outbound_sms a page runs. */
async function explainPages(
  db: Db,
  url: string,
  cookie: string,
  list: Page[],
): Promise<PlanLine[]> {
  const lines: PlanLine[] = []
  for (const page of list.filter((p) => p.name !== 'ping')) {
    const statements: Array<{ sql: string; bindings: readonly Knex.RawBinding[] }> = []
    const record = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) => {
      if (/outbound_sms/.test(q.sql) && !/^explain/i.test(q.sql)) {
        statements.push({ sql: q.sql, bindings: q.bindings ?? [] })
      }
    }
    db.on('query', record)
    try {
      await fetch(`${url}${page.path}`, { headers: { cookie } }).then((r) => r.text())
    } finally {
      db.removeListener('query', record)
    }
    for (const { sql, bindings } of statements) {
      const [plan] = (await db.raw(`EXPLAIN ${sql}`, bindings)) as [
        Array<{
          table: string | null
          type: string
          key: string | null
          rows: string
          Extra: string
        }>,
      ]
      for (const p of plan) {
        lines.push({
          page: page.name,
          sql: sql.length > 160 ? `${sql.slice(0, 157)}...` : sql,
          table: p.table,
          type: p.type,
          key: p.key,
          rows: p.rows,
          extra: p.Extra,
        })
      }
    }
  }
  return lines
}

const openBenchDb = (): Db =>
  openDb({ url: `${MYSQL_SERVER_URL}/${DATABASE}`, sqliteFile: '', poolMax: 10 })

/** The database to measure: an earlier run's with --reuse when it holds these rows, else new. */
async function prepareDatabase(
  s: Settings,
  cleanups: BenchCleanups,
): Promise<{ db: Db; seeded: Seeded }> {
  const otherRows = s.otherRows ?? Math.round(s.rows / 20)
  if (!s.keep) cleanups.push(dropDatabase)
  if (s.reuse && (await databaseExists())) {
    const db = openBenchDb()
    const seeded = await reusable(db, s, otherRows)
    if (seeded) {
      cleanups.push(() => db.destroy())
      console.log(`reusing ${DATABASE}: ${seeded.rows} + ${seeded.otherRows} SMS already loaded`)
      return { db, seeded }
    }
    await db.destroy()
    console.log(`${DATABASE} holds other rows than asked: loading afresh`)
  }
  await recreateDatabase()
  const db = openBenchDb()
  cleanups.push(() => db.destroy())
  console.log(`loading ${s.rows} + ${otherRows} SMS over ${s.days} days into ${DATABASE}`)
  const seeded = await seed(db, s, otherRows)
  const total = seeded.rows + seeded.otherRows
  const seconds = seeded.loadSeconds ?? 0
  console.log(
    `loaded ${total} rows in ${seconds.toFixed(1)} s (${(total / seconds).toFixed(0)} rows/s)`,
  )
  return { db, seeded }
}

async function run(s: Settings, cleanups: BenchCleanups) {
  const { db, seeded } = await prepareDatabase(s, cleanups)
  const chartStarted = process.hrtime.bigint()
  await dailyCounts(db, seeded.accountId, 30, Date.now(), 'UTC')
  const chartMs = Number(process.hrtime.bigint() - chartStarted) / 1e6
  console.log(`chart figures (30 days, from the daily counts): ${chartMs.toFixed(1)} ms`)

  const server = await startServer(db)
  cleanups.push(async () => {
    // Let the requests the load generator gave up on finish before the pool closes.
    for (let waited = 0; server.inFlight() > 0 && waited < 10_000; waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await new Promise<void>((resolve) => server.server.close(() => resolve()))
  })
  const cookie = await logIn(server.url)
  const list = await pages(db, seeded)
  const problems: string[] = []
  for (const page of list) {
    const problem = await checkPage(server.url, cookie, page)
    if (problem) problems.push(problem)
  }
  if (problems.length > 0) {
    return { seeded, chartMs, measures: [], exports: [], plans: [], problems, db }
  }
  const plans = await explainPages(db, server.url, cookie, list)
  const dbPid = findDatabasePid()
  const measures: Measure[] = []
  for (const page of list) measures.push(await measure(server, cookie, page, s, dbPid))
  const ping = measures[0]
  for (const m of measures.slice(1)) m.ratioToPing = ping.p99 > 0 ? m.p99 / ping.p99 : null
  for (const m of measures) {
    if (m.non2xx || m.errors || m.timeouts) {
      problems.push(`${m.name}: ${m.non2xx} non-2xx, ${m.errors} errors, ${m.timeouts} timeouts`)
    }
  }
  // Two sizes of one export: its time grows with the rows, its memory must not.
  const exports: ExportMeasure[] = []
  const base = `/a/${seeded.accountId}/messages/export.csv`
  for (const size of [EXPORT_ROWS / 10, EXPORT_ROWS]) {
    if (size > seeded.rows) continue
    const from = await dayWithRowsAfter(db, seeded.accountId, size)
    const m = await measureExport(server.url, cookie, `export ${size}`, `${base}?from=${from}`)
    console.log(
      `${m.name}: ${m.rows} rows in ${m.seconds.toFixed(1)} s, peak RSS ${m.rssPeakMb.toFixed(0)} MB`,
    )
    exports.push(m)
  }
  return { seeded, chartMs, measures, exports, plans, problems, db }
}

async function main(): Promise<number> {
  const s = readSettings(process.argv.slice(2))
  const cleanups = benchCleanups(BENCH_DEADLINE_MS)
  try {
    const r = await run(s, cleanups)
    const machine = await machineFacts(r.db)
    const logPages = r.measures.slice(1)
    const bigExport = r.exports.find((e) => e.rows >= EXPORT_ROWS)
    const exportMet = bigExport === undefined || bigExport.seconds <= TARGET.exportSeconds
    const met = logPages.length > 0 && logPages.every((m) => m.p99 <= TARGET.p99Ms) && exportMet
    const summary = {
      date: new Date().toISOString(),
      machine,
      settings: { ...s, database: DATABASE, pageSize: PAGE_SIZE },
      target: TARGET,
      data: r.seeded,
      chartMs: r.chartMs,
      measures: r.measures,
      exports: r.exports,
      plans: r.plans,
      met,
      problems: r.problems,
      ok: r.problems.length === 0,
    }
    const file = writeResults('admin', summary)
    const ms = (v: number) => `${v} ms`
    const lines = [
      '',
      '== bench:admin summary ==',
      `machine    ${machine.cpus} CPUs, Node ${machine.node}, ${machine.database}`,
      `data       ${r.seeded.rows} SMS of the measured account, ${r.seeded.otherRows} of another, ` +
        `over ${s.days} days; ` +
        (r.seeded.loadSeconds === null
          ? 'reused from an earlier run'
          : `loaded in ${r.seeded.loadSeconds.toFixed(1)} s`),
      `load       autocannon, ${s.rate} requests/s over ${s.connections} connections, ` +
        `${s.duration} s per page after ${s.warmup} s of warm-up`,
      `chart      ${r.chartMs.toFixed(1)} ms to read 30 days from the daily counts, as every ` +
        'page does',
      ...r.measures.map(
        (m) =>
          `${m.name.padEnd(24)} p50 ${ms(m.p50).padStart(6)}  p99 ${ms(m.p99).padStart(6)}  ` +
          `mean ${m.mean.toFixed(1).padStart(5)} ms  ${m.rps.toFixed(0)} req/s  non-2xx ${m.non2xx}` +
          (m.ratioToPing === null ? '' : `  p99 ${m.ratioToPing.toFixed(1)}x ping`) +
          `  CPU/req server ${m.serverCpuMs.toFixed(2)} ms, MariaDB ${m.databaseCpuMs?.toFixed(2) ?? '?'} ms`,
      ),
      ...[...new Set(r.plans.map((p) => p.page))].map(
        (page) =>
          `plan       ${page}: ` +
          r.plans
            .filter((p) => p.page === page && p.table === 'outbound_sms')
            .map((p) => `${p.type} on ${p.key ?? '-'} (${p.rows ?? '?'} rows)`)
            .join('; '),
      ),
      ...r.exports.map(
        (e) =>
          `${e.name.padEnd(24)} ${e.rows} rows, ${e.megabytes.toFixed(0)} MB in ${e.seconds.toFixed(1)} s ` +
          `(${e.rowsPerSecond.toFixed(0)} rows/s); RSS ${e.rssBeforeMb.toFixed(0)} MB before, ` +
          `${e.rssPeakMb.toFixed(0)} MB at most, heap at most ${e.heapPeakMb.toFixed(0)} MB`,
      ),
      `target     p99 <= ${TARGET.p99Ms} ms at ${TARGET.rate} requests/s on every log page, ` +
        `CSV export of ${EXPORT_ROWS} rows in <= ${TARGET.exportSeconds} s: ` +
        (met ? 'met' : 'NOT met') +
        (bigExport === undefined ? ` (no export of ${EXPORT_ROWS} rows: too few SMS)` : ''),
      ...r.problems.map((p) => `PROBLEM    ${p}`),
      `result     ${summary.ok ? 'OK' : 'FAILED'}; written to ${path.relative(process.cwd(), file)}` +
        (s.keep ? `; ${DATABASE} kept (--reuse uses it)` : ''),
    ]
    console.log(lines.join('\n'))
    return summary.ok ? 0 : 1
  } finally {
    await cleanups.run()
  }
}

runBench(main)
