import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import { addAllowedIp } from '../../lib/db/allowlist'
import { decoded, openSection, postForm, type AdminHarness } from './harness'

for (const kind of databaseKinds()) {
  describe(`admin ips: how much of the Internet a list may open (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string

    const cidrsOf = async (accountId: number) =>
      (await h.db('account_ip_allowlist').where({ account_id: accountId }).orderBy('id')).map(
        (r: { cidr: string }) => r.cidr,
      )
    const add = (address: string, lang = 'fr') =>
      postForm(h.app, base, { address, note: '' }, { cookie, headers: { 'accept-language': lang } })

    before(async () => {
      ;({ h, cookie, base } = await openSection(kind, 'ips'))
    })
    beforeEach(async () => {
      await h.db('account_ip_allowlist').delete()
    })
    after(async () => h?.drop())

    it('refuses the second half of the IPv4 Internet, saying the limit and the coverage', async () => {
      // Seeded past the page, as an older, wider limit would have let it in.
      await addAllowedIp(h.db, h.accounts.acme.id, '0.0.0.0/1', null, h.clock.now, {
        maxIpv4Prefix: 1,
        maxIpv6Prefix: 1,
      })
      const fr = await add('128.0.0.0/1')
      assert.equal(fr.status, 400)
      const html = decoded(await fr.text())
      assert.ok(
        html.includes(
          'Avec cette entrée, la liste couvrirait 4\u202f294\u202f967\u202f296 adresses IPv4 (un /0), ' +
            "alors que l'opérateur en permet au plus 65\u202f536 adresses IPv4 (un /16).",
        ),
        html,
      )
      const en = await add('128.0.0.0/1', 'en')
      assert.ok(
        decoded(await en.text()).includes(
          'With this entry the list would cover 4,294,967,296 IPv4 addresses (one /0), ' +
            'while the operator allows at most 65,536 IPv4 addresses (one /16).',
        ),
      )
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['0.0.0.0/1'])
    })

    it('refuses ::/1 + 8000::/1 alike', async () => {
      await addAllowedIp(h.db, h.accounts.acme.id, '::/1', null, h.clock.now, {
        maxIpv4Prefix: 1,
        maxIpv6Prefix: 1,
      })
      const res = await add('8000::/1', 'en')
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /would cover 2\^128 IPv6 addresses \(one \/0\)/)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['::/1'])
    })

    it('takes pieces up to the limit, then refuses what goes past it', async () => {
      for (const address of ['192.0.0.0/17', '192.0.128.0/17', '192.0.7.0/24', '2001:db8::/48']) {
        assert.equal((await add(address)).status, 303, address)
      }
      const over = await add('198.51.100.7', 'en')
      assert.equal(over.status, 400)
      assert.match(decoded(await over.text()), /would cover 65,537 IPv4 addresses/)
      const v6 = await add('2001:db8:1::1', 'en')
      assert.match(decoded(await v6.text()), /allows at most 2\^80 IPv6 addresses \(one \/48\)/)
      assert.equal((await cidrsOf(h.accounts.acme.id)).length, 4)
    })

    it('refuses one entry wider than the limit with the same message', async () => {
      const res = await add('10.0.0.0/8', 'en')
      assert.equal(res.status, 400)
      assert.match(
        decoded(await res.text()),
        /would cover 16,777,216 IPv4 addresses \(one \/8\), while the operator allows at most 65,536/,
      )
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
    })

    it('counts per account: another account’s entries do not use this one’s allowance', async () => {
      await addAllowedIp(h.db, h.accounts.globex.id, '10.0.0.0/16')
      assert.equal((await add('10.1.0.0/16')).status, 303)
    })

    it('lets no two additions at once both pass the check', async () => {
      const answers = await Promise.all(
        ['192.0.0.0/16', '198.51.0.0/16', '203.0.0.0/16'].map((a) => add(a)),
      )
      assert.deepEqual(answers.map((r) => r.status).sort(), [303, 400, 400])
      assert.equal((await cidrsOf(h.accounts.acme.id)).length, 1)
    })
  })
}
