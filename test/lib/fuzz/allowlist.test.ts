import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ipThrottleKey } from '../../../lib/db/login-throttle'
import { IpAllowlist, parseAllowlistEntry, parseClientIp } from '../../../lib/net/allowlist'
import { clientAddress, TrustedProxies } from '../../../lib/net/client-ip'
import { checkProperty, show } from '../../support/fuzz'

/*
 * A reference model in bigint arithmetic, written apart from the code under test. Addresses are
 * generated as numbers and written out as text in the many ways people write them; the model
 * works on the numbers. As the allowlist documents, an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
 * is the IPv4 address, and an IPv6 range never holds an IPv4 client.
 */

type Family = 4 | 6
interface Address {
  family: Family
  value: bigint
}
interface Range extends Address {
  prefix: number
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 }
const MAPPED = 0xffffn << 32n

function canonical(address: Address): Address {
  if (address.family === 6 && address.value >> 32n === 0xffffn) {
    return { family: 4, value: address.value & 0xffffffffn }
  }
  return address
}

function hostMask(family: Family, prefix: number): bigint {
  return (1n << BigInt(BITS[family] - prefix)) - 1n
}

function contains(range: Range, address: Address): boolean {
  const a = canonical(address)
  return (
    a.family === range.family &&
    (a.value | hostMask(a.family, range.prefix)) ===
      (range.value | hostMask(a.family, range.prefix))
  )
}

function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.')
}

function groupsOf(value: bigint): number[] {
  return [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => Number((value >> shift) & 0xffffn))
}

/** RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups as `::`. */
function rfc5952(value: bigint): string {
  const groups = groupsOf(value)
  let best = { at: -1, length: 1 }
  for (let i = 0; i < 8;) {
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > best.length) best = { at: i, length: j - i }
    i = j === i ? i + 1 : j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best.at === -1) return hex.join(':')
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.length).join(':')}`
}

interface V6Style {
  upper: boolean
  pad: boolean
  // Which run of zero groups to write as `::` (index among the runs), or none.
  compress: number | null
  dottedTail: boolean
}

const v6Style: fc.Arbitrary<V6Style> = fc.record({
  upper: fc.boolean(),
  pad: fc.boolean(),
  compress: fc.option(fc.nat({ max: 3 }), { nil: null }),
  dottedTail: fc.boolean(),
})

/** Any valid way of writing `value` as IPv6 text. */
function v6Text(value: bigint, style: V6Style): string {
  let groups = groupsOf(value).map((g) => {
    const hex = style.pad ? g.toString(16).padStart(4, '0') : g.toString(16)
    return style.upper ? hex.toUpperCase() : hex
  })
  let tail = ''
  if (style.dottedTail) {
    tail = v4Text(value & 0xffffffffn)
    groups = groups.slice(0, 6)
  }
  const runs: Array<{ at: number; length: number }> = []
  for (let i = 0; i < groups.length; i++) {
    if (Number.parseInt(groups[i], 16) !== 0) continue
    let j = i
    while (j < groups.length && Number.parseInt(groups[j], 16) === 0) j++
    runs.push({ at: i, length: j - i })
    i = j
  }
  const join = (parts: string[]) => parts.join(':')
  if (style.compress === null || runs.length === 0) {
    return tail ? `${join(groups)}:${tail}` : join(groups)
  }
  const run = runs[style.compress % runs.length]
  const head = join(groups.slice(0, run.at))
  const rest = groups.slice(run.at + run.length)
  const after = tail ? join([...rest, tail]) : join(rest)
  return `${head}::${after}`
}

const v4Value = fc.oneof(
  fc.bigInt({ min: 0n, max: 0xffffffffn }),
  fc.constantFrom(0n, 0xffffffffn, 0x7f000001n, 0xc0000200n, 0x0a000000n),
)
const v6Value = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
  // Sparse values, so that `::` has zero runs to stand for.
  fc
    .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    })
    .map((groups) => groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n)),
  // IPv4-compatible (deprecated) and IPv4-mapped space, where the two families meet.
  v4Value,
  v4Value.map((v) => MAPPED | v),
  fc.constantFrom(0n, 1n, 0x20010db8n << 96n, 0xfe80n << 112n),
)

interface WrittenAddress {
  address: Address
  text: string
}

const writtenAddress: fc.Arbitrary<WrittenAddress> = fc.oneof(
  v4Value.map((value) => ({ address: { family: 4 as const, value }, text: v4Text(value) })),
  fc.tuple(v6Value, v6Style).map(([value, style]) => ({
    address: { family: 6 as const, value },
    text: v6Text(value, style),
  })),
  // How a dual-stack socket reports an IPv4 client.
  v4Value.map((value) => ({
    address: { family: 6 as const, value: MAPPED | value },
    text: `::ffff:${v4Text(value)}`,
  })),
)

interface WrittenRange {
  /** What the code should make of it, or null when it should refuse it. */
  range: Range | null
  hostBits: boolean
  text: string
}

function expectRange(
  address: Address,
  writtenPrefix: number,
): { range: Range | null; hostBits: boolean } {
  const c = canonical(address)
  // A mapped address with a prefix reaching into the ::ffff: part spans both families.
  if (address.family === 6 && c.family === 4 && writtenPrefix < 96)
    return { range: null, hostBits: false }
  const prefix = address.family === 6 && c.family === 4 ? writtenPrefix - 96 : writtenPrefix
  const network = c.value & ~hostMask(c.family, prefix)
  return { range: { family: c.family, value: network, prefix }, hostBits: network !== c.value }
}

const writtenRange: fc.Arbitrary<WrittenRange> = fc
  .tuple(
    writtenAddress,
    // The edges matter most: /0, the family widths, and 96 where mapped IPv6 becomes IPv4.
    fc.oneof(fc.nat({ max: 128 }), fc.constantFrom(0, 1, 31, 32, 33, 64, 95, 96, 97, 127, 128)),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([{ address, text }, rawPrefix, withPrefix, clearHostBits]) => {
    const max = BITS[address.family]
    const prefix = withPrefix ? rawPrefix % (max + 1) : max
    // Half the time the host bits are cleared first, else nearly every range has some.
    let value = address.value
    if (clearHostBits) {
      const c = canonical(address)
      const effective = address.family === 6 && c.family === 4 ? Math.max(prefix, 96) : prefix
      value = address.value & ~hostMask(address.family, effective)
    }
    const cleared = { family: address.family, value }
    const written =
      value === address.value
        ? text
        : address.family === 4
          ? v4Text(value)
          : text.startsWith('::ffff:') && text.includes('.')
            ? `::ffff:${v4Text(value & 0xffffffffn)}`
            : rfc5952(value)
    return {
      ...expectRange(cleared, prefix),
      text: withPrefix ? `${written}/${prefix}` : written,
    }
  })

function formatRange(range: Range): string {
  return `${range.family === 4 ? v4Text(range.value) : rfc5952(range.value)}/${range.prefix}`
}

const garbage = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .array(
      fc.constantFrom(
        ...'0123456789abcdefABCDEF:./% ',
        '::',
        'ffff',
        '255',
        '1.2.3.4',
        '/33',
        '%eth0',
      ),
      {
        maxLength: 16,
      },
    )
    .map((pieces) => pieces.join('')),
)

/** An address near a range, so that both sides of its boundary get tested. */
function nearby(range: Range, bits: bigint, flip: number): Address {
  const max = BITS[range.family]
  const inside = range.value | (bits & hostMask(range.family, range.prefix))
  const value = flip < max ? inside ^ (1n << BigInt(flip)) : inside
  return { family: range.family, value }
}

function addressText(address: Address, mapped: boolean, style: V6Style): string {
  if (address.family === 4)
    return mapped ? `::ffff:${v4Text(address.value)}` : v4Text(address.value)
  return v6Text(address.value, style)
}

describe('fuzz: lib/net/allowlist', () => {
  it('never throws on any text, and every entry it accepts reads back unchanged', () => {
    checkProperty(
      fc.property(
        fc.oneof(
          garbage,
          writtenRange.map((r) => r.text),
        ),
        (text) => {
          const entry = parseAllowlistEntry(text)
          parseClientIp(text)
          ipThrottleKey(text)
          new IpAllowlist([{ accountId: 1, cidr: text }]).accountsFor(text)
          clientAddress(text, `${text}, ${text}`, new TrustedProxies([text, '10.0.0.0/8']))
          if (!entry.ok) {
            assert.ok(entry.message.length > 0)
            return
          }
          assert.equal(entry.family, entry.cidr.includes(':') ? 6 : 4)
          assert.deepEqual(
            parseAllowlistEntry(entry.cidr),
            entry,
            `${show(text)} gave ${entry.cidr}`,
          )
        },
      ),
      400,
    )
  })

  it('accepts a range exactly when the model does, as the model writes it', () => {
    checkProperty(
      fc.property(writtenRange, ({ range, hostBits, text }) => {
        const entry = parseAllowlistEntry(text)
        const expected = range !== null && !hostBits && range.prefix > 0
        assert.equal(entry.ok, expected, `${text}: ${entry.ok ? entry.cidr : entry.message}`)
        if (entry.ok && range) {
          assert.equal(entry.cidr, formatRange(range), text)
          assert.equal(entry.family, range.family)
        }
      }),
      200,
    )
  })

  it('reads any client address as the model does', () => {
    checkProperty(
      fc.property(
        writtenAddress,
        fc.option(fc.constantFrom('%eth0', '%1')),
        ({ address, text }, zone) => {
          const parsed = parseClientIp(text + (zone ?? ''))
          const c = canonical(address)
          assert.ok(parsed, text)
          assert.equal(parsed.family, c.family, text)
          assert.equal(BigInt(parsed.value), c.value, text)
        },
      ),
      300,
    )
  })

  it('finds the same accounts as the model for addresses in, at and past the edges of ranges', () => {
    const rows = fc.array(
      fc.record({ accountId: fc.integer({ min: 1, max: 4 }), written: writtenRange }),
      { minLength: 1, maxLength: 6 },
    )
    const probe = fc.record({
      pick: fc.nat(),
      bits: fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
      flip: fc.nat({ max: 160 }),
      mapped: fc.boolean(),
      style: v6Style,
      zone: fc.boolean(),
    })
    checkProperty(
      fc.property(
        rows,
        fc.array(fc.oneof(probe, writtenAddress), { minLength: 1, maxLength: 6 }),
        (entries, probes) => {
          const list = new IpAllowlist(
            entries.map((e) => ({ accountId: e.accountId, cidr: e.written.text })),
          )
          // The table takes what the admin form refuses for host bits or /0: it masks them.
          const valid = entries.filter((e) => e.written.range !== null)
          assert.equal(list.size, valid.length)
          assert.equal(list.invalid.length, entries.length - valid.length)
          for (const p of probes) {
            let address: Address
            let text: string
            if ('text' in p) {
              address = p.address
              text = p.text
            } else {
              const target = valid.length > 0 ? valid[p.pick % valid.length].written.range : null
              if (!target) continue
              address = nearby(target, p.bits, p.flip)
              text =
                addressText(address, p.mapped, p.style) +
                (p.zone && address.family === 6 ? '%eth0' : '')
            }
            const expected = new Set(
              valid
                .filter((e) => contains(e.written.range as Range, address))
                .map((e) => e.accountId),
            )
            assert.deepEqual(
              list.accountsFor(text),
              expected,
              `${text} in ${entries.map((e) => e.written.text).join(', ')}`,
            )
          }
        },
      ),
      250,
    )
  })

  it('throttles an IPv4 client and its mapped form as one, and an IPv6 /64 as one', () => {
    checkProperty(
      fc.property(
        writtenAddress,
        v6Style,
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        ({ address, text }, style, low) => {
          const c = canonical(address)
          if (c.family === 4) {
            assert.equal(ipThrottleKey(text), ipThrottleKey(`::ffff:${v4Text(c.value)}`))
            assert.equal(ipThrottleKey(text), `ip:${v4Text(c.value)}`)
          } else {
            const neighbour = ((c.value >> 64n) << 64n) | low
            if (canonical({ family: 6, value: neighbour }).family === 4) return
            assert.equal(ipThrottleKey(text), ipThrottleKey(v6Text(neighbour, style)), text)
          }
        },
      ),
      200,
    )
  })
})
