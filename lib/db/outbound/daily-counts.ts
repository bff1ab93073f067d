/** The admin's chart: SMS per day of the account's zone, by outcome, from the daily counts. */
import type { Db } from '../connection'
import { dateOf, timeZoneOrUtc } from '../../time/zone'
import { readDailyCounts } from './daily-rollup'
import { logStatusOf } from './log'

export { DAY_MS } from '../../time/zone'

export interface DailyCount {
  /** The local day, YYYY-MM-DD. */
  day: string
  /** Its first instant, in the account's zone. */
  start: number
  total: number
  delivered: number
  /** Failed for good, partly delivered included. */
  failed: number
  /** Taken by the carrier, no final receipt ever came: neither delivered nor failed. */
  unknown: number
}

/**
 * SMS per local day of `zone` over the `days` days that end with `now`'s day there, oldest
 * first, days without SMS included as zeros.
 */
export async function dailyCounts(
  db: Db,
  accountId: number,
  days: number,
  now: number,
  zone: string,
): Promise<DailyCount[]> {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`bad day count ${days}`)
  const today = timeZoneOrUtc(zone).dayOf(now)
  return dailyCountsBetween(db, accountId, today - days + 1, today, zone)
}

/**
 * SMS per local day from day `first` to day `last` (day numbers of `zone`, both included),
 * oldest first. Read from the daily counts (./daily-rollup.ts): exact to the last status
 * change, and as cheap for a million SMS a month as for ten.
 */
export async function dailyCountsBetween(
  db: Db,
  accountId: number,
  first: number,
  last: number,
  zone: string,
): Promise<DailyCount[]> {
  const tz = timeZoneOrUtc(zone)
  const result: DailyCount[] = []
  for (let d = first; d <= last; d++) {
    result.push({
      day: dateOf(d),
      start: tz.startOfDay(d),
      total: 0,
      delivered: 0,
      failed: 0,
      unknown: 0,
    })
  }
  for (const row of await readDailyCounts(db, accountId, first, last)) {
    const count = result[row.day - first]
    count.total += row.sms
    const outcome = logStatusOf(row.status)
    if (outcome === 'delivered' || outcome === 'failed' || outcome === 'unknown') {
      count[outcome] += row.sms
    }
  }
  return result
}
