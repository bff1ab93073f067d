/**
 * Calendar days and times in an IANA time zone, with the zone data Node carries (Intl), for
 * the export's --from/--to days and its time columns.
 */

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

const two = (n: number): string => (n < 10 ? `0${n}` : String(n))
/** Offsets change at whole quarter hours of UTC in every zone since the 1970s. */
const BUCKET_MS = 15 * MINUTE_MS

export class TimeZoneError extends Error {
  override name = 'TimeZoneError'
}

export class ZonedClock {
  private readonly parts: Intl.DateTimeFormat
  private readonly offsets = new Map<number, number>()

  /** Throws TimeZoneError for a name the zone data does not know. */
  constructor(readonly zone: string) {
    try {
      this.parts = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
    } catch {
      throw new TimeZoneError(
        `unknown time zone "${zone}" (an IANA name such as Europe/Paris, or UTC)`,
      )
    }
  }

  /** The zone's offset from UTC at `ms`, in ms (east positive), read from the zone data. */
  private offsetFromData(ms: number): number {
    const p: Record<string, number> = {}
    for (const part of this.parts.formatToParts(ms)) {
      if (part.type !== 'literal') p[part.type] = Number(part.value)
    }
    const local = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second)
    return local - (ms - (((ms % 1000) + 1000) % 1000))
  }

  /**
   * The offset at `ms`. Cached per quarter hour (a million rows must not each ask Intl), unless
   * the quarter hour holds a change, as in the rare zones whose changes fall off the quarter.
   */
  offsetAt(ms: number): number {
    const bucket = Math.floor(ms / BUCKET_MS)
    const known = this.offsets.get(bucket)
    if (known !== undefined) return known
    const start = this.offsetFromData(bucket * BUCKET_MS)
    const end = this.offsetFromData((bucket + 1) * BUCKET_MS - 1)
    if (start !== end) return this.offsetFromData(ms)
    if (this.offsets.size > 100_000) this.offsets.clear()
    this.offsets.set(bucket, start)
    return start
  }

  /** ISO 8601 local time with its offset: 2026-03-29T03:30:00+02:00 (Z in UTC). */
  format(ms: number): string {
    const offset = this.offsetAt(ms)
    const local = ms + offset
    const day = Math.floor(local / DAY_MS)
    const secondOfDay = Math.floor((local - day * DAY_MS) / 1000)
    const time = `${two(Math.floor(secondOfDay / 3600))}:${two(Math.floor(secondOfDay / 60) % 60)}:${two(secondOfDay % 60)}`
    return `${this.dateOf(day)}T${time}${this.offsetSuffix(offset)}`
  }

  // Date#toISOString costs microseconds: a million rows each format a day already seen.
  private readonly dates = new Map<number, string>()
  private dateOf(day: number): string {
    let date = this.dates.get(day)
    if (date === undefined) {
      date = new Date(day * DAY_MS).toISOString().slice(0, 10)
      if (this.dates.size > 100_000) this.dates.clear()
      this.dates.set(day, date)
    }
    return date
  }

  private offsetSuffix(offset: number): string {
    if (offset === 0 && this.zone.toUpperCase() === 'UTC') return 'Z'
    const minutes = Math.abs(offset) / MINUTE_MS
    return `${offset < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}:${two(Math.floor(minutes % 60))}`
  }

  /** The local calendar day of `ms` as days since 1970-01-01. */
  private localDay(ms: number): number {
    return Math.floor((ms + this.offsetFromData(ms)) / DAY_MS)
  }

  /**
   * The first instant of a local calendar day (YYYY-MM-DD), in UTC ms. Usually its local
   * midnight; where the clocks skip midnight (some zones change there), the first time shown.
   */
  startOfDay(day: string): number {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
    const guess = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN
    if (!m || new Date(guess).toISOString().slice(0, 10) !== day) {
      throw new RangeError(`"${day}" is not a date of the form YYYY-MM-DD`)
    }
    const target = Math.floor(guess / DAY_MS)
    // Offsets lie within ±14 h (+14 in Kiribati, −12 at sea): the day starts in this range.
    // Local days only move forward with time, so the first instant of the day is found by
    // bisection, to the millisecond.
    let lo = guess - 15 * 3_600_000
    let hi = guess + 15 * 3_600_000
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      if (this.localDay(mid) >= target) hi = mid
      else lo = mid
    }
    return hi
  }

  /** The first instant of the local day after `day`. */
  startOfNextDay(day: string): number {
    const next = new Date(this.startOfDay(day) + 36 * 3_600_000)
    // A day lasts 23 to 25 hours: 36 h after its start is always within the next one.
    return this.startOfDay(
      new Date(next.getTime() + this.offsetFromData(next.getTime())).toISOString().slice(0, 10),
    )
  }
}
