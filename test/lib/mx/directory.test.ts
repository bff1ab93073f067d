import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { addSender } from '../../../lib/db/senders'
import { DirectoryCache } from '../../../lib/mx/directory'
import { createTestDatabase, type TestDatabase } from '../../support/databases'

describe('lib/mx/directory DirectoryCache', () => {
  let t: TestDatabase
  let now = 0
  let versionReads = 0

  before(async () => {
    t = await createTestDatabase('sqlite')
    t.db.on('query', (q: { sql: string }) => {
      if (/from [`"]cache_versions[`"]/.test(q.sql)) versionReads += 1
    })
  })

  after(async () => t?.drop())

  it('serves from memory within the refresh delay and reloads after a change', async () => {
    const cache = new DirectoryCache(t.db, 1000, () => now)
    const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
    const first = await cache.get()
    assert.equal(first.membershipsByEmail.size, 0)

    await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted' })
    const reads = versionReads
    now += 999
    // Still inside the delay: no database read, and the old snapshot.
    assert.equal(await cache.get(), first)
    assert.equal(versionReads, reads)

    now += 2
    const second = await cache.get()
    assert.notEqual(second, first)
    assert.equal(second.membershipsByEmail.get('alice@acme.example')?.[0].account.ref, 'acme')
    assert.ok(second.version > first.version)
  })

  it('keeps the snapshot when the version has not moved', async () => {
    const cache = new DirectoryCache(t.db, 0, () => now)
    const a = await cache.get()
    const b = await cache.get()
    assert.equal(a, b)
  })

  it('lets concurrent callers share one check', async () => {
    const cache = new DirectoryCache(t.db, 0, () => now)
    await cache.get()
    const reads = versionReads
    await Promise.all([cache.get(), cache.get(), cache.get()])
    assert.equal(versionReads - reads, 1)
  })
})
