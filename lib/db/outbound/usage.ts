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
import { readDayTotals, readSenderTotals } from './daily-rollup'

export interface Usage {
  sms: number
  segments: number
}

export interface UsagePeriod extends Usage {
  /** A local day (YYYY-MM-DD) or a calendar month (YYYY-MM). */
  period: string
}

const monthOf = (day: string): string => day.slice(0, 7)

function add(map: Map<string, UsagePeriod>, period: string, sms: number, segments: number): void {
  const known = map.get(period)
  if (known) {
    known.sms += sms
    known.segments += segments
  } else map.set(period, { period, sms, segments })
}

type Sums = { sms: number; segments: number }

/**
 * Usage sums of days that are over, kept a few minutes per process. They no longer change:
 * usage counts every SMS whatever its status, and a status change moves a count between two
 * statuses of the same day and sender, leaving both sums as they were; a new SMS counts on
 * the day it is stored. The few minutes cover an MX node whose clock runs a little behind at
 * midnight. Today is always read afresh.
 */
export class PastDaysCache {
  private readonly entries = new Map<string, { until: number; value: Promise<unknown> }>()

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly maxEntries = 2000,
  ) {}

  get<T>(key: string, now: number, load: () => Promise<T>): Promise<T> {
    const known = this.entries.get(key)
    if (known && known.until > now) return known.value as Promise<T>
    if (this.entries.size >= this.maxEntries) this.entries.clear()
    const value = load()
    this.entries.set(key, { until: now + this.ttlMs, value })
    // A failed read is not kept: the next page tries again.
    value.catch(() => this.entries.delete(key))
    return value
  }
}

function mergeSums<K>(target: Map<K, Sums>, more: Map<K, Sums>): Map<K, Sums> {
  for (const [key, s] of more) {
    const known = target.get(key)
    if (known) target.set(key, { sms: known.sms + s.sms, segments: known.segments + s.segments })
    else target.set(key, { ...s })
  }
  return target
}

/** Days `first` to `last` read as their past part (from the cache) and today's part (fresh). */
async function pastAndToday<K>(
  first: number,
  last: number,
  today: number,
  cache: PastDaysCache | null,
  key: string,
  now: number,
  read: (from: number, to: number) => Promise<Map<K, Sums>>,
): Promise<Map<K, Sums>> {
  const pastEnd = Math.min(last, today - 1)
  const past =
    pastEnd < first
      ? new Map<K, Sums>()
      : cache
        ? await cache.get(`${key}:${first}:${pastEnd}`, now, () => read(first, pastEnd))
        : await read(first, pastEnd)
  const freshStart = Math.max(first, today)
  if (freshStart > last) return past
  return mergeSums(new Map(past), await read(freshStart, last))
}

/** SMS and segments per day of days `first` to `last` (day number → sums). */
export function usageByDay(
  db: Db,
  accountId: number,
  range: { first: number; last: number; today: number; now: number },
  cache: PastDaysCache | null = null,
): Promise<Map<number, Sums>> {
  return pastAndToday(
    range.first,
    range.last,
    range.today,
    cache,
    `d:${accountId}`,
    range.now,
    (f, t) => readDayTotals(db, accountId, f, t),
  )
}

/** SMS and segments per sender over days `first` to `last`, the largest first. */
export async function usageBySender(
  db: Db,
  accountId: number,
  range: { first: number; last: number; today: number; now: number },
  cache: PastDaysCache | null = null,
): Promise<Array<{ senderEmail: string } & Sums>> {
  const sums = await pastAndToday(
    range.first,
    range.last,
    range.today,
    cache,
    `s:${accountId}`,
    range.now,
    async (f, t) =>
      new Map((await readSenderTotals(db, accountId, f, t)).map((r) => [r.senderEmail, r])),
  )
  return [...sums.entries()]
    .map(([senderEmail, s]) => ({ senderEmail, sms: s.sms, segments: s.segments }))
    .sort((a, b) => b.segments - a.segments || (a.senderEmail < b.senderEmail ? -1 : 1))
}

/** Per-day sums as the months and days they make, oldest first, zeros included. */
export function periodsOf(
  byDay: Map<number, Sums>,
  first: number,
  last: number,
  per: 'day' | 'month',
): UsagePeriod[] {
  const periods = new Map<string, UsagePeriod>()
  for (let d = first; d <= last; d++) {
    const date = dateOf(d)
    const s = byDay.get(d)
    add(periods, per === 'day' ? date : monthOf(date), s?.sms ?? 0, s?.segments ?? 0)
  }
  return [...periods.values()].sort((a, b) => (a.period < b.period ? -1 : 1))
}
