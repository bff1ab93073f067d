import { formatIp, parseStrictIp, type ParsedIp } from './allowlist'

/**
 * Address ranges written first-last (`192.168.1.1-192.168.1.20`), as firewalls and hosting
 * panels show them, turned into the CIDR blocks an IP list stores.
 */

export type RangeProblem =
  /** One end is not a single address (a CIDR block, a name, a typo). */
  | 'not_an_address'
  /** The first address comes after the last. */
  | 'reversed'
  /** One end is IPv4 and the other IPv6. */
  | 'mixed_families'

export type RangeToCidrs =
  | { ok: true; family: 4 | 6; cidrs: string[] }
  | { ok: false; problem: RangeProblem; message: string }

const BITS = { 4: 32n, 6: 128n } as const

function valueOf(ip: ParsedIp): bigint {
  return BigInt(ip.value)
}

function ipOf(family: 4 | 6, value: bigint): ParsedIp {
  return family === 4 ? { family, value: Number(value) } : { family, value }
}

/** log2 of a power of two. */
function log2(power: bigint): bigint {
  return BigInt(power.toString(2).length - 1)
}

/**
 * The fewest CIDR blocks that together hold exactly the addresses from `from` to `to`, both
 * included, in address order. Greedy from the low end: each block is the largest one that
 * starts at the next address not yet covered (aligned on its own size) and does not pass `to`.
 * No cover can do with fewer blocks, since a block that started there could not be larger.
 * IPv4-mapped IPv6 ends count as IPv4, as everywhere in the IP list.
 */
export function rangeToCidrs(from: string, to: string): RangeToCidrs {
  const first = parseStrictIp(from.trim())
  const last = parseStrictIp(to.trim())
  if (!first || !last) {
    const bad = first ? to.trim() : from.trim()
    return {
      ok: false,
      problem: 'not_an_address',
      message: `"${bad}" is not a single IP address: a range goes from one address to another`,
    }
  }
  if (first.family !== last.family) {
    return {
      ok: false,
      problem: 'mixed_families',
      message: `a range cannot go from an IPv${first.family} address to an IPv${last.family} one`,
    }
  }
  const family = first.family
  let next = valueOf(first)
  const end = valueOf(last)
  if (next > end) {
    return {
      ok: false,
      problem: 'reversed',
      message: `${formatIp(first)} comes after ${formatIp(last)}: write the lower address first`,
    }
  }
  const bits = BITS[family]
  const cidrs: string[] = []
  while (next <= end) {
    // The largest block aligned on `next`: its lowest set bit (the whole space at address 0).
    let size = next === 0n ? 1n << bits : next & -next
    while (next + size - 1n > end) size >>= 1n
    cidrs.push(`${formatIp(ipOf(family, next))}/${bits - log2(size)}`)
    next += size
  }
  return { ok: true, family, cidrs }
}

// Either end is an IPv4 or IPv6 address, neither of which holds a dash; an en dash is what a
// word processor makes of one.
const DASH_RANGE = /^\s*([^\s\-–]+)\s*[-–]\s*([^\s\-–]+)\s*$/

/**
 * A first-last range as typed, spaces around the dash allowed; null when the text is not
 * written as one (a single address or a CIDR block is the IP list's own parser's business).
 */
export function parseDashRange(input: string): RangeToCidrs | null {
  const match = DASH_RANGE.exec(input)
  return match ? rangeToCidrs(match[1], match[2]) : null
}
