/**
 * An account's use of the gateway over a range of its local days: SMS and segments (what the
 * carrier bills) per day and per calendar month, in total and per sender, from the daily counts
 * (./daily-rollup.ts). For the account's usage page and its exports.
 *
 * Every SMS the MX took counts, whatever became of it: a usage figure is what was asked of the
 * gateway; the chart (./daily-counts.ts) tells outcomes apart.
 */
import type { Db } from '../connection'
import { dateOf } from '../../time/zone'
import { readDailyCounts, readDayTotals } from './daily-rollup'

export interface Usage {
  sms: number
  segments: number
}

export interface UsagePeriod extends Usage {
  /** A local day (YYYY-MM-DD) or a calendar month (YYYY-MM). */
  period: string
}

export interface SenderUsage {
  senderEmail: string
  /** Only the days and months the sender sent SMS in, oldest first. */
  days: UsagePeriod[]
  months: UsagePeriod[]
  total: Usage
}

export interface UsageReport {
  /** Every day of the range, oldest first, zeros included. */
  days: UsagePeriod[]
  /** Every month the range touches, oldest first; the first and last may be partial. */
  months: UsagePeriod[]
  total: Usage
  /** By address, A to Z. An address blanked by the retention purge reads ''. */
  senders: SenderUsage[]
}

const monthOf = (day: string): string => day.slice(0, 7)

function add(map: Map<string, UsagePeriod>, period: string, sms: number, segments: number): void {
  const known = map.get(period)
  if (known) {
    known.sms += sms
    known.segments += segments
  } else map.set(period, { period, sms, segments })
}

/** Day numbers `first` to `last` (both included; see lib/time/zone.ts) of one account. */
export async function usageBetween(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<UsageReport> {
  const rows = await readDailyCounts(db, accountId, first, last, { bySender: true })
  const days = new Map<string, UsagePeriod>()
  const months = new Map<string, UsagePeriod>()
  // Each day's date made once: there are rows by day, status and sender, thousands of them.
  const dates: string[] = []
  for (let d = first; d <= last; d++) {
    const day = dateOf(d)
    dates.push(day)
    add(days, day, 0, 0)
    add(months, monthOf(day), 0, 0)
  }
  const senders = new Map<
    string,
    { days: Map<string, UsagePeriod>; months: Map<string, UsagePeriod> }
  >()
  for (const row of rows) {
    const day = dates[row.day - first]
    add(days, day, row.sms, row.segments)
    add(months, monthOf(day), row.sms, row.segments)
    const email = row.senderEmail ?? ''
    let sender = senders.get(email)
    if (!sender) senders.set(email, (sender = { days: new Map(), months: new Map() }))
    add(sender.days, day, row.sms, row.segments)
    add(sender.months, monthOf(day), row.sms, row.segments)
  }
  const sorted = (m: Map<string, UsagePeriod>) =>
    [...m.values()].sort((a, b) => (a.period < b.period ? -1 : 1))
  const sum = (periods: UsagePeriod[]): Usage => ({
    sms: periods.reduce((n, p) => n + p.sms, 0),
    segments: periods.reduce((n, p) => n + p.segments, 0),
  })
  const dayList = sorted(days)
  return {
    days: dayList,
    months: sorted(months),
    total: sum(dayList),
    senders: [...senders.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([senderEmail, s]) => {
        const senderDays = sorted(s.days)
        return { senderEmail, days: senderDays, months: sorted(s.months), total: sum(senderDays) }
      }),
  }
}

/**
 * Every calendar month that days `first` to `last` touch, oldest first, with its SMS and
 * segments: from the per-day totals summed by day, so a year costs a few hundred rows.
 */
export async function monthlyUsage(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<UsagePeriod[]> {
  const byDay = await readDayTotals(db, accountId, first, last)
  const months = new Map<string, UsagePeriod>()
  for (let d = first; d <= last; d++) {
    const day = byDay.get(d)
    add(months, monthOf(dateOf(d)), day?.sms ?? 0, day?.segments ?? 0)
  }
  return [...months.values()].sort((a, b) => (a.period < b.period ? -1 : 1))
}

/** Every day from `first` to `last`, oldest first, zeros included: from the per-day totals. */
export async function dailyUsage(
  db: Db,
  accountId: number,
  first: number,
  last: number,
): Promise<UsagePeriod[]> {
  const byDay = await readDayTotals(db, accountId, first, last)
  const days: UsagePeriod[] = []
  for (let d = first; d <= last; d++) {
    const day = byDay.get(d)
    days.push({ period: dateOf(d), sms: day?.sms ?? 0, segments: day?.segments ?? 0 })
  }
  return days
}
