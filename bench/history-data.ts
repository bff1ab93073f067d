/**
 * Years of traffic in outbound_sms, loaded fast on MariaDB, for the benches that ask how the
 * MX's and the worker's costs grow with the data (bench:mx --history, bench:worker --backlog).
 *
 * The rows are made by the server itself, `INSERT … SELECT` from MariaDB's sequence engine
 * (`seq_1_to_N`), so no row crosses the network. Three things would make a load of millions of
 * rows take an hour, and are set aside while it runs, on this bench database only:
 *
 * - The daily-count triggers (migrations/20261206120300): one extra insert per row. They are
 *   dropped, the rows are counted afterwards with one GROUP BY into the daily counts, and the
 *   migration puts the triggers back, so what the worker and the admin read is what the
 *   triggers would have written.
 * - The secondary indexes, those ordered by number or sender rather than by time above all:
 *   each insert would read a random page of an index larger than the buffer pool. They are
 *   dropped and rebuilt by sorting, which also leaves them a little denser than years of
 *   inserts would.
 * - Foreign and unique checks (every reference exists, every key is new).
 *
 * Everything derives from the row's sequence number (RAND(seed) is deterministic), so a load
 * is the same on every run.
 */
import knexFactory, { type Knex } from 'knex'
import type { Db } from '../lib/db/connection'
import { DAY_MS } from '../lib/db/outbound'
import * as dailyTriggers from '../migrations/20261206120300_create_sms_daily_triggers'

/** Who sends the history: an account, its senders (email and id), its share of the rows. */
export interface HistoryAccount {
  accountId: number
  senders: Array<{ email: string; id: number | null }>
  /** Relative weight of this account in the rows. */
  share: number
}

export interface HistoryShape {
  accounts: HistoryAccount[]
  rows: number
  days: number
  now: number
  /**
   * 'history': sent and settled SMS (delivered mostly, some without a receipt, some failed),
   * spread over `days` before now, with their outbound_sms_parts rows.
   * 'queued': a backlog, every row queued and due, its due time growing with the id.
   */
  kind: 'history' | 'queued'
  /** Prefix of the dedupe keys' source and of the recipients: two loads never collide. */
  tag: string
  /** For 'queued': the first recipient is +33 followed by this many digits, then the row's own. */
  recipientPrefix?: string
}

export interface HistoryLoad {
  rows: number
  firstId: number
  lastId: number
  seconds: number
}

const BODIES = [
  ['Votre rendez-vous est confirmé pour demain. Répondez STOP pour annuler.', 1],
  ['Rappel : votre livraison arrive entre 10h et 12h.', 1],
  ['Le serveur db4 ne répond plus depuis 5 minutes. Astreinte prévenue.', 1],
  ['Code de vérification : 482913', 1],
  [
    'Garde de nuit : le patient de la chambre 12 demande le médecin de service. Rappeler le ' +
      'poste 4411 dès que possible, la famille est prévenue et attend en salle 3, merci.',
    2,
  ],
  ['OK pour 14h.', 1],
] as const

const RECEIPT_TIMEOUT_MS = 259_200_000
const CHUNK = 250_000

/** SQL CASE that picks one of `values` (already SQL literals) by a number in [0, 1). */
function pick(random: string, values: string[]): string {
  const arms = values.map((v, i) => `WHEN ${i} THEN ${v}`).join(' ')
  return `CASE FLOOR(${random} * ${values.length}) ${arms} END`
}

const literal = (db: Knex, v: string | number | null): string =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : db.raw('?', [v]).toQuery()

/**
 * Draw `k` of row `seq`, in [0, 1) in steps of 1/10000: from a CRC32 of both. (RAND(seed) of
 * consecutive seeds gives values a quarter apart, which would tie a row's draws together; and
 * the division is exact only to four decimals, so a finer draw could round up to 1.)
 */
const draw = (k: number) => `(CRC32(CONCAT(seq, ':${k}')) MOD 10000 / 10000)`

/** Which account a row is: the cumulative shares cut [0, 1). */
function accountIndex(accounts: HistoryAccount[]): string {
  const total = accounts.reduce((n, a) => n + a.share, 0)
  let cumulative = 0
  const arms = accounts.slice(0, -1).map((a, i) => {
    cumulative += a.share / total
    return `WHEN ${draw(1)} < ${cumulative} THEN ${i}`
  })
  return arms.length ? `CASE ${arms.join(' ')} ELSE ${accounts.length - 1} END` : '0'
}

/** The columns that depend only on the sequence number and the shape. */
function baseColumns(db: Knex, shape: HistoryShape): Record<string, string> {
  if (shape.kind === 'queued') {
    const prefix = shape.recipientPrefix ?? '79'
    // Due one millisecond apart in id order, all in the past: claims take them in id order.
    const createdAt = `${shape.now - shape.rows - 1000} + seq`
    return {
      created_at: createdAt,
      recipient: `CONCAT('+33', ${literal(db, prefix)}, LPAD(seq, ${9 - prefix.length}, '0'))`,
      status: `'queued'`,
      sent_at: 'NULL',
    }
  }
  const start = shape.now - shape.days * DAY_MS
  // Creation time grows with the id, as in production.
  const createdAt = `${start} + FLOOR((seq - 1) * ${(shape.days * DAY_MS) / shape.rows})`
  const age = `(${shape.now} - (${createdAt}))`
  return {
    created_at: createdAt,
    // 20,000 numbers of very unequal use.
    recipient: `CONCAT('+33', IF(${draw(4)} < 0.7, '6', '7'), LPAD(FLOOR(POW(${draw(5)}, 2) * 20000) * 4999, 8, '0'))`,
    // Delivered mostly; no receipt ('sent' while the receipt may still come, 'unknown' after
    // the worker gave up waiting); a few refused or undeliverable.
    status:
      `CASE WHEN ${draw(6)} < 0.92 THEN 'delivered' ` +
      `WHEN ${draw(6)} < 0.95 THEN IF(${age} < ${RECEIPT_TIMEOUT_MS}, 'sent', 'unknown') ` +
      `ELSE ${pick(`((${draw(6)} - 0.95) * 20)`, ["'undeliverable'", "'expired'", "'failed'"])} END`,
    sent_at: `(${createdAt}) + 200 + FLOOR(${draw(7)} * 2000)`,
  }
}

/**
 * A dedupe key of the MX's shape (lib/db/outbound/dedupe-key.ts): the minute the email was
 * written, here its creation, in 8 hex digits, then 56 of a sha256.
 */
const dedupeKey = (tag: string) =>
  `CONCAT(LPAD(LOWER(HEX(FLOOR(g.created_at / 60000))), 8, '0'), ` +
  `SUBSTRING(SHA2(CONCAT(${tag}, g.seq), 256), 9))`

/** The SELECT that makes rows `from`..`to` (sequence numbers) of a load, in INSERT_COLUMNS order. */
function rowsSelect(db: Knex, shape: HistoryShape, from: number, to: number): string {
  const base = baseColumns(db, shape)
  const byAccount = (f: (a: HistoryAccount) => string) =>
    `CASE g.acct ${shape.accounts.map((a, i) => `WHEN ${i} THEN ${f(a)}`).join(' ')} END`
  // A few senders do most of the sending: the cube of a uniform draw.
  const senderOf = (f: (s: { email: string; id: number | null }) => string) =>
    byAccount((a) => pick('g.sender_draw', a.senders.map(f)))
  const history = shape.kind === 'history'
  const finalAt = history ? `IF(g.status = 'sent', NULL, g.sent_at + 4000)` : 'NULL'
  // A 'sent' SMS waits for its receipt until next_attempt_at, its receipt deadline.
  const nextAttempt = history
    ? `IF(g.status = 'sent', g.sent_at + ${RECEIPT_TIMEOUT_MS}, g.created_at)`
    : 'g.created_at'
  const tag = literal(db, shape.tag)
  // A backlog of one-segment SMS, as the bench's other drains send: one submit_sm each.
  const bodies = history ? BODIES : BODIES.filter(([, n]) => n === 1)
  return `SELECT
      ${byAccount((a) => String(a.accountId))},
      ${senderOf((s) => literal(db, s.id))}, ${senderOf((s) => literal(db, s.email))},
      g.recipient, ${pick(
        'g.body_draw',
        bodies.map(([text]) => literal(db, text)),
      )}, 'gsm7',
      g.segments, g.status, ${history ? 1 : 0}, ${nextAttempt}, g.sent_at, ${finalAt},
      IF(g.sent_at IS NULL, NULL, g.segments),
      ${dedupeKey(tag)},
      CONCAT('<', ${tag}, g.seq, '@history.example>'),
      CONCAT(${tag}, '-', g.seq),
      g.created_at, COALESCE(${finalAt}, g.sent_at, g.created_at),
      FLOOR(g.created_at / ${DAY_MS})
    FROM (SELECT seq, ${accountIndex(shape.accounts)} AS acct, POW(${draw(2)}, 3) AS sender_draw,
        ${draw(3)} AS body_draw, ${pick(
          draw(3),
          bodies.map(([, n]) => String(n)),
        )} AS segments,
        ${Object.entries(base)
          .map(([name, sql]) => `${sql} AS ${name}`)
          .join(', ')}
      FROM seq_${from}_to_${to}) AS g`
}

const INSERT_COLUMNS = [
  'account_id',
  'sender_id',
  'sender_email',
  'recipient',
  'body',
  'encoding',
  'segments',
  'status',
  'attempts',
  'next_attempt_at',
  'sent_at',
  'final_at',
  'parts',
  'dedupe_key',
  'source_message_id',
  'mx_transaction',
  'created_at',
  'updated_at',
  'local_day',
]

interface IndexDef {
  name: string
  unique: boolean
  columns: string[]
}

async function secondaryIndexes(db: Knex, table: string): Promise<IndexDef[]> {
  const [rows] = (await db.raw(
    `SELECT index_name AS name, non_unique, column_name AS col FROM information_schema.statistics
      WHERE table_schema = DATABASE() AND table_name = ? AND index_name <> 'PRIMARY'
      ORDER BY index_name, seq_in_index`,
    [table],
  )) as [Array<{ name: string; non_unique: number | string; col: string }>]
  const out = new Map<string, IndexDef>()
  for (const r of rows) {
    const def = out.get(r.name) ?? { name: r.name, unique: Number(r.non_unique) === 0, columns: [] }
    def.columns.push(r.col)
    out.set(r.name, def)
  }
  return [...out.values()]
}

/**
 * Drops what can be dropped of a table's secondary indexes and returns them; an index that a
 * foreign key needs (MariaDB error 1553) stays and is maintained during the load.
 */
async function dropIndexes(db: Knex, table: string): Promise<IndexDef[]> {
  const dropped: IndexDef[] = []
  for (const index of await secondaryIndexes(db, table)) {
    try {
      await db.raw(`ALTER TABLE ${table} DROP INDEX \`${index.name}\``)
      dropped.push(index)
    } catch (err) {
      if ((err as { errno?: number }).errno !== 1553) throw err
    }
  }
  return dropped
}

async function addIndexes(db: Knex, table: string, indexes: IndexDef[]): Promise<void> {
  if (indexes.length === 0) return
  const clauses = indexes.map(
    (i) =>
      `ADD ${i.unique ? 'UNIQUE ' : ''}INDEX \`${i.name}\` (${i.columns.map((c) => `\`${c}\``).join(', ')})`,
  )
  await db.raw(`ALTER TABLE ${table} ${clauses.join(', ')}`)
}

/** Every statement on one connection: the session settings below must hold for all of them. */
async function onOneConnection<T>(db: Db, work: (conn: Knex) => Promise<T>): Promise<T> {
  // A knex of its own with a pool of one, on the same server and database.
  const one = knexFactory({ ...(db.client.config as Knex.Config), pool: { min: 1, max: 1 } })
  try {
    await one.raw('SET SESSION unique_checks = 0, foreign_key_checks = 0')
    return await work(one)
  } finally {
    await one.destroy()
  }
}

/** The daily counts of the loaded rows, as the triggers and the fold would have kept them. */
async function countLoaded(db: Knex, firstId: number, lastId: number): Promise<void> {
  const counted = `CASE status WHEN 'sending' THEN 'queued' ELSE status END`
  await db.raw(
    `INSERT INTO sms_daily_rollup (account_id, day, status, sender_email, sms, segments)
      SELECT account_id, local_day, ${counted}, sender_email, COUNT(*), SUM(segments)
        FROM outbound_sms WHERE id BETWEEN ? AND ?
        GROUP BY account_id, local_day, ${counted}, sender_email
      ON DUPLICATE KEY UPDATE sms = sms + VALUES(sms), segments = segments + VALUES(segments)`,
    [firstId, lastId],
  )
  await db.raw(
    `INSERT INTO sms_daily_totals (account_id, day, status, sms, segments)
      SELECT account_id, local_day, ${counted}, COUNT(*), SUM(segments)
        FROM outbound_sms WHERE id BETWEEN ? AND ?
        GROUP BY account_id, local_day, ${counted}
      ON DUPLICATE KEY UPDATE sms = sms + VALUES(sms), segments = segments + VALUES(segments)`,
    [firstId, lastId],
  )
}

/**
 * Loads `shape.rows` rows into outbound_sms (MariaDB only), then, for a history, one
 * outbound_sms_parts row per segment sent, with a carrier id of its own. Returns the id range.
 */
export async function loadHistory(
  db: Db,
  shape: HistoryShape,
  progress: (line: string) => void = () => undefined,
): Promise<HistoryLoad> {
  return onOneConnection(db, async (conn) => {
    const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e9
    const t0 = process.hrtime.bigint()
    const [[{ last_id: before }]] = (await conn.raw(
      'SELECT COALESCE(MAX(id), 0) AS last_id FROM outbound_sms',
    )) as [Array<{ last_id: number | string }>]
    await withoutIndexesAndTriggers(conn, 'outbound_sms', progress, async () => {
      for (let from = 1; from <= shape.rows; from += CHUNK) {
        const to = Math.min(shape.rows, from + CHUNK - 1)
        await conn.raw(
          `INSERT INTO outbound_sms (${INSERT_COLUMNS.join(', ')}) ${rowsSelect(conn, shape, from, to)}`,
        )
        progress(`${shape.kind}: ${to} of ${shape.rows} rows (${since(t0).toFixed(0)} s)`)
      }
    })
    const [[range]] = (await conn.raw(
      'SELECT MIN(id) AS first, MAX(id) AS last, COUNT(*) AS n FROM outbound_sms WHERE id > ?',
      [before],
    )) as [Array<{ first: number | string; last: number | string; n: number | string }>]
    const firstId = Number(range.first)
    const lastId = Number(range.last)
    if (shape.kind === 'history') {
      await withoutIndexesAndTriggers(conn, 'outbound_sms_parts', progress, async () => {
        // One part per segment sent. The carrier's id is the SMS id in hex behind a letter no
        // SMSC of the benches uses: a receipt of a bench SMS never meets one of these.
        for (let from = firstId; from <= lastId; from += CHUNK) {
          await conn.raw(
            `INSERT INTO outbound_sms_parts (sms_id, part_no, smsc_message_id, state, created_at, final_at)
              SELECT o.id, s.seq, CONCAT('h', HEX(o.id), '-', s.seq),
                CASE o.status WHEN 'delivered' THEN 'delivered' WHEN 'undeliverable' THEN
                  'undeliverable' WHEN 'expired' THEN 'expired' ELSE 'sent' END,
                o.sent_at, o.final_at
              FROM outbound_sms o JOIN seq_1_to_4 s ON s.seq <= o.parts
              WHERE o.id BETWEEN ? AND ? AND o.sent_at IS NOT NULL`,
            [from, Math.min(lastId, from + CHUNK - 1)],
          )
        }
      })
    }
    await countLoaded(conn, firstId, lastId)
    await conn.raw('ANALYZE TABLE outbound_sms, outbound_sms_parts')
    return { rows: Number(range.n), firstId, lastId, seconds: since(t0) }
  })
}

/**
 * Runs `load` with the table's secondary indexes (those no foreign key needs) and the daily
 * counts' triggers dropped, and puts them back after, even when the load failed half-way.
 */
async function withoutIndexesAndTriggers(
  conn: Knex,
  table: string,
  progress: (line: string) => void,
  load: () => Promise<void>,
): Promise<void> {
  await dailyTriggers.down(conn)
  const dropped = await dropIndexes(conn, table)
  try {
    await load()
  } finally {
    const started = process.hrtime.bigint()
    await addIndexes(conn, table, dropped)
    progress(
      `${table}: ${dropped.length} indexes rebuilt in ` +
        `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s`,
    )
    await dailyTriggers.up(conn)
  }
}
