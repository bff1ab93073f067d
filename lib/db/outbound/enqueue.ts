/** The MX's writes: the SMS rows of an email, committed before it answers 250. */
import { isMysql, type Db } from '../connection'
import type { SmsEncoding } from '../../sms/segments'
import { timeZoneOrUtc } from '../../time/zone'
import { runStatement } from '../statement'
import { marks, sqlPerCount, tuples } from '../sql-text'
import { upsertReturns } from '../upsert-returning'
import { legacyKeysToCheck, type KeyedSms } from './dedupe-key'

export interface NewSms extends KeyedSms {
  accountId: number
  senderId: number | null
  senderEmail: string
  recipient: string
  body: string
  encoding: SmsEncoding
  segments: number
  sourceMessageId: string | null
  mxTransaction: string | null
  /**
   * The account's IANA zone (Account.timeZone): the SMS is counted on its local day there
   * (local_day, see ./daily-rollup.ts). Required, so that no new caller counts an account's
   * SMS on UTC days by omission; the MX has it in its directory, no query for it.
   */
  timeZone: string
}

export interface EnqueueResult {
  /** One id per item, in the order given; a retried email gets its earlier rows' ids. */
  ids: number[]
  duplicates: number
}

/**
 * Commits the SMS of one or more emails with a single multi-row INSERT, which is atomic on both
 * backends: every row is stored, or none. Rows whose dedupe key already exists (a retry of the
 * same email) are skipped by the insert and looked up afterwards. For the usual single SMS on
 * MySQL that is one statement and no read: this runs on the SMTP path for every message.
 * In the days after the keys became time-ordered, rows that may have been stored under their
 * legacy key are looked up under it first (one read), and not inserted when found.
 * Each email's `mxTransaction` must be unique per attempt: it tells its new rows from old ones.
 */
export async function insertEmails(
  db: Db,
  emails: NewSms[][],
  now = Date.now(),
): Promise<EnqueueResult[]> {
  const unique = new Map<string, ReturnType<typeof toRow>>()
  for (const items of emails) {
    for (const item of items)
      if (!unique.has(item.dedupeKey)) unique.set(item.dedupeKey, toRow(item, now))
  }
  const found: Found = new Map()
  for (const [key, row] of await storedUnderLegacyKeys(db, emails.flat(), now)) {
    found.set(key, row)
    unique.delete(key)
  }
  const rows = [...unique.values()]
  if (rows.length > 0) await insertNew(db, rows, found)
  const missing = [...unique.keys()].filter((k) => !found.has(k))
  if (missing.length > 0) {
    const known = await db('outbound_sms')
      .whereIn('dedupe_key', missing)
      .select('id', 'dedupe_key', 'mx_transaction')
    for (const row of known)
      found.set(row.dedupe_key, { id: Number(row.id), batch: row.mx_transaction })
  }
  return emails.map((items) => {
    const ids = items.map((i) => found.get(i.dedupeKey)?.id as number)
    const keys = new Set(items.map((i) => i.dedupeKey))
    const fresh = [...keys].filter((k) => found.get(k)?.batch === items[0].mxTransaction).length
    return { ids, duplicates: items.length - fresh }
  })
}

type Found = Map<string, { id: number; batch: unknown }>

/**
 * Inserts `rows`, skipping those whose key is stored already, and notes in `found` the ids it
 * learns without a read: every row's on MariaDB and SQLite, a lone new row's on MySQL.
 */
async function insertNew(db: Db, rows: Array<ReturnType<typeof toRow>>, found: Found) {
  if (!isMysql(db)) {
    const inserted = await db('outbound_sms')
      .insert(rows)
      .onConflict('dedupe_key')
      .ignore()
      .returning(['id', 'dedupe_key', 'mx_transaction'])
    for (const row of inserted)
      found.set(row.dedupe_key, { id: Number(row.id), batch: row.mx_transaction })
    return
  }
  const values = rows.flatMap((row) => INSERT_COLUMNS.map((c) => row[c]))
  if (await upsertReturns(db)) {
    // MariaDB: the rows inserted and the duplicates skipped come back from the insert itself.
    const returned = await runStatement<
      Array<{ id: number; dedupe_key: string; mx_transaction: unknown }>
    >(db, 'insert', mysqlInsertReturningSql(rows.length, true), values)
    for (const row of returned)
      found.set(row.dedupe_key, { id: Number(row.id), batch: row.mx_transaction })
    return
  }
  const header = await runStatement<{ affectedRows: number; insertId: number }>(
    db,
    'insert',
    mysqlInsertSql(rows.length, true),
    values,
  )
  if (rows.length === 1 && header.affectedRows === 1) {
    found.set(rows[0].dedupe_key as string, {
      id: Number(header.insertId),
      batch: rows[0].mx_transaction,
    })
  }
}

/**
 * New key → the row stored under the legacy key of that SMS, for those that may have one: the
 * insert skips them, and the spend check counts them as stored.
 */
export async function storedUnderLegacyKeys(
  db: Db,
  items: readonly NewSms[],
  now: number,
): Promise<Found> {
  const out: Found = new Map()
  const legacy = await legacyKeysToCheck(db, items, now)
  if (legacy.size === 0) return out
  const byLegacy = new Map([...legacy].map(([key, old]) => [old, key]))
  const rows = await db('outbound_sms')
    .whereIn('dedupe_key', [...byLegacy.keys()])
    .select('id', 'dedupe_key', 'mx_transaction')
  for (const row of rows) {
    const key = byLegacy.get(row.dedupe_key)
    if (key) out.set(key, { id: Number(row.id), batch: row.mx_transaction })
  }
  return out
}

/**
 * One arm of the MX's counter read (lib/db/usage-counters.ts), which asks in a single UNION ALL
 * statement for its counters and for which of `count` dedupe keys are stored already (a retried
 * email): rows of ('s', dedupe key, id), one placeholder per key.
 */
export function storedDedupeKeysSql(count: number): string {
  return `select 's', dedupe_key, id from outbound_sms where dedupe_key in (${marks(count)})`
}

/** The columns toRow fills, in the order of the MX's INSERT. */
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
  'source_message_id',
  'dedupe_key',
  'mx_transaction',
  'created_at',
  'updated_at',
  'local_day',
] as const

/**
 * The MX's multi-row INSERT for `rows` rows, written once per row count: knex's builder spent
 * more CPU building it than the driver spends sending it. Not INSERT IGNORE: it would also turn
 * a NOT NULL or length error into a warning and store a damaged row. The no-op update skips
 * duplicates only; with FOUND_ROWS off (see connection.ts) affectedRows counts just the rows
 * inserted.
 */
function mysqlInsertText(rows: number): string {
  return (
    `insert into \`outbound_sms\` (${INSERT_COLUMNS.map((c) => `\`${c}\``).join(', ')}) ` +
    `values ${tuples(rows, INSERT_COLUMNS.length)} on duplicate key update id = id`
  )
}

const mysqlInsertSql = sqlPerCount(mysqlInsertText)
/**
 * The same INSERT on MariaDB: every row comes back, inserted or skipped, with its id and the
 * attempt that stored it, so a group or a retry needs no second statement.
 */
const mysqlInsertReturningSql = sqlPerCount(
  (rows) => `${mysqlInsertText(rows)} returning id, dedupe_key, mx_transaction`,
)

function toRow(item: NewSms, now: number): Record<(typeof INSERT_COLUMNS)[number], unknown> {
  return {
    account_id: item.accountId,
    sender_id: item.senderId,
    sender_email: item.senderEmail,
    recipient: item.recipient,
    body: item.body,
    encoding: item.encoding,
    segments: item.segments,
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    source_message_id: item.sourceMessageId?.slice(0, 255) ?? null,
    dedupe_key: item.dedupeKey,
    mx_transaction: item.mxTransaction,
    created_at: now,
    updated_at: now,
    // Two Map lookups once the zone has been seen: its offsets are cached per quarter hour.
    local_day: timeZoneOrUtc(item.timeZone).dayOf(now),
  }
}
