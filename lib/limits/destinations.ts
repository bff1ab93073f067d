import { isValidCountry } from '../phone'

/**
 * Where an account may send SMS. Its own country always; other countries (ISO 3166 codes) and
 * number ranges (`+881`, `+4474`) only when listed. Satellite and other non-geographic ranges
 * (+870, +881, +882, +883…) belong to no country, so only a `+prefix` entry opens them: they
 * cost many times a national SMS and are a classic target of SMS pumping fraud.
 */
export type DestinationList =
  { ok: true; entries: string[] } | { ok: false; message: string; entry: string }

const PREFIX = /^\+[1-9]\d{0,5}$/

/** Reads `FR, be, +881` into `['BE', 'FR', '+881']` (sorted, no repeats). */
export function parseDestinationList(text: string): DestinationList {
  const entries = new Set<string>()
  for (const raw of text.split(/[,\s]+/)) {
    const entry = raw.trim()
    if (!entry) continue
    if (PREFIX.test(entry)) entries.add(entry)
    else if (isValidCountry(entry)) entries.add(entry.toUpperCase())
    else
      return {
        ok: false,
        entry,
        message: `"${entry}" is neither a country code (such as FR or BE) nor a number prefix (such as +881)`,
      }
  }
  return { ok: true, entries: [...entries].sort() }
}

export interface Destination {
  e164: string
  /** ISO region; undefined for non-geographic numbers. */
  country: string | undefined
  callingCode: string
}

/** The destinations in force for an account: its own country first, then the listed ones. */
export function effectiveDestinations(ownCountry: string, listed: readonly string[]): string[] {
  return [ownCountry, ...listed.filter((e) => e !== ownCountry)]
}

/** Null when allowed; otherwise how to name the destination in the refusal. */
export function refusedDestination(to: Destination, allowed: readonly string[]): string | null {
  if (to.country && allowed.includes(to.country)) return null
  if (allowed.some((e) => e.startsWith('+') && to.e164.startsWith(e))) return null
  return to.country
    ? `in ${to.country}`
    : `a satellite or other non-geographic number (+${to.callingCode})`
}
