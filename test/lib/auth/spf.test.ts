import assert from 'node:assert/strict'
import { checkSpf, type SpfInput } from '../../../lib/auth/spf'
import { createCachingResolver, type SpfResolver } from '../../../lib/net/dns-resolver'
import { startDnsServer, type DnsServer, type DnsZone } from '../../support/dns-server'

const ZONE: DnsZone = {
  'ip4.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 ip6:2001:db8:5::/48 -all'] },
  'include.test': { TXT: ['v=spf1 include:_spf.provider.test -all'] },
  '_spf.provider.test': { TXT: ['v=spf1 ip4:198.51.100.0/24 ~all'] },
  'amx.test': {
    TXT: ['v=spf1 a mx -all'],
    A: ['203.0.113.1'],
    MX: [{ priority: 10, exchange: 'mx.amx.test' }],
  },
  'mx.amx.test': { A: ['203.0.113.2'] },
  'fail.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  'softfail.test': { TXT: ['v=spf1 ip4:192.0.2.1 ~all'] },
  'neutral.test': { TXT: ['v=spf1 ip4:192.0.2.1 ?all'] },
  'nospf.test': { TXT: ['google-site-verification=abc'] },
  'norecords.test': { A: ['192.0.2.1'] },
  'two.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all', 'v=spf1 ~all'] },
  'syntax.test': { TXT: ['v=spf1 ip4:192.0.2.300 -all'] },
  'unknown.test': { TXT: ['v=spf1 foo:bar -all'] },
  'servfail.test': { servfail: true },
  'silent.test': { timeout: true },
  'include-servfail.test': { TXT: ['v=spf1 include:servfail.test -all'] },
  'include-silent.test': { TXT: ['v=spf1 include:silent.test -all'] },
  'include-slow.test': { TXT: ['v=spf1 include:slow.provider.test -all'] },
  'slow.provider.test': { TXT: ['v=spf1 ip4:198.51.100.0/24 -all'], resolvesAfterMs: 1000 },
  'helo.test': { TXT: ['v=spf1 ip4:192.0.2.77 -all'] },
  // A hoster that keeps one policy per domain it serves, named after that domain with %{d}.
  'redirect-macro.test': { TXT: ['v=spf1 redirect=_spf.hoster.test'] },
  'include-macro.test': { TXT: ['v=spf1 include:_spf.hoster.test -all'] },
  '_spf.hoster.test': { TXT: ['v=spf1 include:%{d}.hosts.hoster.test -all'] },
  '_spf.hoster.test.hosts.hoster.test': { TXT: ['v=spf1 ip4:198.51.100.77 -all'] },
  // What %{d} gave when it was taken from the sender: a policy without the client.
  'redirect-macro.test.hosts.hoster.test': { TXT: ['v=spf1 -all'] },
  'top-macro.test': { TXT: ['v=spf1 include:%{d}.hosts.hoster.test -all'] },
  'top-macro.test.hosts.hoster.test': { TXT: ['v=spf1 ip4:198.51.100.78 -all'] },
  // %{o} stays the sender's domain at every level.
  'o-macro.test': { TXT: ['v=spf1 include:_o.hoster.test -all'] },
  '_o.hoster.test': { TXT: ['v=spf1 exists:%{o}.senders.hoster.test -all'] },
  'o-macro.test.senders.hoster.test': { A: ['127.0.0.2'] },
}

describe('lib/auth/spf', () => {
  let server: DnsServer
  let resolver: ReturnType<typeof createCachingResolver>

  before(async () => {
    server = await startDnsServer(ZONE)
  })

  after(async () => {
    await server.close()
  })

  beforeEach(() => {
    server.queries.length = 0
    resolver = createCachingResolver({ servers: [server.server], timeoutMs: 150, tries: 1 })
  })

  function check(input: Partial<SpfInput> & { ip: string; sender: string }) {
    return checkSpf({ resolver, timeoutMs: 3000, mta: 'mx.sms.test', ...input })
  }

  describe('results', () => {
    it('passes an address listed with ip4:', async () => {
      const outcome = await check({ ip: '192.0.2.44', sender: 'alice@ip4.test' })
      assert.equal(outcome.result, 'pass')
      assert.equal(outcome.domain, 'ip4.test')
      assert.match(outcome.explanation, /designates 192\.0\.2\.44 as permitted sender/)
    })

    it('passes an address listed by an include:', async () => {
      const outcome = await check({ ip: '198.51.100.9', sender: 'bob@include.test' })
      assert.equal(outcome.result, 'pass')
      assert.ok(server.queries.some((q) => q.name === '_spf.provider.test'))
    })

    it('passes through the a and mx mechanisms', async () => {
      assert.equal((await check({ ip: '203.0.113.1', sender: 'c@amx.test' })).result, 'pass')
      assert.equal((await check({ ip: '203.0.113.2', sender: 'c@amx.test' })).result, 'pass')
      assert.equal((await check({ ip: '203.0.113.3', sender: 'c@amx.test' })).result, 'fail')
    })

    it('passes an IPv6 client listed with ip6:', async () => {
      const outcome = await check({ ip: '2001:db8:5::25', sender: 'alice@ip4.test' })
      assert.equal(outcome.result, 'pass')
    })

    it('reads an IPv4-mapped client address as IPv4', async () => {
      const outcome = await check({ ip: '::ffff:192.0.2.44', sender: 'alice@ip4.test' })
      assert.equal(outcome.result, 'pass')
      assert.match(outcome.explanation, /designates 192\.0\.2\.44 /)
    })

    it('fails on -all', async () => {
      const outcome = await check({ ip: '192.0.2.2', sender: 'x@fail.test' })
      assert.equal(outcome.result, 'fail')
      assert.match(outcome.explanation, /does not designate 192\.0\.2\.2/)
    })

    it('softfails on ~all, including an include:d policy that does not match', async () => {
      assert.equal((await check({ ip: '192.0.2.2', sender: 'x@softfail.test' })).result, 'softfail')
      // The include's ~all is not a match: the including record's -all decides.
      assert.equal((await check({ ip: '192.0.2.2', sender: 'x@include.test' })).result, 'fail')
    })

    it('is neutral on ?all', async () => {
      assert.equal((await check({ ip: '192.0.2.2', sender: 'x@neutral.test' })).result, 'neutral')
    })

    it('is none without an SPF record', async () => {
      assert.equal((await check({ ip: '192.0.2.2', sender: 'x@nospf.test' })).result, 'none')
      assert.equal((await check({ ip: '192.0.2.2', sender: 'x@norecords.test' })).result, 'none')
      const missing = await check({ ip: '192.0.2.2', sender: 'x@missing.test' })
      assert.equal(missing.result, 'none')
      assert.match(missing.explanation, /missing\.test does not designate permitted sender hosts/)
    })

    it('is a permerror with two SPF records', async () => {
      const outcome = await check({ ip: '192.0.2.1', sender: 'x@two.test' })
      assert.equal(outcome.result, 'permerror')
      assert.match(outcome.explanation, /multiple SPF records/)
    })

    it('is a permerror on a syntax error', async () => {
      const badIp = await check({ ip: '192.0.2.1', sender: 'x@syntax.test' })
      assert.equal(badIp.result, 'permerror')
      assert.match(badIp.explanation, /invalid IP address/)
      const unknown = await check({ ip: '192.0.2.1', sender: 'x@unknown.test' })
      assert.equal(unknown.result, 'permerror')
      assert.match(unknown.explanation, /Unknown mechanism foo/)
    })

    it('checks the HELO name for the null sender', async () => {
      const outcome = await check({ ip: '192.0.2.77', sender: '', helo: 'helo.test' })
      assert.equal(outcome.result, 'pass')
      assert.equal(outcome.domain, 'helo.test')
    })

    it('is none when there is neither a sender domain nor a HELO name', async () => {
      const outcome = await check({ ip: '192.0.2.77', sender: '' })
      assert.equal(outcome.result, 'none')
      assert.equal(server.queries.length, 0)
    })
  })

  describe('macros (RFC 7208 §7.3)', () => {
    const asked = (name: string) => server.queries.some((q) => q.name === name)

    it("expands %{d} to the domain of the record reached by redirect=, not the sender's", async () => {
      const outcome = await check({ ip: '198.51.100.77', sender: 'a@redirect-macro.test' })
      assert.equal(outcome.result, 'pass', outcome.explanation)
      assert.ok(asked('_spf.hoster.test.hosts.hoster.test'))
      assert.ok(!asked('redirect-macro.test.hosts.hoster.test'), 'expanded with the sender domain')
    })

    it("expands %{d} to the domain of the include:d record, not the sender's", async () => {
      const outcome = await check({ ip: '198.51.100.77', sender: 'a@include-macro.test' })
      assert.equal(outcome.result, 'pass', outcome.explanation)
      assert.ok(!asked('include-macro.test.hosts.hoster.test'), 'expanded with the sender domain')
      // Another client is still refused by the same policy.
      const other = await check({ ip: '198.51.100.78', sender: 'a@include-macro.test' })
      assert.equal(other.result, 'fail')
    })

    it("expands %{d} to the sender's domain in the sender's own record", async () => {
      const outcome = await check({ ip: '198.51.100.78', sender: 'a@top-macro.test' })
      assert.equal(outcome.result, 'pass', outcome.explanation)
      assert.ok(asked('top-macro.test.hosts.hoster.test'))
    })

    it("keeps %{o} on the sender's domain inside an include:", async () => {
      const outcome = await check({ ip: '192.0.2.9', sender: 'a@o-macro.test' })
      assert.equal(outcome.result, 'pass', outcome.explanation)
      assert.ok(asked('o-macro.test.senders.hoster.test'))
    })
  })

  describe('temporary errors', () => {
    it('is a temperror when the domain answers SERVFAIL', async () => {
      const outcome = await check({ ip: '192.0.2.1', sender: 'x@servfail.test' })
      assert.equal(outcome.result, 'temperror')
      assert.match(outcome.explanation, /ESERVFAIL/)
    })

    it('is a temperror, not a fail, when an include:d domain answers SERVFAIL', async () => {
      // mailauth 4.13 on its own skips the broken include and reaches -all.
      const outcome = await check({ ip: '192.0.2.1', sender: 'x@include-servfail.test' })
      assert.equal(outcome.result, 'temperror')
      assert.match(outcome.explanation, /servfail\.test/)
    })

    it('asks a DNS server that never answers again until its deadline, then is a temperror', async () => {
      const started = Date.now()
      const outcome = await check({ ip: '192.0.2.1', sender: 'x@silent.test', timeoutMs: 1000 })
      const elapsed = Date.now() - started
      assert.equal(outcome.result, 'temperror')
      assert.match(outcome.explanation, /timed out after 1000 ms/)
      assert.ok(elapsed >= 990 && elapsed < 1500, `took ${elapsed} ms`)
      // The resolver drops each query after 150 ms; the check asked again meanwhile.
      const asked = server.queries.filter((q) => q.name === 'silent.test').length
      assert.ok(asked >= 3, `${asked} queries`)
      const viaInclude = await check({
        ip: '192.0.2.1',
        sender: 'x@include-silent.test',
        timeoutMs: 1000,
      })
      assert.equal(viaInclude.result, 'temperror')
    })

    it('waits for a name that takes longer to resolve than the resolver waits for an answer', async () => {
      // The resolver drops a query after 150 ms; the name takes 1 s, well inside the deadline.
      const started = Date.now()
      const outcome = await check({ ip: '198.51.100.5', sender: 'x@include-slow.test' })
      assert.equal(outcome.result, 'pass', outcome.explanation)
      assert.ok(Date.now() - started >= 990)
      assert.ok(server.queries.filter((q) => q.name === 'slow.provider.test').length > 1)
    })

    it('gives up at its own deadline when DNS is slower than that', async () => {
      const patient = createCachingResolver({ servers: [server.server], timeoutMs: 5000, tries: 1 })
      const started = Date.now()
      const outcome = await checkSpf({
        ip: '192.0.2.1',
        sender: 'x@silent.test',
        resolver: patient,
        timeoutMs: 300,
      })
      const elapsed = Date.now() - started
      assert.equal(outcome.result, 'temperror')
      assert.equal(outcome.domain, 'silent.test')
      assert.match(outcome.explanation, /timed out after 300 ms/)
      assert.ok(elapsed >= 290 && elapsed < 1000, `took ${elapsed} ms`)
    })

    it('stops querying DNS once it has given up', async () => {
      // A fault no loopback server can show on cue: every lookup takes 200 ms.
      const chain: DnsZone = {}
      for (let i = 0; i < 8; i++)
        chain[`c${i}.test`] = { TXT: [`v=spf1 include:c${i + 1}.test -all`] }
      server.setZone({ ...ZONE, ...chain })
      const real = createCachingResolver({ servers: [server.server] })
      let lookups = 0
      const slow: SpfResolver = async (name, rrtype) => {
        lookups++
        await new Promise((resolve) => setTimeout(resolve, 200))
        return real(name, rrtype)
      }
      try {
        const outcome = await checkSpf({
          ip: '192.0.2.1',
          sender: 'x@c0.test',
          resolver: slow,
          timeoutMs: 250,
        })
        assert.equal(outcome.result, 'temperror')
        await new Promise((resolve) => setTimeout(resolve, 1000))
        assert.ok(lookups <= 3, `${lookups} lookups after the deadline`)
      } finally {
        server.setZone(ZONE)
      }
    })

    it('turns an unexpected failure into a temperror that says what happened', async () => {
      const broken: SpfResolver = async () => {
        throw new TypeError('resolver exploded')
      }
      const outcome = await checkSpf({
        ip: '192.0.2.1',
        sender: 'x@ip4.test',
        resolver: broken,
        timeoutMs: 1000,
      })
      assert.equal(outcome.result, 'temperror')
      assert.match(outcome.explanation, /resolver exploded/)
    })

    it('is a temperror for a client address that is not one', async () => {
      const outcome = await check({ ip: 'not-an-ip', sender: 'x@ip4.test' })
      assert.equal(outcome.result, 'temperror')
      assert.match(outcome.explanation, /not an IP address/)
      assert.equal(server.queries.length, 0)
    })
  })

  describe('caching', () => {
    it('answers a second check from the cache, as the server log shows', async () => {
      await check({ ip: '198.51.100.9', sender: 'a@include.test' })
      const queriesAfterFirst = server.queries.length
      assert.equal(queriesAfterFirst, 2)
      const second = await check({ ip: '198.51.100.10', sender: 'b@include.test' })
      assert.equal(second.result, 'pass')
      assert.equal(server.queries.length, queriesAfterFirst)
      assert.equal(resolver.stats.hits, 2)
    })

    it('asks again after a temporary failure rather than remembering it', async () => {
      await check({ ip: '192.0.2.1', sender: 'x@servfail.test' })
      const before = server.queries.length
      await check({ ip: '192.0.2.1', sender: 'x@servfail.test' })
      assert.ok(server.queries.length > before)
    })
  })
})
