import assert from 'node:assert/strict'
import { ConnectionsPerClient, clientKey } from '../../../lib/mx/connection-limit'

describe('connections per client', () => {
  it('counts IPv4 by address, IPv4-mapped IPv6 as IPv4, and IPv6 by /64', () => {
    assert.equal(clientKey('192.0.2.7'), '192.0.2.7')
    assert.equal(clientKey('::ffff:192.0.2.7'), '192.0.2.7')
    assert.equal(clientKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:db8:1:2:bbbb::9'), '2001:db8:1:2::/64')
    assert.notEqual(clientKey('2001:db8:1:3::1'), clientKey('2001:db8:1:2::1'))
  })

  it('refuses the connection past the limit, with the client address, until one closes', () => {
    const c = new ConnectionsPerClient(2)
    const a = c.opened('2001:db8::1')
    assert.equal(a.decision, null)
    assert.equal(c.opened('2001:db8::2').decision, null)
    const third = c.opened('2001:db8::3')
    assert.deepEqual(third.decision, {
      action: 'defer',
      code: 421,
      status: '4.7.0',
      message: 'too many connections from 2001:db8::3 (at most 2 at once); try again later',
      reason: 'tooManyConnections',
    })
    assert.equal(c.opened('192.0.2.1').decision, null)
    // The refused one counts until it closes too.
    c.closed(third.key)
    c.closed(a.key)
    const fourth = c.opened('2001:db8::4')
    assert.equal(fourth.count, 2)
    assert.equal(fourth.decision, null)
  })

  it('has no limit at 0 and forgets clients with no connection left', () => {
    const c = new ConnectionsPerClient(0)
    const keys = Array.from({ length: 500 }, () => c.opened('192.0.2.1'))
    assert.ok(keys.every((k) => k.decision === null))
    assert.equal(keys.at(-1)?.count, 500)
    for (const k of keys) c.closed(k.key)
    assert.equal(c.opened('192.0.2.1').count, 1)
  })
})
