import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { addAllowedIp } from '../../../lib/db/allowlist'
import {
  hasAllowedCidr,
  listAllowlistEntries,
  removeAllowedIpById,
  suggestSpfRecord,
} from '../../../lib/db/allowlist-admin'
import { readCacheVersion } from '../../../lib/db/versions'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

describe('lib/db/allowlist-admin suggestSpfRecord', () => {
  it('writes single addresses without a prefix and ranges with one', () => {
    assert.equal(
      suggestSpfRecord(['203.0.113.7/32', '198.51.100.0/24', '2001:db8::/48', '2001:db8::1/128']),
      'v=spf1 ip4:203.0.113.7 ip4:198.51.100.0/24 ip6:2001:db8::/48 ip6:2001:db8::1 -all',
    )
  })

  it('adds include: mechanisms before -all', () => {
    assert.equal(
      suggestSpfRecord(['203.0.113.7/32'], ['_spf.google.com']),
      'v=spf1 ip4:203.0.113.7 include:_spf.google.com -all',
    )
  })
})

for (const kind of databaseKinds()) {
  describe(`lib/db/allowlist-admin (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let globex: number

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
    })

    after(async () => t?.drop())

    it('lists an account entries in the order they were added, with the date', async () => {
      await addAllowedIp(t.db, acme, '2001:DB8:0:0::/48', 'siège', 2000)
      await addAllowedIp(t.db, acme, '203.0.113.7', null, 1000)
      await addAllowedIp(t.db, globex, '198.51.100.1', null, 500)
      const entries = await listAllowlistEntries(t.db, acme)
      assert.deepEqual(
        entries.map((e) => [e.cidr, e.note, e.createdAt]),
        [
          ['203.0.113.7/32', null, 1000],
          ['2001:db8::/48', 'siège', 2000],
        ],
      )
      assert.equal(await hasAllowedCidr(t.db, acme, '2001:db8::/48'), true)
      assert.equal(await hasAllowedCidr(t.db, acme, '198.51.100.1/32'), false)
    })

    it('removes by id within the account only, bumping the directory version', async () => {
      const [globexEntry] = await listAllowlistEntries(t.db, globex)
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await removeAllowedIpById(t.db, acme, globexEntry.id), false)
      assert.equal((await listAllowlistEntries(t.db, globex)).length, 1)
      assert.equal(await readCacheVersion(t.db, 'directory'), before)

      const [first] = await listAllowlistEntries(t.db, acme)
      assert.equal(await removeAllowedIpById(t.db, acme, first.id), true)
      assert.deepEqual(
        (await listAllowlistEntries(t.db, acme)).map((e) => e.cidr),
        ['2001:db8::/48'],
      )
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await removeAllowedIpById(t.db, acme, first.id), false)
      assert.equal(await removeAllowedIpById(t.db, acme, Number.NaN), false)
    })
  })
}
