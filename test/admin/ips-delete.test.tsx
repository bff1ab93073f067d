import assert from 'node:assert/strict'
import { addAllowedIp } from '../../lib/db/allowlist'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import { decoded, follow, get, openSection, postForm, type AdminHarness } from './harness'

/** "Effacer" on the IP addresses page: a confirmation page first, then only its form deletes. */
for (const kind of databaseKinds()) {
  describe(`admin ips: deleting an entry (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const cidrsOf = async (accountId: number) =>
      (await h.db('account_ip_allowlist').where({ account_id: accountId }).orderBy('id')).map(
        (r: { cidr: string }) => r.cidr,
      )

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'ips'))
    })
    beforeEach(async () => {
      await h.db('account_ip_allowlist').delete()
    })
    after(async () => h?.drop())

    async function addAcme(cidr: string): Promise<number> {
      return (await addAllowedIp(h.db, h.accounts.acme.id, cidr, 'office')).id
    }

    it('asks first, on a page naming the address and the account', async () => {
      const id = await addAcme('192.0.2.66')
      await addAcme('2001:db8::/48')
      const list = await (await get(h.app, base, cookie)).text()
      // The list's button only opens the confirmation (GET changes nothing).
      assert.ok(
        list.includes(
          `<form method="get" action="${base}/delete" class="inline"><input type="hidden" name="id" value="${id}"/><button type="submit" class="danger" aria-label="Effacer 192.0.2.66/32">Effacer</button></form>`,
        ),
      )
      const ask = await get(h.app, `${base}/delete?id=${id}`, cookie)
      assert.equal(ask.status, 200)
      const html = await ask.text()
      assert.match(html, /<h1 class="page-title">Effacer l’adresse IP</)
      assert.match(
        html,
        /Effacer 192\.0\.2\.66\/32 des adresses IP autorisées du compte « Acme SA » \?/,
      )
      assert.match(html, /devront alors passer la vérification SPF/)
      assert.doesNotMatch(html, /2001:db8::\/48/)
      assert.ok(
        html.includes(
          `<form method="post" action="${base}/delete" class="inline"><input type="hidden" name="id" value="${id}"/><input type="hidden" name="confirm" value="yes"/><button type="submit" class="danger">Supprimer</button></form><a href="${base}">Annuler</a>`,
        ),
      )
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['192.0.2.66/32', '2001:db8::/48'])

      const en = decoded(
        await (await get(h.app, `${base}/delete?id=${id}`, `${cookie}; lang=en`)).text(),
      )
      assert.match(en, /<h1 class="page-title">Delete the IP address</)
      assert.match(
        en,
        /Delete 192\.0\.2\.66\/32 from the allowed IP addresses of the account "Acme SA"\?/,
      )
      assert.match(en, /class="danger">Delete<\/button>/)
      assert.ok(en.includes(`<a href="${base}">Cancel</a>`))
    })

    it('deletes through the confirmation form, and only then', async () => {
      const id = await addAcme('192.0.2.66')
      const version = await readCacheVersion(h.db, 'directory')
      const skipping: Array<Record<string, string>> = [
        { id: String(id) },
        { id: String(id), confirm: 'no' },
      ]
      for (const fields of skipping) {
        const res = await postForm(h.app, `${base}/delete`, fields, { cookie })
        assert.equal(res.status, 303)
        assert.equal(res.headers.get('location'), `${base}/delete?id=${id}`)
      }
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['192.0.2.66/32'])
      assert.equal(await readCacheVersion(h.db, 'directory'), version)

      const res = await postForm(
        h.app,
        `${base}/delete`,
        { id: String(id), confirm: 'yes' },
        { cookie },
      )
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)
      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(page, /192\.0\.2\.66\/32 n'est plus autorisée\./)
      assert.equal((await get(h.app, `${base}/delete?id=${id}`, cookie)).status, 404)
    })

    it('answers 404 for another account’s entry, by either path, and keeps it', async () => {
      const theirs = (await addAllowedIp(h.db, h.accounts.globex.id, '198.51.100.50')).id
      for (const path of [`${base}/delete?id=${theirs}`, `${globexBase}/delete?id=${theirs}`]) {
        assert.equal((await get(h.app, path, cookie)).status, 404, path)
      }
      for (const id of ['', 'abc', '0', '-1']) {
        assert.equal((await get(h.app, `${base}/delete?id=${id}`, cookie)).status, 404, id)
      }
      for (const path of [`${base}/delete`, `${globexBase}/delete`]) {
        const fields = { id: String(theirs), confirm: 'yes' }
        assert.equal((await postForm(h.app, path, fields, { cookie })).status, 404, path)
      }
      assert.deepEqual(await cidrsOf(h.accounts.globex.id), ['198.51.100.50/32'])
    })

    it('needs the admin’s Origin to delete, even confirmed', async () => {
      const id = await addAcme('192.0.2.66')
      for (const options of [{ omitOrigin: true }, { origin: 'http://evil.test' }]) {
        const fields = { id: String(id), confirm: 'yes' }
        const res = await postForm(h.app, `${base}/delete`, fields, { cookie, ...options })
        assert.equal(res.status, 403)
      }
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['192.0.2.66/32'])
    })
  })
}
