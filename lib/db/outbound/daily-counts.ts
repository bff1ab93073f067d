/** The admin's chart: SMS per UTC day for one account, by outcome. */
import { isMysql, type Db } from '../connection'
import { STATUSES_OF } from './log'

export interface DailyCount {
  /** The UTC day, YYYY-MM-DD. */
  day: string
  /** Its first millisecond. */
  start: number
  total: number
  delivered: number
  /** Failed for good, partly delivered included. */
  failed: number
  /** Taken by the carrier, no final receipt ever came: neither delivered nor failed. */
  unknown: number
}

export const DAY_MS = 86_400_000

/** The UTC day of a time, as a number of days since the epoch. */
export const dayNumberOf = (ms: number): number => Math.floor(ms / DAY_MS)

/**
 * SMS per UTC day over the `days` days that end with `now`'s day, oldest first, days without
 * SMS included as zeros.
 */
export async function dailyCounts(
  db: Db,
  accountId: number,
  days: number,
  now: number,
): Promise<DailyCount[]> {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`bad day count ${days}`)
  const today = dayNumberOf(now)
  return dailyCountsBetween(db, accountId, today - days + 1, today)
}

/**
 * SMS per UTC day from day `first` to day `last` (day numbers, both included), oldest first.
 * Reads the (account_id, created_at) index for those days only, and each SMS for its status:
 * a month of a busy account is hundreds of thousands of rows and takes a second or more, so the
 * admin keeps the figures of past days (see admin/routes/messages.tsx).
 */
export async function dailyCountsBetween(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<DailyCount[]> {
  if (!Number.isInteger(first) || !Number.isInteger(last) || last < first) {
    throw new RangeError(`bad days ${first}..${last}`)
  }
  // The day number since the epoch, by integer division. The divisor is written in the SQL:
  // better-sqlite3 binds a JS number as a REAL, and the division would then keep the fraction.
  const dayExpr = isMysql(db)
    ? `created_at DIV ${DAY_MS}`
    : `CAST(created_at / ${DAY_MS} AS INTEGER)`
  const failed = STATUSES_OF.failed
  const rows = await db('outbound_sms')
    .where('account_id', accountId)
    .where('created_at', '>=', first * DAY_MS)
    .where('created_at', '<', (last + 1) * DAY_MS)
    .select(
      db.raw(`${dayExpr} AS day_number`),
      db.raw('COUNT(*) AS total'),
      db.raw("SUM(CASE WHEN status = 'delivered' THEN 1 ELSE 0 END) AS delivered"),
      db.raw(
        `SUM(CASE WHEN status IN (${failed.map(() => '?').join(', ')}) THEN 1 ELSE 0 END) AS failed`,
        failed,
      ),
      db.raw("SUM(CASE WHEN status = 'unknown' THEN 1 ELSE 0 END) AS unknown"),
    )
    .groupBy('day_number')
  const byDay = new Map<number, Record<string, unknown>>()
  for (const r of rows as Array<Record<string, unknown>>) byDay.set(Number(r.day_number), r)
  const result: DailyCount[] = []
  for (let d = first; d <= last; d++) {
    const r = byDay.get(d)
    result.push({
      day: new Date(d * DAY_MS).toISOString().slice(0, 10),
      start: d * DAY_MS,
      total: Number(r?.total ?? 0),
      delivered: Number(r?.delivered ?? 0),
      failed: Number(r?.failed ?? 0),
      unknown: Number(r?.unknown ?? 0),
    })
  }
  return result
}
