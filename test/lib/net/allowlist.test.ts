import assert from 'node:assert/strict'
import { IpAllowlist, parseAllowlistEntry } from '../../../lib/net/allowlist'

function accepted(input: string): { cidr: string; family: 4 | 6 } {
  const parsed = parseAllowlistEntry(input)
  assert.ok(parsed.ok, `expected ${input} to be accepted: ${parsed.ok ? '' : parsed.message}`)
  return { cidr: parsed.cidr, family: parsed.family }
}

function refused(input: string): string {
  const parsed = parseAllowlistEntry(input)
  assert.ok(!parsed.ok, `expected ${input} to be refused, got ${parsed.ok ? parsed.cidr : ''}`)
  return parsed.message
}

describe('lib/net/allowlist', () => {
  describe('parseAllowlistEntry', () => {
    it('stores a single IPv4 address as /32', () => {
      assert.deepEqual(accepted('192.0.2.10'), { cidr: '192.0.2.10/32', family: 4 })
      assert.deepEqual(accepted('  198.51.100.7 '), { cidr: '198.51.100.7/32', family: 4 })
    })

    it('stores a single IPv6 address as /128 in its canonical short form', () => {
      assert.deepEqual(accepted('2001:0DB8:0000:0000:0000:0000:0000:0001'), {
        cidr: '2001:db8::1/128',
        family: 6,
      })
    })

    it('accepts IPv4 and IPv6 networks', () => {
      assert.deepEqual(accepted('192.168.1.0/24'), { cidr: '192.168.1.0/24', family: 4 })
      assert.deepEqual(accepted('10.0.0.0/8'), { cidr: '10.0.0.0/8', family: 4 })
      assert.deepEqual(accepted('2001:db8:abcd::/48'), { cidr: '2001:db8:abcd::/48', family: 6 })
      assert.deepEqual(accepted('2001:db8:0:1::/64'), { cidr: '2001:db8:0:1::/64', family: 6 })
      assert.deepEqual(accepted('192.0.2.9/32'), { cidr: '192.0.2.9/32', family: 4 })
      assert.deepEqual(accepted('2001:db8::9/128'), { cidr: '2001:db8::9/128', family: 6 })
    })

    it('stores IPv4-mapped IPv6 as IPv4', () => {
      assert.deepEqual(accepted('::ffff:1.2.3.4'), { cidr: '1.2.3.4/32', family: 4 })
      assert.deepEqual(accepted('::FFFF:192.0.2.0/120'), { cidr: '192.0.2.0/24', family: 4 })
    })

    it('refuses host bits and names the network the admin probably meant', () => {
      const message = refused('192.168.1.7/24')
      assert.match(message, /host bits/)
      assert.match(message, /192\.168\.1\.0\/24/)
      assert.match(message, /192\.168\.1\.7 alone/)
      assert.match(refused('2001:db8::1/64'), /2001:db8::\/64/)
    })

    it('says why, for a page to word: host bits with the network and the address', () => {
      const problemOf = (input: string) => {
        const parsed = parseAllowlistEntry(input)
        assert.ok(!parsed.ok, input)
        return parsed.problem
      }
      assert.deepEqual(problemOf('10.0.0.5/8'), {
        kind: 'host_bits',
        network: '10.0.0.0/8',
        address: '10.0.0.5',
      })
      assert.deepEqual(problemOf('2001:db8::1/32'), {
        kind: 'host_bits',
        network: '2001:db8::/32',
        address: '2001:db8::1',
      })
      assert.deepEqual(problemOf('::ffff:10.0.0.5/104'), {
        kind: 'host_bits',
        network: '10.0.0.0/8',
        address: '10.0.0.5',
      })
      assert.deepEqual(problemOf('0.0.0.0/0'), {
        kind: 'whole_internet',
        family: 4,
        cidr: '0.0.0.0/0',
      })
      assert.deepEqual(problemOf('::/0'), { kind: 'whole_internet', family: 6, cidr: '::/0' })
      assert.deepEqual(problemOf('::ffff:0.0.0.0/96'), {
        kind: 'whole_internet',
        family: 4,
        cidr: '0.0.0.0/0',
      })
      // A /0 with host bits is first of all a /0: 0.0.0.0/0 is no network to suggest.
      assert.equal(problemOf('10.0.0.5/0').kind, 'whole_internet')
      assert.deepEqual(problemOf('10.0.0.0/33'), {
        kind: 'bad_prefix',
        prefix: '33',
        family: 4,
        max: 32,
      })
      assert.deepEqual(problemOf('fe80::1%eth0'), { kind: 'zone_id', zone: '%eth0' })
      assert.deepEqual(problemOf('::ffff:10.0.0.0/80'), {
        kind: 'mapped_too_wide',
        suggestion: '10.0.0.0/24',
      })
      assert.equal(problemOf('mail.example.com').kind, 'not_an_address')
      assert.equal(problemOf(' ').kind, 'empty')
    })

    it('refuses /0, which would let any host in', () => {
      assert.match(refused('0.0.0.0/0'), /every IPv4 address/)
      assert.match(refused('::/0'), /every IPv6 address/)
    })

    it('refuses garbage with a message that shows what to type', () => {
      for (const input of ['', '   ', 'mail.example.com', '192.168.1', '256.1.1.1', '1.2.3.4.5']) {
        assert.match(refused(input), /192\.0\.2\.10|CIDR/, input)
      }
      // inet_aton shorthands are valid to some parsers but never what an admin means.
      for (const input of ['127.1', '0x7f.0.0.1', '010.0.0.1', '1.2.3.4/']) refused(input)
    })

    it('refuses a prefix length out of range for the family', () => {
      assert.match(refused('192.0.2.0/33'), /IPv4 \(0 to 32\)/)
      assert.match(refused('2001:db8::/129'), /IPv6 \(0 to 128\)/)
      assert.match(refused('192.0.2.0/-1'), /prefix length/)
      assert.match(refused('192.0.2.0/24/8'), /prefix length/)
    })

    it('refuses zone ids, which only mean something on one machine', () => {
      assert.match(refused('fe80::1%eth0'), /interface suffix \(%eth0\)/)
    })

    it('refuses an IPv4-mapped range wider than the mapped space', () => {
      assert.match(refused('::ffff:0.0.0.0/80'), /IPv4-mapped/)
    })
  })

  describe('IpAllowlist', () => {
    const list = new IpAllowlist([
      { accountId: 1, cidr: '192.0.2.10/32' },
      { accountId: 1, cidr: '2001:db8:1::/48' },
      { accountId: 2, cidr: '10.0.0.0/8' },
      { accountId: 3, cidr: '10.20.0.0/16' },
      { accountId: 4, cidr: '10.20.0.0/16' },
      { accountId: 5, cidr: '2001:db8:1:2::/64' },
      { accountId: 6, cidr: '2001:db8::7/128' },
    ])

    it('counts its entries', () => {
      assert.equal(list.size, 7)
    })

    it('matches a single IPv4 address and nothing next to it', () => {
      assert.deepEqual(list.accountsFor('192.0.2.10'), new Set([1]))
      assert.deepEqual(list.accountsFor('192.0.2.11'), new Set())
      assert.deepEqual(list.accountsFor('192.0.2.9'), new Set())
    })

    it('matches IPv4 ranges at both ends and not one past them', () => {
      assert.deepEqual(list.accountsFor('10.0.0.0'), new Set([2]))
      assert.deepEqual(list.accountsFor('10.255.255.255'), new Set([2]))
      assert.deepEqual(list.accountsFor('11.0.0.0'), new Set())
      assert.deepEqual(list.accountsFor('9.255.255.255'), new Set())
    })

    it('returns every account sharing a range, and the wider ranges around it', () => {
      assert.deepEqual(list.accountsFor('10.20.30.40'), new Set([2, 3, 4]))
      assert.deepEqual(list.accountsFor('10.21.0.1'), new Set([2]))
    })

    it('matches IPv6 /48, /64 and /128', () => {
      assert.deepEqual(list.accountsFor('2001:db8:1:ffff::1'), new Set([1]))
      assert.deepEqual(list.accountsFor('2001:db8:1:2:ffff:ffff:ffff:ffff'), new Set([1, 5]))
      assert.deepEqual(list.accountsFor('2001:db8:1:3::'), new Set([1]))
      assert.deepEqual(list.accountsFor('2001:db8::7'), new Set([6]))
      assert.deepEqual(list.accountsFor('2001:db8::8'), new Set())
      assert.deepEqual(list.accountsFor('2001:DB8:0:0:0:0:0:7'), new Set([6]))
    })

    it('matches IPv4 clients reported as IPv4-mapped IPv6 by a dual-stack socket', () => {
      assert.deepEqual(list.accountsFor('::ffff:10.0.0.1'), new Set([2]))
      assert.deepEqual(list.accountsFor('::FFFF:192.0.2.10'), new Set([1]))
    })

    it('ignores the zone id of a link-local client', () => {
      const local = new IpAllowlist([{ accountId: 9, cidr: 'fe80::/64' }])
      assert.deepEqual(local.accountsFor('fe80::1%eth0'), new Set([9]))
    })

    it('never matches across families', () => {
      // ::a00:1 has the same low 32 bits as 10.0.0.1.
      assert.deepEqual(list.accountsFor('::a00:1'), new Set())
      assert.deepEqual(list.accountsFor('::10.0.0.1'), new Set())
    })

    it('returns an empty set for anything that is not an IP address', () => {
      for (const ip of ['', 'localhost', '10.0.0', '10.0.0.0/8', 'undefined', '::ffff:999.0.0.1']) {
        assert.deepEqual(list.accountsFor(ip), new Set(), ip)
      }
    })

    it('handles /0 and /32 edges in stored entries', () => {
      const wide = new IpAllowlist([
        { accountId: 1, cidr: '0.0.0.0/0' },
        { accountId: 2, cidr: '::/0' },
        { accountId: 3, cidr: '255.255.255.255/32' },
      ])
      assert.deepEqual(wide.accountsFor('0.0.0.0'), new Set([1]))
      assert.deepEqual(wide.accountsFor('255.255.255.255'), new Set([1, 3]))
      assert.deepEqual(wide.accountsFor('::'), new Set([2]))
      assert.deepEqual(wide.accountsFor('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), new Set([2]))
    })

    it('sets aside unreadable rows and masks stray host bits instead of failing', () => {
      const rows = [
        { accountId: 1, cidr: 'not an ip' },
        { accountId: 2, cidr: '192.168.1.7/24' },
      ]
      const loose = new IpAllowlist(rows)
      assert.equal(loose.size, 1)
      assert.deepEqual(loose.invalid, [rows[0]])
      assert.deepEqual(loose.accountsFor('192.168.1.200'), new Set([2]))
    })

    it('returns a fresh set, so a caller cannot change the list', () => {
      list.accountsFor('10.0.0.1').add(42)
      assert.deepEqual(list.accountsFor('10.0.0.1'), new Set([2]))
    })

    it('answers correctly over many entries of both families', () => {
      const rows = []
      for (let i = 0; i < 20_000; i++) {
        rows.push({ accountId: i, cidr: `10.${(i >> 8) & 255}.${i & 255}.0/24` })
        rows.push({ accountId: i, cidr: `2001:db8:${i.toString(16)}::/48` })
      }
      const big = new IpAllowlist(rows)
      assert.equal(big.size, 40_000)
      assert.deepEqual(big.accountsFor('10.1.2.3'), new Set([258]))
      assert.deepEqual(big.accountsFor('2001:db8:102::9'), new Set([258]))
      assert.deepEqual(big.accountsFor('10.200.0.1'), new Set())
    })
  })
})
