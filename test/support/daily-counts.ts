import type { Db } from '../../lib/db/connection'
import { isMysql } from '../../lib/db/connection'

/** One count of lib/db/outbound/daily-rollup.ts: account, day, status, sender → SMS, segments. */
export type CountLine = string

const line = (r: Record<string, unknown>): CountLine =>
  `${r.account_id} ${r.day} ${r.status}${r.sender_email === undefined ? '' : ` ${r.sender_email}`}: ${Number(r.sms)} sms ${Number(r.segments)} seg`

async function rows(db: Db, sql: string): Promise<Array<Record<string, unknown>>> {
  const result = await db.raw(sql)
  return (isMysql(db) ? result[0] : result) as Array<Record<string, unknown>>
}

/**
 * What the counts must be: every SMS stored, grouped by its account, local day, status
 * ('sending' counted as 'queued') and sender, straight from the table. Rows without a day yet
 * are left out (the fill counts them).
 */
export async function countsFromSms(db: Db): Promise<CountLine[]> {
  const status = "CASE status WHEN 'sending' THEN 'queued' ELSE status END"
  return (
    await rows(
      db,
      `SELECT account_id, local_day AS day, ${status} AS status, sender_email,
              COUNT(*) AS sms, SUM(segments) AS segments
       FROM outbound_sms WHERE local_day IS NOT NULL
       GROUP BY account_id, local_day, ${status}, sender_email`,
    )
  )
    .map(line)
    .sort()
}

/** The counts as kept: the rollup plus the deltas not folded yet, zeros left out. */
export async function countsKept(db: Db): Promise<CountLine[]> {
  return (
    await rows(
      db,
      `SELECT account_id, day, status, sender_email, SUM(sms) AS sms, SUM(segments) AS segments
       FROM (SELECT account_id, day, status, sender_email, sms, segments FROM sms_daily_rollup
             UNION ALL
             SELECT account_id, day, status, sender_email, sms, segments FROM sms_daily_delta) c
       GROUP BY account_id, day, status, sender_email`,
    )
  )
    .filter((r) => Number(r.sms) !== 0 || Number(r.segments) !== 0)
    .map(line)
    .sort()
}

/** The rollup table alone (after a fold, with no delta left, it must hold everything). */
export async function rollupRows(db: Db): Promise<CountLine[]> {
  return (
    await rows(
      db,
      'SELECT account_id, day, status, sender_email, sms, segments FROM sms_daily_rollup',
    )
  )
    .map(line)
    .sort()
}

export async function deltaCount(db: Db): Promise<number> {
  const [r] = await rows(db, 'SELECT COUNT(*) AS n FROM sms_daily_delta')
  return Number(r.n)
}

/** countsFromSms without the sender: what sms_daily_totals must hold. */
export async function totalsFromSms(db: Db): Promise<CountLine[]> {
  const status = "CASE status WHEN 'sending' THEN 'queued' ELSE status END"
  return (
    await rows(
      db,
      `SELECT account_id, local_day AS day, ${status} AS status,
              COUNT(*) AS sms, SUM(segments) AS segments
       FROM outbound_sms WHERE local_day IS NOT NULL
       GROUP BY account_id, local_day, ${status}`,
    )
  )
    .map(line)
    .sort()
}

/** The totals as kept: sms_daily_totals plus the deltas not folded yet, zeros left out. */
export async function totalsKept(db: Db): Promise<CountLine[]> {
  return (
    await rows(
      db,
      `SELECT account_id, day, status, SUM(sms) AS sms, SUM(segments) AS segments
       FROM (SELECT account_id, day, status, sms, segments FROM sms_daily_totals
             UNION ALL
             SELECT account_id, day, status, sms, segments FROM sms_daily_delta) c
       GROUP BY account_id, day, status`,
    )
  )
    .filter((r) => Number(r.sms) !== 0 || Number(r.segments) !== 0)
    .map(line)
    .sort()
}

/** The totals table alone. */
export async function totalsRows(db: Db): Promise<CountLine[]> {
  return (await rows(db, 'SELECT account_id, day, status, sms, segments FROM sms_daily_totals'))
    .map(line)
    .sort()
}
