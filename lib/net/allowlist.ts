import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/**
 * Why an entry was refused, for a page to word in its own language; `message` says the same in
 * English for the command line and the config file.
 */
export type AllowlistProblem =
  | { kind: 'empty' }
  | { kind: 'not_an_address' }
  | { kind: 'zone_id'; zone: string }
  | { kind: 'bad_prefix'; prefix: string; family: 4 | 6; max: number }
  | { kind: 'mapped_too_wide'; suggestion: string }
  /** `10.0.0.5/8`: the network is `network`, the single address `address`. */
  | { kind: 'host_bits'; network: string; address: string }
  /** `0.0.0.0/0` or `::/0`. */
  | { kind: 'whole_internet'; family: 4 | 6; cidr: string }

export type AllowlistEntryParse =
  | { ok: true; cidr: string; family: 4 | 6 }
  | { ok: false; message: string; problem: AllowlistProblem }

export interface AllowlistRow {
  accountId: number
  cidr: string
}

type Family = 4 | 6

// One parsed address as an integer: uint32 for IPv4 fits a JS number exactly,
// IPv6 needs 128 bits, hence bigint.
export type ParsedIp = { family: 4; value: number } | { family: 6; value: bigint }

interface ParsedRange {
  family: Family
  prefix: number
  address: ParsedIp
  network: ParsedIp
}

const EXAMPLES = 'e.g. 192.0.2.10, 192.0.2.0/24 or 2001:db8::/48'
const ALL_V6_BITS = (1n << 128n) - 1n

// Precomputed once: lookups mask the client address for every prefix in use.
const V4_MASKS = Array.from({ length: 33 }, (_, prefix) =>
  // `<< 32` is a no-op in JS, so /0 needs its own case.
  prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0,
)
const V6_MASKS = Array.from(
  { length: 129 },
  (_, prefix) => ALL_V6_BITS ^ ((1n << BigInt(128 - prefix)) - 1n),
)

function applyMask(ip: ParsedIp, prefix: number): ParsedIp {
  return ip.family === 4
    ? { family: 4, value: (ip.value & V4_MASKS[prefix]) >>> 0 }
    : { family: 6, value: ip.value & V6_MASKS[prefix] }
}

function parseV4(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number)
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0
}

function parseV6(text: string): bigint {
  // A trailing dotted quad (`::ffff:1.2.3.4`) stands for the last two groups.
  const lastColon = text.lastIndexOf(':')
  if (text.includes('.', lastColon)) {
    const v4 = parseV4(text.slice(lastColon + 1))
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`
  }
  const [left, right] = text.split('::')
  const head = left ? left.split(':') : []
  const tail = right ? right.split(':') : []
  const groups = [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail]
  let value = 0n
  for (const group of groups) value = (value << 16n) | BigInt(parseInt(group, 16))
  return value
}

/** Dotted quad for IPv4; RFC 5952 text for IPv6. */
export function formatIp(ip: ParsedIp): string {
  if (ip.family === 4) {
    const v = ip.value
    return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.')
  }
  const parts: number[] = []
  for (let shift = 112n; shift >= 0n; shift -= 16n)
    parts.push(Number((ip.value >> shift) & 0xffffn))
  return new ipaddr.IPv6(parts).toRFC5952String()
}

/**
 * Strict address parsing: node:net refuses the inet_aton shorthands
 * (`127.1`, `0x7f.0.0.1`, leading zeros) that an admin never means. The
 * conversion is done here rather than with ipaddr.js 2.5, which reads the
 * deprecated IPv4-compatible form `::10.0.0.1` as if it were IPv4-mapped.
 * IPv4-mapped IPv6 comes back as IPv4, because that is how Node reports IPv4
 * clients on a dual-stack socket.
 */
export function parseStrictIp(text: string): ParsedIp | undefined {
  const family = isIP(text)
  if (family === 4) return { family: 4, value: parseV4(text) }
  if (family === 0 || text.includes('%')) return undefined
  const value = parseV6(text)
  if (value >> 32n === 0xffffn) return { family: 4, value: Number(value & 0xffffffffn) }
  return { family: 6, value }
}

type RangeParse =
  { ok: true; range: ParsedRange } | { ok: false; message: string; problem: AllowlistProblem }

function refusal(problem: AllowlistProblem, message: string): RangeParse & { ok: false } {
  return { ok: false, message, problem }
}

function parseRange(input: string): RangeParse {
  const text = input.trim()
  if (text === '') {
    return refusal(
      { kind: 'empty' },
      `Enter an IP address or a range in CIDR notation (${EXAMPLES}).`,
    )
  }
  const slash = text.indexOf('/')
  const addrText = slash === -1 ? text : text.slice(0, slash)
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1)

  if (addrText.includes('%')) {
    const zone = addrText.slice(addrText.indexOf('%'))
    return refusal(
      { kind: 'zone_id', zone },
      `"${text}" has an interface suffix (${zone}), which only means something on one machine: enter the address without it.`,
    )
  }
  const written = isIP(addrText)
  const address = parseStrictIp(addrText)
  if (written === 0 || !address) {
    return refusal(
      { kind: 'not_an_address' },
      `"${text}" is not an IP address or CIDR range (${EXAMPLES}).`,
    )
  }

  const writtenFamily: Family = written === 4 ? 4 : 6
  const writtenMax = written === 4 ? 32 : 128
  let prefix = writtenMax
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > writtenMax) {
      return refusal(
        { kind: 'bad_prefix', prefix: prefixText, family: writtenFamily, max: writtenMax },
        `"/${prefixText}" is not a valid prefix length for IPv${written} (0 to ${writtenMax}).`,
      )
    }
    prefix = Number(prefixText)
  }

  if (written === 6 && address.family === 4) {
    // ::ffff:a.b.c.d/n covers IPv4 only when n leaves the ::ffff: part fixed.
    if (prefix < 96) {
      const suggestion = `${formatIp(address)}/24`
      return refusal(
        { kind: 'mapped_too_wide', suggestion },
        `"${text}" mixes IPv4-mapped and plain IPv6 addresses: enter the IPv4 range instead (e.g. ${suggestion}).`,
      )
    }
    prefix -= 96
  }

  return {
    ok: true,
    range: { family: address.family, prefix, address, network: applyMask(address, prefix) },
  }
}

function formatRange(range: ParsedRange): string {
  return `${formatIp(range.network)}/${range.prefix}`
}

/**
 * Validates what an account admin types into the IP allowlist form. Host bits
 * (`192.168.1.7/24`) are refused rather than masked: whoever typed them meant
 * either the single address or the network, and guessing wrong silently would
 * open or close a whole range. A /0 is refused too, because it lets any host
 * on the Internet send as the account's senders, which defeats the allowlist;
 * SPF is the tool for "wherever my domain says". A /0 is named as such even
 * with host bits, so that nobody is offered 0.0.0.0/0 as "the network you meant".
 */
export function parseAllowlistEntry(input: string): AllowlistEntryParse {
  const parsed = parseRange(input)
  if (!parsed.ok) return parsed
  const { range } = parsed
  const network = formatRange(range)
  if (range.prefix === 0) {
    return refusal(
      { kind: 'whole_internet', family: range.family, cidr: network },
      `${network} would allow every IPv${range.family} address on the Internet; enter your mail servers' addresses or ranges instead.`,
    )
  }
  if (range.network.value !== range.address.value) {
    const address = formatIp(range.address)
    return refusal(
      { kind: 'host_bits', network, address },
      `${input.trim()} has host bits set: the network is ${network}. Enter ${network} for the whole range, or ${address} alone for that one address.`,
    )
  }
  return { ok: true, cidr: network, family: range.family }
}

/** First and last address of a range, both as bigint (IPv4 too, so that sums never round). */
export interface RangeBounds {
  family: Family
  first: bigint
  last: bigint
}

/**
 * The addresses a stored entry covers; undefined when it does not parse. IPv4-mapped IPv6
 * ranges come back as IPv4, as the MX matches them.
 */
export function rangeBounds(cidr: string): RangeBounds | undefined {
  const parsed = parseRange(cidr)
  if (!parsed.ok) return undefined
  const { family, prefix, network } = parsed.range
  const bits = family === 4 ? 32 : 128
  const first = BigInt(network.value)
  return { family, first, last: first + (1n << BigInt(bits - prefix)) - 1n }
}

/**
 * Parses a client address as reported by a socket; undefined when it is not one. IPv4-mapped
 * IPv6 comes back as IPv4.
 */
export function parseClientIp(ip: string): ParsedIp | undefined {
  // Link-local peers come with a zone id (`fe80::1%eth0`); the allowlist
  // cannot name zones, so match on the address alone.
  const zone = ip.indexOf('%')
  return parseStrictIp(zone === -1 ? ip : ip.slice(0, zone))
}

/**
 * Whom a client counts as, for the limits that count per client (login tries, connections):
 * the IPv4 address, or the IPv6 /64. One host is usually given a whole /64 (RFC 6177), and
 * counting its addresses one by one would give it 2^64 fresh budgets. IPv4 mapped into IPv6
 * (::ffff:192.0.2.1, as a dual-stack socket reports it) counts as the IPv4 address. Text that
 * is no address comes back trimmed and lower-cased.
 */
export function clientNetwork(ip: string): string {
  const address = ip.trim().replace(/%.*$/, '').toLowerCase()
  const parsed = parseClientIp(address)
  if (!parsed) return address
  if (parsed.family === 4) return formatIp(parsed)
  // The first four groups, as hex without leading zeros.
  const prefix = [112n, 96n, 80n, 64n].map((shift) =>
    ((parsed.value >> shift) & 0xffffn).toString(16),
  )
  return `${prefix.join(':')}::/64`
}

/**
 * Per family: prefix length → network → accounts. A lookup masks the client
 * address once per distinct prefix length in use (a handful in practice), so
 * its cost does not grow with the number of entries.
 */
class FamilyIndex<K extends number | string> {
  private readonly byPrefix = new Map<number, Map<K, Set<number>>>()
  private prefixes: number[] = []

  add(prefix: number, network: K, accountId: number): void {
    let networks = this.byPrefix.get(prefix)
    if (!networks) {
      networks = new Map()
      this.byPrefix.set(prefix, networks)
      this.prefixes = [...this.byPrefix.keys()].sort((a, b) => b - a)
    }
    let accounts = networks.get(network)
    if (!accounts) {
      accounts = new Set()
      networks.set(network, accounts)
    }
    accounts.add(accountId)
  }

  collect(mask: (prefix: number) => K, into: Set<number>): void {
    for (const prefix of this.prefixes) {
      const accounts = this.byPrefix.get(prefix)?.get(mask(prefix))
      if (accounts) for (const id of accounts) into.add(id)
    }
  }
}

export class IpAllowlist {
  private readonly v4 = new FamilyIndex<number>()
  // Keyed by hex string: V8 hashes 128-bit bigint Map keys that share their
  // top bits (every 2001:db8:x::/48) so poorly that lookups were ~30x slower.
  private readonly v6 = new FamilyIndex<string>()
  /** Rows that could not be read; the caller may log them. They match nothing. */
  readonly invalid: AllowlistRow[] = []
  private count = 0

  /**
   * Rows come from the database, already validated by parseAllowlistEntry
   * when written. Stray host bits are masked here rather than dropping the
   * row, and an unreadable row is set aside instead of throwing, so that one
   * bad row cannot stop the MX from starting.
   */
  constructor(entries: AllowlistRow[]) {
    for (const entry of entries) {
      const parsed = parseRange(entry.cidr)
      if (!parsed.ok) {
        this.invalid.push(entry)
        continue
      }
      const { range } = parsed
      if (range.network.family === 4)
        this.v4.add(range.prefix, range.network.value, entry.accountId)
      else this.v6.add(range.prefix, range.network.value.toString(16), entry.accountId)
      this.count++
    }
  }

  get size(): number {
    return this.count
  }

  /** Accounts whose allowlist contains `ip`; empty for anything that is not an IP address. */
  accountsFor(ip: string): Set<number> {
    const found = new Set<number>()
    const client = parseClientIp(ip)
    if (!client) return found
    if (client.family === 4) {
      const value = client.value
      this.v4.collect((prefix) => (value & V4_MASKS[prefix]) >>> 0, found)
    } else {
      const value = client.value
      this.v6.collect((prefix) => (value & V6_MASKS[prefix]).toString(16), found)
    }
    return found
  }
}
