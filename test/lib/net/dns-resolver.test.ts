import assert from 'node:assert/strict'
import { createCachingResolver, type CachingResolver } from '../../../lib/net/dns-resolver'
import { startDnsServer, type DnsServer, type DnsZone } from '../../support/dns-server'

const LONG_SPF = `v=spf1 ${Array.from({ length: 40 }, (_, i) => `ip4:198.51.100.${i}`).join(' ')} -all`

const ZONE: DnsZone = {
  'example.test': {
    TXT: ['v=spf1 ip4:192.0.2.0/24 -all', ['split ', 'record']],
    A: ['192.0.2.1'],
    MX: [
      { priority: 20, exchange: 'mx2.example.test' },
      { priority: 10, exchange: 'mx1.example.test' },
    ],
  },
  'long.test': { TXT: [LONG_SPF] },
  'nodata.test': { A: ['192.0.2.2'] },
  'broken.test': { servfail: true },
  'refused.test': { refused: true },
  'silent.test': { timeout: true },
}

function errorCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

function countQueries(server: DnsServer, name: string, type: string): number {
  return server.queries.filter((q) => q.name === name && q.type === type).length
}

describe('lib/net/dns-resolver', () => {
  let server: DnsServer
  let resolver: CachingResolver

  before(async () => {
    server = await startDnsServer(ZONE)
  })

  after(async () => {
    await server.close()
  })

  beforeEach(() => {
    server.setZone(ZONE)
    server.queries.length = 0
    resolver = createCachingResolver({ servers: [server.server], timeoutMs: 200, tries: 1 })
  })

  it('answers like dns.promises.resolve', async () => {
    assert.deepEqual(await resolver('example.test', 'TXT'), [
      ['v=spf1 ip4:192.0.2.0/24 -all'],
      ['split ', 'record'],
    ])
    assert.deepEqual(await resolver('example.test', 'A'), ['192.0.2.1'])
    const mx = (await resolver('example.test', 'MX')) as Array<{ exchange: string }>
    assert.deepEqual(mx.map((m) => m.exchange).sort(), ['mx1.example.test', 'mx2.example.test'])
  })

  it('serves the second identical lookup from the cache', async () => {
    await resolver('example.test', 'TXT')
    await resolver('EXAMPLE.test.', 'txt')
    assert.equal(countQueries(server, 'example.test', 'TXT'), 1)
    assert.equal(resolver.stats.hits, 1)
    assert.equal(resolver.stats.misses, 1)
  })

  it('keeps record types apart', async () => {
    await resolver('example.test', 'TXT')
    await resolver('example.test', 'A')
    assert.equal(server.queries.length, 2)
  })

  it('reads an answer too long for UDP over TCP', async () => {
    const records = (await resolver('long.test', 'TXT')) as string[][]
    assert.equal(records.length, 1)
    assert.equal(records[0].join(''), LONG_SPF)
    assert.deepEqual(
      server.queries.map((q) => q.transport),
      ['udp', 'tcp'],
    )
  })

  it('caches NXDOMAIN and NODATA', async () => {
    for (let i = 0; i < 2; i++) {
      await assert.rejects(resolver('missing.test', 'TXT'), (err) => errorCode(err) === 'ENOTFOUND')
      await assert.rejects(resolver('nodata.test', 'TXT'), (err) => errorCode(err) === 'ENODATA')
    }
    assert.equal(countQueries(server, 'missing.test', 'TXT'), 1)
    assert.equal(countQueries(server, 'nodata.test', 'TXT'), 1)
  })

  it('does not cache SERVFAIL, REFUSED or timeouts', async () => {
    for (let i = 0; i < 2; i++) {
      await assert.rejects(resolver('broken.test', 'TXT'), (err) => errorCode(err) === 'ESERVFAIL')
      await assert.rejects(resolver('refused.test', 'TXT'), (err) => errorCode(err) === 'EREFUSED')
      await assert.rejects(resolver('silent.test', 'TXT'), (err) => errorCode(err) === 'ETIMEOUT')
    }
    assert.ok(countQueries(server, 'broken.test', 'TXT') >= 2)
    assert.ok(countQueries(server, 'refused.test', 'TXT') >= 2)
    assert.ok(countQueries(server, 'silent.test', 'TXT') >= 2)
    assert.equal(resolver.stats.hits, 0)
  })

  it('sees a fixed record once a temporary failure is over', async () => {
    server.setZone({ ...ZONE, 'flaky.test': { servfail: true } })
    await assert.rejects(resolver('flaky.test', 'TXT'), (err) => errorCode(err) === 'ESERVFAIL')
    server.setZone({ ...ZONE, 'flaky.test': { TXT: ['v=spf1 -all'] } })
    assert.deepEqual(await resolver('flaky.test', 'TXT'), [['v=spf1 -all']])
  })

  it('shares one query between concurrent identical lookups', async () => {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => resolver('example.test', 'A')),
    )
    assert.deepEqual(answers, Array(5).fill(['192.0.2.1']))
    assert.equal(countQueries(server, 'example.test', 'A'), 1)
    assert.equal(resolver.stats.shared, 4)
  })

  it('shares a failure between concurrent lookups without caching it', async () => {
    const results = await Promise.allSettled([
      resolver('broken.test', 'A'),
      resolver('broken.test', 'A'),
    ])
    assert.deepEqual(
      results.map((r) => r.status === 'rejected' && errorCode(r.reason)),
      ['ESERVFAIL', 'ESERVFAIL'],
    )
    assert.notEqual(
      (results[0] as PromiseRejectedResult).reason,
      (results[1] as PromiseRejectedResult).reason,
      'each caller gets its own error object',
    )
    assert.equal(resolver.stats.misses, 1)
    await assert.rejects(resolver('broken.test', 'A'))
    assert.equal(resolver.stats.misses, 2)
  })

  it('hands each caller its own copy of a cached answer', async () => {
    const first = (await resolver('example.test', 'MX')) as Array<{ priority: number }>
    first.sort((a, b) => a.priority - b.priority)
    first.push({ priority: 0 })
    const second = (await resolver('example.test', 'MX')) as Array<{ priority: number }>
    assert.equal(second.length, 2)
  })

  it('forgets answers after the TTL', async () => {
    const shortLived = createCachingResolver({ servers: [server.server], ttlMs: 50 })
    await shortLived('example.test', 'A')
    await new Promise((resolve) => setTimeout(resolve, 80))
    await shortLived('example.test', 'A')
    assert.equal(countQueries(server, 'example.test', 'A'), 2)
  })

  it('drops the least recently used entry when full', async () => {
    const small = createCachingResolver({ servers: [server.server], maxEntries: 2 })
    await small('example.test', 'A')
    await small('example.test', 'TXT')
    await small('example.test', 'A') // now the most recent
    await small('example.test', 'MX') // evicts TXT
    assert.equal(small.stats.size, 2)
    await small('example.test', 'A')
    await small('example.test', 'TXT')
    assert.equal(countQueries(server, 'example.test', 'A'), 1)
    assert.equal(countQueries(server, 'example.test', 'TXT'), 2)
  })

  it('clear() empties the cache and the counters', async () => {
    await resolver('example.test', 'A')
    resolver.clear()
    assert.deepEqual(resolver.stats, { hits: 0, misses: 0, shared: 0, size: 0 })
    await resolver('example.test', 'A')
    assert.equal(countQueries(server, 'example.test', 'A'), 2)
  })

  it('talks to a server on IPv6 loopback given as [::1]:port', async function () {
    let v6: DnsServer
    try {
      v6 = await startDnsServer(ZONE, { address: '::1' })
    } catch (err) {
      // Some containers have no IPv6 loopback at all; say so instead of passing silently.
      if (process.env.CI === 'true') throw err
      console.warn(`    skipped: no IPv6 loopback here (${(err as Error).message})`)
      this.skip()
    }
    try {
      const viaV6 = createCachingResolver({ servers: [v6.server] })
      assert.deepEqual(await viaV6('example.test', 'A'), ['192.0.2.1'])
      assert.equal(v6.queries.length, 1)
    } finally {
      await v6.close()
    }
  })
})
