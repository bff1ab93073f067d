import assert from 'node:assert/strict'
import { parseDashRange, rangeToCidrs } from '../../../lib/net/ip-range'
import { rangeBounds } from '../../../lib/net/allowlist'

function cidrs(from: string, to: string): string[] {
  const result = rangeToCidrs(from, to)
  assert.ok(result.ok, `${from}-${to}: ${result.ok ? '' : result.message}`)
  return result.cidrs
}

function problem(from: string, to: string): string {
  const result = rangeToCidrs(from, to)
  assert.ok(!result.ok, `${from}-${to} gave ${result.ok ? result.cidrs.join(' ') : ''}`)
  return result.problem
}

/** Whether the blocks follow each other with no gap or overlap from `from` to `to`. */
function coversExactly(blocks: string[], from: bigint, to: bigint): boolean {
  let next = from
  for (const block of blocks) {
    const bounds = rangeBounds(block)
    if (!bounds || bounds.first !== next) return false
    next = bounds.last + 1n
  }
  return next === to + 1n
}

// A small deterministic generator, so that a failure names a range that can be tried again.
function* pseudoRandom(seed: number): Generator<number> {
  let x = seed
  for (;;) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    yield x
  }
}

describe('lib/net/ip-range', () => {
  describe('rangeToCidrs', () => {
    it('gives a single address as one /32 or /128', () => {
      assert.deepEqual(cidrs('192.0.2.7', '192.0.2.7'), ['192.0.2.7/32'])
      assert.deepEqual(cidrs('2001:db8::1', '2001:db8::1'), ['2001:db8::1/128'])
    })

    it('gives a whole /24 as that block, and an aligned /23 as one block', () => {
      assert.deepEqual(cidrs('192.168.1.0', '192.168.1.255'), ['192.168.1.0/24'])
      assert.deepEqual(cidrs('10.0.0.0', '10.0.1.255'), ['10.0.0.0/23'])
    })

    it('splits an unaligned range into the fewest blocks, in address order', () => {
      // The same six blocks as Python's ipaddress.summarize_address_range.
      assert.deepEqual(cidrs('192.168.1.1', '192.168.1.20'), [
        '192.168.1.1/32',
        '192.168.1.2/31',
        '192.168.1.4/30',
        '192.168.1.8/29',
        '192.168.1.16/30',
        '192.168.1.20/32',
      ])
      assert.deepEqual(cidrs('192.0.2.255', '192.0.3.0'), ['192.0.2.255/32', '192.0.3.0/32'])
    })

    it('gives the whole IPv4 space as 0.0.0.0/0, and its worst case as 62 blocks', () => {
      assert.deepEqual(cidrs('0.0.0.0', '255.255.255.255'), ['0.0.0.0/0'])
      const worst = cidrs('0.0.0.1', '255.255.255.254')
      assert.equal(worst.length, 62)
      assert.equal(worst[0], '0.0.0.1/32')
      assert.equal(worst[31], '128.0.0.0/2')
      assert.equal(worst[61], '255.255.255.254/32')
      assert.ok(coversExactly(worst, 1n, 0xfffffffen))
    })

    it('handles IPv6 ranges, in RFC 5952 form', () => {
      assert.deepEqual(cidrs('2001:DB8::', '2001:db8:0:ffff:ffff:ffff:ffff:ffff'), [
        '2001:db8::/48',
      ])
      assert.deepEqual(cidrs('2001:db8::1', '2001:db8::ff'), [
        '2001:db8::1/128',
        '2001:db8::2/127',
        '2001:db8::4/126',
        '2001:db8::8/125',
        '2001:db8::10/124',
        '2001:db8::20/123',
        '2001:db8::40/122',
        '2001:db8::80/121',
      ])
      assert.deepEqual(cidrs('::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), ['::/0'])
    })

    it('reads IPv4-mapped ends as IPv4, as the IP list does', () => {
      assert.deepEqual(cidrs('::ffff:192.0.2.0', '192.0.2.127'), ['192.0.2.0/25'])
    })

    it('refuses a reversed range', () => {
      assert.equal(problem('192.168.1.20', '192.168.1.1'), 'reversed')
      assert.equal(problem('2001:db8::2', '2001:db8::1'), 'reversed')
    })

    it('refuses ends of two families', () => {
      assert.equal(problem('192.0.2.1', '2001:db8::1'), 'mixed_families')
      assert.equal(problem('::1', '127.0.0.1'), 'mixed_families')
    })

    it('refuses ends that are not single addresses', () => {
      for (const [from, to] of [
        ['192.0.2.0/24', '192.0.3.0'],
        ['192.0.2.1', 'mail.example.com'],
        ['127.1', '127.0.0.9'],
        ['fe80::1%eth0', 'fe80::9'],
      ]) {
        assert.equal(problem(from, to), 'not_an_address', `${from}-${to}`)
      }
    })

    it('covers random ranges exactly, never with more blocks than the bound', () => {
      const random = pseudoRandom(12)
      for (let i = 0; i < 500; i++) {
        const a = random.next().value * 2
        const span = random.next().value % (i % 2 === 0 ? 70_000 : 300)
        const first = Math.min(a, 0xffffffff - span)
        const last = first + span
        const ip = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
        const blocks = cidrs(ip(first), ip(last))
        assert.ok(coversExactly(blocks, BigInt(first), BigInt(last)), `${ip(first)}-${ip(last)}`)
        assert.ok(blocks.length <= 62)
        // Minimal: no two neighbours could merge into one aligned block of twice the size.
        for (let j = 1; j < blocks.length; j++) {
          const [a1, p1] = blocks[j - 1].split('/')
          const [, p2] = blocks[j].split('/')
          if (p1 !== p2) continue
          const size = 2 ** (32 - Number(p1))
          const start = rangeBounds(`${a1}/${p1}`)!.first
          assert.notEqual(start % BigInt(2 * size), 0n, `${blocks[j - 1]} + ${blocks[j]}`)
        }
      }
    })
  })

  describe('parseDashRange', () => {
    it('reads first-last with or without spaces, and an en dash', () => {
      for (const text of [
        '192.168.1.1-192.168.1.20',
        ' 192.168.1.1 - 192.168.1.20 ',
        '192.168.1.1 – 192.168.1.20',
      ]) {
        const parsed = parseDashRange(text)
        assert.ok(parsed?.ok, text)
        assert.equal(parsed.cidrs.length, 6)
      }
      const v6 = parseDashRange('2001:db8::1 - 2001:db8::ff')
      assert.ok(v6?.ok)
      assert.equal(v6.family, 6)
    })

    it('leaves anything not written as a range to the IP list parser', () => {
      for (const text of [
        '192.0.2.7',
        '192.0.2.0/24',
        '2001:db8::/48',
        '',
        'a-b-c',
        '-192.0.2.1',
      ]) {
        assert.equal(parseDashRange(text), null, text)
      }
    })

    it('passes on the problems of its ends', () => {
      const reversed = parseDashRange('10.0.0.9-10.0.0.1')
      assert.ok(reversed && !reversed.ok)
      assert.equal(reversed.problem, 'reversed')
      const mixed = parseDashRange('10.0.0.1 - ::1')
      assert.ok(mixed && !mixed.ok)
      assert.equal(mixed.problem, 'mixed_families')
    })
  })
})
