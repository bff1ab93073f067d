/**
 * `bench:mx --history N`: the MX's ratio to a bare Haraka on an empty database, then on one
 * holding N SMS of history, in one run. The history (bench/history-data.ts) is months of
 * traffic of a few accounts, the bench account among them, so every index the MX's insert
 * maintains, and its retry check on dedupe_key, work at that size.
 */
import knex from 'knex'
import { openDb } from '../lib/db/connection'
import { migrateLatest } from '../lib/db/migrate'
import { seedSendingAccount } from '../test/support/accounts'
import { MYSQL_SERVER_URL, type TestDatabase } from '../test/support/databases'
import { loadHistory, type HistoryAccount } from './history-data'

/** The database kept between runs by --keep (and used again by --reuse). */
export const HISTORY_DATABASE = process.env.MAIL2SMS_BENCH_HISTORY_DB ?? 'mail2sms_bench_mx_history'
const HISTORY_DAYS = 90

export interface HistoryOptions {
  rows: number
  reuse: boolean
  keep: boolean
}

async function onServer<T>(work: (admin: knex.Knex) => Promise<T>): Promise<T> {
  const admin = knex({ client: 'mysql2', connection: { uri: MYSQL_SERVER_URL } as never })
  try {
    return await work(admin)
  } finally {
    await admin.destroy()
  }
}

function historyDatabase(): TestDatabase {
  const config = { url: `${MYSQL_SERVER_URL}/${HISTORY_DATABASE}`, sqliteFile: '', poolMax: 10 }
  const db = openDb(config)
  return {
    kind: 'mysql',
    config,
    db,
    drop: async () => {
      await db.destroy()
      await onServer((admin) => admin.raw(`DROP DATABASE IF EXISTS \`${HISTORY_DATABASE}\``))
    },
  }
}

/** The rows an earlier --keep run loaded, or null when there is no such database. */
async function loadedRows(): Promise<number | null> {
  const exists = await onServer(async (admin) => {
    const [rows] = (await admin.raw('SHOW DATABASES LIKE ?', [HISTORY_DATABASE])) as [unknown[]]
    return rows.length > 0
  })
  if (!exists) return null
  const t = historyDatabase()
  try {
    const row = await t.db('bench_history').first('rows')
    return row ? Number(row.rows) : null
  } catch {
    return null
  } finally {
    await t.db.destroy()
  }
}

/**
 * Accounts of the history: the bench account (its sender first, as bench:mx seeds it) with
 * nine colleagues, and three other accounts, four in ten SMS being the bench account's.
 */
async function seedAccounts(t: TestDatabase, sender: string): Promise<HistoryAccount[]> {
  const colleagues = Array.from({ length: 9 }, (_, i) => `agent${i + 1}@bench.example`)
  const specs = [
    { ref: 'bench', name: 'Bench', senders: [sender, ...colleagues], share: 4 },
    {
      ref: 'clinic',
      name: 'Clinic',
      senders: ['desk@clinic.example', 'night@clinic.example'],
      share: 3,
    },
    { ref: 'ops', name: 'Ops', senders: ['alerts@ops.example'], share: 2 },
    {
      ref: 'shop',
      name: 'Shop',
      senders: ['orders@shop.example', 'support@shop.example'],
      share: 1,
    },
  ]
  const out: HistoryAccount[] = []
  for (const spec of specs) {
    const { account, senders } = await seedSendingAccount(
      t.db,
      { ref: spec.ref, name: spec.name, segmentCap: 4 },
      spec.senders,
    )
    out.push({
      accountId: account.id,
      senders: senders.map((s) => ({ email: s.email, id: s.id })),
      share: spec.share,
    })
  }
  return out
}

/**
 * The database with `rows` SMS of history: an earlier --keep run's when --reuse finds the same
 * count there, else made afresh (created, migrated, seeded, loaded). Dropped at the end unless
 * --keep (or --reuse) asks to keep it.
 */
export async function prepareHistoryDatabase(
  o: HistoryOptions,
  sender: string,
  cleanups: { push(stop: () => Promise<void>): void },
): Promise<{ t: TestDatabase; loadSeconds: number | null }> {
  if (o.reuse && (await loadedRows()) === o.rows) {
    const t = historyDatabase()
    cleanups.push(() => (o.keep ? t.db.destroy() : t.drop()))
    console.log(`reusing ${HISTORY_DATABASE}: ${o.rows} SMS of history already loaded`)
    return { t, loadSeconds: null }
  }
  await onServer(async (admin) => {
    await admin.raw(`DROP DATABASE IF EXISTS \`${HISTORY_DATABASE}\``)
    await admin.raw(
      `CREATE DATABASE \`${HISTORY_DATABASE}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
    )
  })
  const t = historyDatabase()
  cleanups.push(() => (o.keep ? t.db.destroy() : t.drop()))
  await migrateLatest(t.db)
  const accounts = await seedAccounts(t, sender)
  console.log(`loading ${o.rows} SMS of history over ${HISTORY_DAYS} days into ${HISTORY_DATABASE}`)
  const load = await loadHistory(
    t.db,
    { accounts, rows: o.rows, days: HISTORY_DAYS, now: Date.now(), kind: 'history', tag: 'h' },
    (line) => console.log(`  ${line}`),
  )
  await t.db.schema.createTable('bench_history', (table) => table.integer('rows'))
  await t.db('bench_history').insert({ rows: o.rows })
  console.log(`loaded ${load.rows} SMS in ${load.seconds.toFixed(0)} s`)
  return { t, loadSeconds: load.seconds }
}

/** What compareWithHistory needs of a round of bench/mx.ts. */
interface RoundLike {
  server: string
  round: number
  messages: number
  rate: number
  harakaCpuMs: number | null
  databaseCpuMs: number | null
}

interface RunLike<R extends RoundLike> {
  rounds: R[]
  servers: Array<{ mx: { stop(): Promise<void> } }>
}

interface Side {
  label: string
  bare: number
  full: number
  ratio: number
  fullHarakaCpuMs: number | null
  fullDatabaseCpuMs: number | null
  /** InnoDB pages read from disk (whole server) per message sent to the full MX. */
  diskReadsPerMessage: number
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function bufferPoolReads(t: TestDatabase): Promise<number> {
  const [rows] = (await t.db.raw("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_reads'")) as [
    Array<{ Value: string }>,
  ]
  return Number(rows[0]?.Value ?? 0)
}

async function measureSide<R extends RoundLike>(
  label: string,
  database: TestDatabase | null,
  probe: TestDatabase,
  run: (database: TestDatabase | null) => Promise<RunLike<R>>,
): Promise<{ side: Side; rounds: R[] }> {
  console.log(`\n-- ${label} --`)
  const readsBefore = await bufferPoolReads(probe)
  const r = await run(database)
  const reads = (await bufferPoolReads(probe)) - readsBefore
  for (const server of r.servers) await server.mx.stop()
  const measured = r.rounds.filter((x) => x.round > 0)
  const of = (name: string) => measured.filter((x) => x.server === name)
  const rate = (name: string) => median(of(name).map((x) => x.rate))
  const cpu = (pick: (x: R) => number | null) => {
    const values = of('full')
      .map(pick)
      .filter((v): v is number => v !== null)
    return values.length ? median(values) : null
  }
  const fullMessages = r.rounds
    .filter((x) => x.server === 'full')
    .reduce((n, x) => n + x.messages, 0)
  return {
    side: {
      label,
      bare: rate('bare'),
      full: rate('full'),
      ratio: rate('full') / rate('bare'),
      fullHarakaCpuMs: cpu((x) => x.harakaCpuMs),
      fullDatabaseCpuMs: cpu((x) => x.databaseCpuMs),
      diskReadsPerMessage: reads / fullMessages,
    },
    rounds: r.rounds,
  }
}

/** outbound_sms's size on disk and the buffer pool's, in MB: whether its indexes fit. */
async function sizes(t: TestDatabase) {
  const [[pool]] = (await t.db.raw('SELECT @@innodb_buffer_pool_size AS bytes')) as [
    Array<{ bytes: number | string }>,
  ]
  const [indexes] = (await t.db.raw(
    `SELECT index_name AS name, ROUND(stat_value * @@innodb_page_size / 1048576) AS mb
       FROM mysql.innodb_index_stats WHERE database_name = DATABASE()
        AND table_name = 'outbound_sms' AND stat_name = 'size' ORDER BY stat_value DESC`,
  )) as [Array<{ name: string; mb: number | string }>]
  return {
    bufferPoolMb: Math.round(Number(pool.bytes) / 1048576),
    indexesMb: indexes.map((i) => ({ name: i.name, mb: Number(i.mb) })),
  }
}

export const HISTORY_TARGET = 0.9

/**
 * bench:mx --history: bare and full Haraka on an empty database, then on the history database,
 * each with the usual warm-ups and alternating rounds; prints both ratios and their quotient.
 */
export async function compareWithHistory<R extends RoundLike>(
  s: Omit<HistoryOptions, 'rows'> & { history: number | null },
  sender: string,
  cleanups: { push(stop: () => Promise<void>): void },
  run: (database: TestDatabase | null) => Promise<RunLike<R>>,
  problemsOf: (round: R) => string[],
  write: (summary: object) => string,
): Promise<number> {
  const rows = s.history ?? 0
  const { t, loadSeconds } = await prepareHistoryDatabase({ ...s, rows }, sender, cleanups)
  const empty = await measureSide('empty database', null, t, run)
  const full = await measureSide(`${rows} SMS of history`, t, t, run)
  const quotient = full.side.ratio / empty.side.ratio
  const problems = [...empty.rounds, ...full.rounds].flatMap(problemsOf)
  const found = await sizes(t)
  const file = write({
    date: new Date().toISOString(),
    history: { rows, loadSeconds, database: HISTORY_DATABASE },
    empty: empty.side,
    withHistory: full.side,
    quotient,
    target: HISTORY_TARGET,
    sizes: found,
    rounds: { empty: empty.rounds, withHistory: full.rounds },
    problems,
  })
  const ms = (v: number | null) => (v === null ? '?' : `${v.toFixed(2)} ms`)
  const line = (x: Side) =>
    `bare ${x.bare.toFixed(0)} msg/s, full ${x.full.toFixed(0)} msg/s: full/bare ` +
    `${x.ratio.toFixed(2)}; full's CPU/msg Haraka ${ms(x.fullHarakaCpuMs)}, MariaDB ` +
    `${ms(x.fullDatabaseCpuMs)}; disk reads/msg ${x.diskReadsPerMessage.toFixed(2)}`
  const verdict = quotient >= HISTORY_TARGET ? 'met' : 'NOT met'
  const biggest = found.indexesMb
    .slice(0, 4)
    .map((i) => `${i.name} ${i.mb}`)
    .join(', ')
  console.log(
    [
      '',
      '== bench:mx --history summary ==',
      `history    ${rows} SMS over ${HISTORY_DAYS} days, 4 accounts; ` +
        (loadSeconds === null ? 'reused' : `loaded in ${loadSeconds.toFixed(0)} s`),
      `empty      ${line(empty.side)}`,
      `history    ${line(full.side)}`,
      `growth     ratio with history / empty ${quotient.toFixed(2)} (target >= ${HISTORY_TARGET}: ${verdict})`,
      `sizes      buffer pool ${found.bufferPoolMb} MB; outbound_sms MB: ${biggest}`,
      ...problems.map((p) => `PROBLEM    ${p}`),
      `result     ${problems.length ? 'FAILED' : 'OK'}; written to ${file}` +
        (s.keep ? `; ${HISTORY_DATABASE} kept (--reuse uses it)` : ''),
    ].join('\n'),
  )
  return problems.length ? 1 : 0
}
