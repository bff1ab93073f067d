import { rangeBounds, type RangeBounds } from './allowlist'

/**
 * How much of the address space one account's IP list may open. Refusing 0.0.0.0/0 alone is
 * not enough: 0.0.0.0/1 plus 128.0.0.0/1 (or a pile of /8s) let the whole Internet send as
 * the account's senders just the same. So the limit is on the union of the entries, after
 * merging overlaps, and is expressed as a prefix: "at most as many addresses as one /16".
 */
export interface AllowlistLimits {
  maxIpv4Prefix: number
  maxIpv6Prefix: number
}

export const DEFAULT_ALLOWLIST_LIMITS: AllowlistLimits = { maxIpv4Prefix: 16, maxIpv6Prefix: 48 }

export interface CoverageExcess {
  family: 4 | 6
  /** The operator's limit, as the prefix length of one range of that size. */
  limitPrefix: number
  limit: bigint
  /** Addresses the list would cover with the new entry. */
  covered: bigint
}

const FAMILY_BITS = { 4: 32, 6: 128 } as const

/** Addresses covered by the ranges of one family, each counted once however they overlap. */
export function coveredAddresses(ranges: RangeBounds[]): bigint {
  const sorted = [...ranges].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0))
  let total = 0n
  let start = -1n
  let end = -2n
  for (const r of sorted) {
    if (r.first > end + 1n) {
      if (end >= start && start >= 0n) total += end - start + 1n
      start = r.first
      end = r.last
    } else if (r.last > end) {
      end = r.last
    }
  }
  if (start >= 0n) total += end - start + 1n
  return total
}

/**
 * Whether adding `cidr` to an account's `existing` entries keeps its family within the limit;
 * the excess when it does not. Only the new entry's family is judged, so a list that was
 * already over (an older, wider limit) can still take entries of the other family.
 */
export function checkAllowlistCoverage(
  existing: string[],
  cidr: string,
  limits: AllowlistLimits,
): CoverageExcess | null {
  return checkAllowlistAdditions(existing, [cidr], limits)
}

/**
 * The same for several entries added at once (the blocks of a first-last range): the list with
 * all of them, family by family, for each family they add to; the first excess found.
 */
export function checkAllowlistAdditions(
  existing: string[],
  cidrs: string[],
  limits: AllowlistLimits,
): CoverageExcess | null {
  const added = cidrs.map(rangeBounds).filter((r): r is RangeBounds => r !== undefined)
  const kept = existing.map(rangeBounds).filter((r): r is RangeBounds => r !== undefined)
  for (const family of [4, 6] as const) {
    const mine = added.filter((r) => r.family === family)
    if (mine.length === 0) continue
    const covered = coveredAddresses([...kept.filter((r) => r.family === family), ...mine])
    const limitPrefix = family === 4 ? limits.maxIpv4Prefix : limits.maxIpv6Prefix
    const limit = 1n << BigInt(FAMILY_BITS[family] - limitPrefix)
    if (covered > limit) return { family, limitPrefix, limit, covered }
  }
  return null
}

/** Whether some entry of `existing` already holds every address of `cidr`. */
export function isCoveredBy(existing: string[], cidr: string): boolean {
  const inner = rangeBounds(cidr)
  if (!inner) return false
  return existing.some((entry) => {
    const outer = rangeBounds(entry)
    return (
      outer !== undefined &&
      outer.family === inner.family &&
      outer.first <= inner.first &&
      inner.last <= outer.last
    )
  })
}

/**
 * "65,536" for what fits a sentence, "2^80" for what does not; `group` separates thousands.
 * Exact either way: coverage is a sum of powers of two, so the short form is used only for
 * exact powers and anything else beyond 2^53 is written out in full.
 */
export function formatAddressCount(n: bigint, group: string): string {
  const isPowerOfTwo = n > 0n && (n & (n - 1n)) === 0n
  if (isPowerOfTwo && n > 1n << 32n) return `2^${n.toString(2).length - 1}`
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, group)
}

/** The prefix of one range of exactly `n` addresses, or null when no single range has that size. */
export function exactPrefix(n: bigint, family: 4 | 6): number | null {
  if (n <= 0n || (n & (n - 1n)) !== 0n) return null
  const prefix = FAMILY_BITS[family] - (n.toString(2).length - 1)
  return prefix >= 0 ? prefix : null
}

/**
 * "4,294,967,296 IPv4 addresses (one /0)" in the reader's words: `group` separates thousands,
 * `addresses` names the family, `one` reads "one /16"; the range is named only when a single
 * range holds exactly that many.
 */
export function describeAddressCount(
  n: bigint,
  family: 4 | 6,
  words: { group: string; one: string; addresses: (family: number) => string },
): string {
  const count = formatAddressCount(n, words.group)
  const prefix = exactPrefix(n, family)
  const range = prefix === null ? '' : ` (${words.one} /${prefix})`
  return `${count} ${words.addresses(family)}${range}`
}
