/**
 * Calendar days and times in an IANA time zone, with the zone data Node carries (Intl): the
 * account's zone (its chart's days, the dates its admin reads, the day each SMS is counted on)
 * and the export's --tz.
 *
 * Days are numbered like UTC days, from 1970-01-01 = 0: the local day of an instant is the
 * number of the UTC day that has the same calendar date. So a day number is a date, whatever
 * the zone, and `dateOf` needs no zone.
 *
 * `new Intl.DateTimeFormat` costs about 0.2 ms: every formatter here is made once per zone (and
 * language) for the process, and offsets are cached per quarter hour, so that the MX can give
 * each SMS its local day for the price of two Map lookups.
 */

const MINUTE_MS = 60_000
export const DAY_MS = 86_400_000

const two = (n: number): string => (n < 10 ? `0${n}` : String(n))
/** Offsets change at whole quarter hours of UTC in every zone since the 1970s. */
const BUCKET_MS = 15 * MINUTE_MS
/** Bounds of the per-zone caches: enough for years of days, small in memory. */
const CACHE_LIMIT = 100_000

export class TimeZoneError extends Error {
  override name = 'TimeZoneError'
}

/** A day number (days since 1970-01-01) as YYYY-MM-DD. */
export function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

/** The day number of a YYYY-MM-DD date; RangeError for anything else or a date that does not exist. */
export function dayOfDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const ms = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN
  if (!m || !Number.isFinite(ms) || dateOf(ms / DAY_MS) !== date) {
    throw new RangeError(`"${date}" is not a date of the form YYYY-MM-DD`)
  }
  return ms / DAY_MS
}

export class TimeZone {
  /** The zone's canonical name, as Intl spells it (europe/paris → Europe/Paris). */
  readonly name: string
  private readonly parts: Intl.DateTimeFormat
  private readonly offsets = new Map<number, number>()
  private readonly dayStarts = new Map<number, number>()
  private readonly dates = new Map<number, string>()

  /** Throws TimeZoneError for a name the zone data does not know. */
  constructor(zone: string) {
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
    this.name = this.parts.resolvedOptions().timeZone
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
    if (this.offsets.size > CACHE_LIMIT) this.offsets.clear()
    this.offsets.set(bucket, start)
    return start
  }

  /** The local calendar day of `ms`, as a day number. */
  dayOf(ms: number): number {
    return Math.floor((ms + this.offsetAt(ms)) / DAY_MS)
  }

  /**
   * The first instant of local day `day`, in UTC ms. Usually its local midnight; where the
   * clocks skip midnight (some zones change there), the first time shown.
   */
  startOfDay(day: number): number {
    if (!Number.isInteger(day)) throw new RangeError(`bad day number ${day}`)
    const known = this.dayStarts.get(day)
    if (known !== undefined) return known
    const start = this.findStartOfDay(day)
    if (this.dayStarts.size > CACHE_LIMIT) this.dayStarts.clear()
    this.dayStarts.set(day, start)
    return start
  }

  private findStartOfDay(day: number): number {
    // Local midnight, less the offset in force then: right unless a change falls near it.
    const midnight = day * DAY_MS
    const guess = midnight - this.offsetAt(midnight - this.offsetAt(midnight))
    if (this.dayOf(guess) === day && this.dayOf(guess - 1) < day) return guess
    // Offsets lie within ±14 h (+14 in Kiribati, −12 at sea): the day starts in this range.
    // Local days only move forward with time, so the first instant of the day is found by
    // bisection, to the millisecond.
    let lo = midnight - 15 * 3_600_000
    let hi = midnight + 15 * 3_600_000
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2)
      if (this.dayOf(mid) >= day) hi = mid
      else lo = mid
    }
    return hi
  }

  /** The first instant of a local calendar day given as YYYY-MM-DD (RangeError otherwise). */
  startOfDate(date: string): number {
    return this.startOfDay(dayOfDate(date))
  }

  /** The first instant of the local day after a YYYY-MM-DD date: the end of that day. */
  startOfNextDate(date: string): number {
    return this.startOfDay(dayOfDate(date) + 1)
  }

  /** ISO 8601 local time with its offset: 2026-03-29T03:30:00+02:00 (Z in UTC). */
  format(ms: number): string {
    const offset = this.offsetAt(ms)
    return `${this.localDateTime(ms, offset, 'T')}${this.offsetSuffix(offset)}`
  }

  /**
   * The local date and time, to the second, without the zone: 2026-03-29 03:30:00. For tables
   * that name the zone once, in their header.
   */
  localDateTime(ms: number, offset = this.offsetAt(ms), separator = ' '): string {
    const local = ms + offset
    const day = Math.floor(local / DAY_MS)
    const secondOfDay = Math.floor((local - day * DAY_MS) / 1000)
    const time = `${two(Math.floor(secondOfDay / 3600))}:${two(Math.floor(secondOfDay / 60) % 60)}:${two(secondOfDay % 60)}`
    return `${this.cachedDate(day)}${separator}${time}`
  }

  // Date#toISOString costs microseconds: a million rows each format a day already seen.
  private cachedDate(day: number): string {
    let date = this.dates.get(day)
    if (date === undefined) {
      date = dateOf(day)
      if (this.dates.size > CACHE_LIMIT) this.dates.clear()
      this.dates.set(day, date)
    }
    return date
  }

  private offsetSuffix(offset: number): string {
    if (offset === 0 && this.name === 'UTC') return 'Z'
    const minutes = Math.abs(offset) / MINUTE_MS
    return `${offset < 0 ? '-' : '+'}${two(Math.floor(minutes / 60))}:${two(Math.floor(minutes % 60))}`
  }
}

// One instance per zone name as given (and per canonical name), for the process.
const zones = new Map<string, TimeZone>()

/** The zone of that name, made once; throws TimeZoneError for a name Intl does not know. */
export function timeZone(name: string): TimeZone {
  let zone = zones.get(name)
  if (!zone) {
    zone = zones.get(new TimeZone(name).name) ?? new TimeZone(name)
    zones.set(name, zone)
    zones.set(zone.name, zone)
  }
  return zone
}

/**
 * The zone of that name, or UTC when the name is not one: for the MX's hot path, where a zone
 * name damaged in the database must not cost an SMS. Names are checked when they are saved.
 */
export function timeZoneOrUtc(name: string | null | undefined): TimeZone {
  if (!name) return timeZone('UTC')
  const known = zones.get(name) ?? unknownZones.get(name)
  if (known) return known
  try {
    return timeZone(name)
  } catch {
    // Remembered apart: timeZone() must go on refusing the name.
    const utc = timeZone('UTC')
    if (unknownZones.size > 1000) unknownZones.clear()
    unknownZones.set(name, utc)
    return utc
  }
}

// Names that are no zone, each served UTC by timeZoneOrUtc without asking Intl again.
const unknownZones = new Map<string, TimeZone>()

/** The canonical name of a zone (europe/paris → Europe/Paris), or null if Intl does not know it. */
export function canonicalTimeZone(name: string): string | null {
  const trimmed = name.trim()
  if (trimmed === '') return null
  try {
    return timeZone(trimmed).name
  } catch {
    return null
  }
}

let names: readonly string[] | null = null

/** The zones an account may choose from: Intl's list of IANA zones, and UTC. */
export function timeZoneNames(): readonly string[] {
  names ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]
  return names
}

export type DateLang = 'fr' | 'en'

const dateTimeFormats = new Map<string, Intl.DateTimeFormat>()

/**
 * A date and time for a reader of that language, in that zone, with the zone's short name
 * ("6 déc. 2026, 14:05 UTC+1", "6 Dec 2026, 14:05 CET"), so nobody has to guess which zone.
 * Empty for no time. A zone Intl does not know is shown in UTC.
 */
export function formatDateTime(
  ms: number | null | undefined,
  lang: DateLang,
  zone = 'UTC',
): string {
  if (ms == null) return ''
  const key = `${lang} ${zone}`
  let format = dateTimeFormats.get(key)
  if (!format) {
    format = new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'fr-FR', {
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone: timeZoneOrUtc(zone).name,
      timeZoneName: 'short',
    })
    dateTimeFormats.set(key, format)
  }
  return format.format(ms)
}
