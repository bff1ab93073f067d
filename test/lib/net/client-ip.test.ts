import assert from 'node:assert/strict'
import { TrustedProxies, clientAddress } from '../../../lib/net/client-ip'

describe('lib/net/client-ip', () => {
  const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', '2001:db8:1::/48'])

  it('takes the connection address when no proxy is trusted', () => {
    const none = new TrustedProxies([])
    assert.equal(clientAddress('127.0.0.1', '198.51.100.7', none), '127.0.0.1')
  })

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', () => {
    assert.equal(clientAddress('203.0.113.5', '198.51.100.7', proxies), '203.0.113.5')
  })

  it('takes the address the trusted proxy saw', () => {
    assert.equal(clientAddress('127.0.0.1', '198.51.100.7', proxies), '198.51.100.7')
    assert.equal(clientAddress('2001:db8:1::5', '2001:db8:ffff::9', proxies), '2001:db8:ffff::9')
  })

  it('skips a chain of trusted proxies, and never believes what the client wrote', () => {
    // The client forged 192.0.2.1; the edge proxy (10.1.1.1) saw 198.51.100.7.
    const header = '192.0.2.1, 198.51.100.7, 10.1.1.1'
    assert.equal(clientAddress('127.0.0.1', header, proxies), '198.51.100.7')
  })

  it('stops at a hop that is not an address', () => {
    assert.equal(clientAddress('127.0.0.1', 'unknown, 10.1.1.1', proxies), '10.1.1.1')
    assert.equal(clientAddress('127.0.0.1', 'garbage', proxies), '127.0.0.1')
  })

  it('says unknown without a connection address', () => {
    assert.equal(clientAddress(undefined, '198.51.100.7', proxies), 'unknown')
  })
})
