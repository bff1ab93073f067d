/**
 * The instant a Date header names, read the same way on every MX node and every run: RFC 5322
 * §3.3 with the obsolete forms of §4.3, and the ISO 8601 form some scripts write. Never
 * `Date.parse`, which reads a zone-less date in the process's own time zone (two MX nodes would
 * disagree) and whose lenient forms differ between Node versions.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/** RFC 5322 §4.3's named zones, in minutes east of UTC. */
const NAMED_ZONES: Record<string, number> = {
  ut: 0,
  gmt: 0,
  z: 0,
  edt: -4 * 60,
  est: -5 * 60,
  cdt: -5 * 60,
  cst: -6 * 60,
  mdt: -6 * 60,
  mst: -7 * 60,
  pdt: -7 * 60,
  pst: -8 * 60,
}

// [day-of-week ","] day month year hour ":" minute [":" second] [zone]
const RFC5322 =
  /^(?:[a-z]{3,9}\s*,?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?\s*([+-]\d{4}|[a-z]{1,5})?$/i
const ISO8601 =
  /^(\d{4})-(\d{2})-(\d{2})[t ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(z|[+-]\d{2}:?\d{2})?$/i

/** Minutes east of UTC; a zone missing or unknown counts as UTC, as RFC 5322 §4.3 says. */
function zoneOffset(zone: string | undefined): number {
  if (!zone) return 0
  const numeric = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)
  if (numeric) {
    return (numeric[1] === '-' ? -1 : 1) * (Number(numeric[2]) * 60 + Number(numeric[3]))
  }
  return NAMED_ZONES[zone.toLowerCase()] ?? 0
}

/** RFC 5322 §4.3: a two-digit year below 50 is 20xx, else 19xx; a three-digit one adds 1900. */
function fullYear(year: string): number {
  const y = Number(year)
  if (year.length === 2) return y < 50 ? 2000 + y : 1900 + y
  return year.length === 3 ? 1900 + y : y
}

function instant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  zone: string | undefined,
): number | null {
  if (month < 0 || month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return null
  return Date.UTC(year, month, day, hour, minute, second) - zoneOffset(zone) * 60_000
}

/** Epoch milliseconds of a Date header's text, or null when it is not a date. */
export function parseDateHeader(text: string): number | null {
  // Comments (a zone's name after its offset) and folding carry no time.
  const value = text
    .replace(/\([^()]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  const rfc = RFC5322.exec(value)
  if (rfc) {
    const [, day, month, year, hour, minute, second, zone] = rfc
    return instant(
      fullYear(year),
      MONTHS.indexOf(month.toLowerCase()),
      Number(day),
      Number(hour),
      Number(minute),
      Number(second ?? 0),
      zone,
    )
  }
  const iso = ISO8601.exec(value)
  if (iso) {
    const [, year, month, day, hour, minute, second, zone] = iso
    return instant(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour),
      Number(minute),
      Number(second ?? 0),
      zone,
    )
  }
  return null
}
