import assert from 'node:assert/strict'
import { rangeBounds } from '../../../lib/net/allowlist'
import {
  checkAllowlistAdditions,
  checkAllowlistCoverage,
  coveredAddresses,
  describeAddressCount,
  formatAddressCount,
  isCoveredBy,
} from '../../../lib/net/allowlist-coverage'

const LIMITS = { maxIpv4Prefix: 16, maxIpv6Prefix: 48 }

function covered(...cidrs: string[]): bigint {
  return coveredAddresses(cidrs.map((c) => rangeBounds(c)!))
}

describe('lib/net/allowlist-coverage', () => {
  it('counts each address once, however the ranges overlap or touch', () => {
    assert.equal(covered('10.0.0.0/16', '10.0.5.0/24', '10.0.0.1/32'), 65_536n)
    assert.equal(covered('10.0.0.0/17', '10.0.128.0/17'), 65_536n)
    assert.equal(covered('10.0.0.0/24', '10.0.2.0/24', '10.0.2.0/24'), 512n)
    assert.equal(covered('0.0.0.0/1', '128.0.0.0/1'), 1n << 32n)
    assert.equal(covered('::/1', '8000::/1'), 1n << 128n)
    assert.equal(covered(), 0n)
  })

  it('refuses halves of the Internet that make a whole, in IPv4 and IPv6', () => {
    const v4 = checkAllowlistCoverage(['0.0.0.0/1'], '128.0.0.0/1', LIMITS)
    assert.deepEqual(v4, { family: 4, limitPrefix: 16, limit: 65_536n, covered: 1n << 32n })
    const v6 = checkAllowlistCoverage(['::/1'], '8000::/1', LIMITS)
    assert.deepEqual(v6, { family: 6, limitPrefix: 48, limit: 1n << 80n, covered: 1n << 128n })
  })

  it('judges several additions together, family by family', () => {
    // Each /17 fits alone; the blocks of one range are judged as the whole they make.
    const blocks = ['10.0.0.0/17', '10.0.128.0/17', '10.1.0.0/32']
    assert.equal(checkAllowlistAdditions([], blocks.slice(0, 2), LIMITS), null)
    assert.equal(checkAllowlistAdditions([], blocks, LIMITS)?.covered, 65_537n)
    assert.equal(checkAllowlistAdditions(['10.1.0.0/32'], blocks.slice(0, 2), LIMITS)?.family, 4)
    // An IPv6 addition is not judged by the IPv4 list, even one already over.
    assert.equal(checkAllowlistAdditions(['0.0.0.0/1'], ['2001:db8::/48'], LIMITS), null)
    const v6 = checkAllowlistAdditions([], ['10.0.0.0/24', '2001:db8::/47'], LIMITS)
    assert.equal(v6?.family, 6)
  })

  it('tells a block some entry already holds from one it does not', () => {
    const list = ['192.168.1.0/24', '2001:db8::/48']
    assert.equal(isCoveredBy(list, '192.168.1.16/30'), true)
    assert.equal(isCoveredBy(list, '192.168.1.0/24'), true)
    assert.equal(isCoveredBy(list, '192.168.0.0/23'), false)
    assert.equal(isCoveredBy(list, '2001:db8:0:1::/64'), true)
    // ::ffff:192.168.1.7 is IPv4; 2001:db8::/48 holds no IPv4 address.
    assert.equal(isCoveredBy(['::/1'], '192.168.1.7/32'), false)
    assert.equal(isCoveredBy([], '192.168.1.7/32'), false)
  })

  it('judges the union: pieces that fit alone but not together are refused', () => {
    assert.equal(checkAllowlistCoverage(['10.0.0.0/17'], '10.0.128.0/17', LIMITS), null)
    const over = checkAllowlistCoverage(['10.0.0.0/17', '10.0.128.0/17'], '10.1.0.0/32', LIMITS)
    assert.equal(over?.covered, 65_537n)
    // Inside what the list already covers: nothing more is opened.
    assert.equal(checkAllowlistCoverage(['10.0.0.0/16'], '10.0.9.0/24', LIMITS), null)
  })

  it('refuses one entry wider than the limit', () => {
    assert.equal(checkAllowlistCoverage([], '10.0.0.0/8', LIMITS)?.covered, 1n << 24n)
    assert.equal(checkAllowlistCoverage([], '2001:db8::/32', LIMITS)?.covered, 1n << 96n)
    assert.equal(checkAllowlistCoverage([], '2001:db8::/48', LIMITS), null)
  })

  it('counts IPv4-mapped IPv6 as IPv4, whichever way the entries are written', () => {
    const mapped = checkAllowlistCoverage(['10.0.0.0/17'], '::ffff:10.0.128.0/113', LIMITS)
    assert.equal(mapped, null)
    const over = checkAllowlistCoverage(['::ffff:10.0.0.0/112'], '::ffff:10.1.0.0/128', LIMITS)
    assert.equal(over?.family, 4)
    assert.equal(over?.covered, 65_537n)
  })

  it('judges only the family of the new entry', () => {
    // A list already over in IPv4 (an older, wider limit) still takes an IPv6 server.
    assert.equal(checkAllowlistCoverage(['10.0.0.0/8'], '2001:db8::1', LIMITS), null)
  })

  it('follows the operator’s limit', () => {
    const strict = { maxIpv4Prefix: 24, maxIpv6Prefix: 64 }
    assert.equal(checkAllowlistCoverage([], '192.0.2.0/24', strict), null)
    assert.equal(checkAllowlistCoverage(['192.0.2.0/24'], '198.51.100.1', strict)?.limit, 256n)
    assert.equal(checkAllowlistCoverage([], '2001:db8::/56', strict)?.limitPrefix, 64)
  })

  it('writes counts exactly, short only for large powers of two', () => {
    assert.equal(formatAddressCount(65_537n, ','), '65,537')
    assert.equal(formatAddressCount(1n << 32n, '\u202f'), '4\u202f294\u202f967\u202f296')
    assert.equal(formatAddressCount(1n << 80n, ','), '2^80')
    assert.equal(formatAddressCount((1n << 80n) + 1n, ','), '1,208,925,819,614,629,174,706,177')
    const words = { group: ',', one: 'one', addresses: (f: number) => `IPv${f} addresses` }
    assert.equal(describeAddressCount(1n << 24n, 4, words), '16,777,216 IPv4 addresses (one /8)')
    assert.equal(describeAddressCount(1n << 80n, 6, words), '2^80 IPv6 addresses (one /48)')
    assert.equal(describeAddressCount(65_537n, 4, words), '65,537 IPv4 addresses')
  })
})
