import assert from 'node:assert/strict'
import { addAllowedIp } from '../../lib/db/allowlist'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import { decoded, follow, get, openSection, postForm, type AdminHarness } from './harness'

for (const kind of databaseKinds()) {
  describe(`admin ips (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string
    let globexEntryId: number

    const cidrsOf = async (accountId: number) =>
      (await h.db('account_ip_allowlist').where({ account_id: accountId }).orderBy('id')).map(
        (r: { cidr: string }) => r.cidr,
      )

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'ips'))
      globexEntryId = (await addAllowedIp(h.db, h.accounts.globex.id, '198.51.100.50', 'globex')).id
    })

    after(async () => h?.drop())

    it('shows the guide labels in French, the SPF note with an example record', async () => {
      const res = await get(h.app, base, cookie)
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      for (const label of [
        '<h1 class="page-title">Gestion des adresses IP<',
        "<h2>Ajouter l'adresse IP</h2>",
        '>Adresse IP</label>',
        '>Sauvegarder</button>',
        "Aucune adresse IP n'est autorisée",
        "l'enregistrement SPF du domaine de l'expéditeur",
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
      assert.ok(html.includes('votre-domaine.fr.  IN  TXT  "v=spf1 ip4:203.0.113.7 -all"'))
      assert.ok(html.includes('"v=spf1 ip4:203.0.113.7 include:_spf.google.com -all"'))
      assert.ok(html.includes('<numéro>@sms.test'))
      // Globex's entry is not listed on Acme's page.
      assert.ok(!html.includes('198.51.100.50'))
    })

    it('shows the labels in English', async () => {
      const res = await get(h.app, base, cookie, { 'accept-language': 'en' })
      const html = decoded(await res.text())
      for (const label of [
        '<h1 class="page-title">IP addresses<',
        '>IP address</label>',
        '>Save</button>',
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
      assert.ok(html.includes('your-domain.com.  IN  TXT  "v=spf1 ip4:203.0.113.7 -all"'))
    })

    it('adds an IPv4 address, bumping the version, and lists it with Effacer', async () => {
      const version = await readCacheVersion(h.db, 'directory')
      h.clock.advance(60_000)
      const res = await postForm(
        h.app,
        base,
        { address: ' 203.0.113.7 ', note: 'Relais principal' },
        { cookie },
      )
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      const [row] = await h.db('account_ip_allowlist').where({ account_id: h.accounts.acme.id })
      assert.equal(row.cidr, '203.0.113.7/32')
      assert.equal(row.note, 'Relais principal')
      assert.equal(Number(row.created_at), h.clock.now)
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)

      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(page, /203\.0\.113\.7\/32 est autorisée\./)
      assert.match(page, /<td><code>203\.0\.113\.7\/32<\/code><\/td><td>Relais principal<\/td>/)
      assert.match(page, /27 nov\. 2026.*UTC/)
      assert.match(page, new RegExp(`<input type="hidden" name="id" value="${row.id}"/>`))
      assert.match(page, />Effacer<\/button>/)
      assert.ok(page.includes('votre-domaine.fr.  IN  TXT  "v=spf1 ip4:203.0.113.7 -all"'))
    })

    it('normalises IPv6, IPv6 ranges and IPv4-mapped addresses', async () => {
      for (const address of ['2001:DB8:0:0::/56', '::ffff:198.51.100.9', '2001:db8:ffff::1']) {
        const res = await postForm(h.app, base, { address, note: '' }, { cookie })
        assert.equal(res.status, 303, address)
      }
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [
        '203.0.113.7/32',
        '2001:db8::/56',
        '198.51.100.9/32',
        '2001:db8:ffff::1/128',
      ])
      const html = decoded(await (await get(h.app, base, cookie)).text())
      assert.ok(
        html.includes(
          '"v=spf1 ip4:203.0.113.7 ip6:2001:db8::/56 ip4:198.51.100.9 ip6:2001:db8:ffff::1 -all"',
        ),
      )
    })

    const INVALID: Array<[string, RegExp]> = [
      ['not-an-ip', /« not-an-ip » n'est pas une adresse IP ni une plage CIDR acceptée/],
      [
        '192.0.2.7/24',
        /« 192\.0\.2\.7\/24 » désigne une adresse à l’intérieur d’une plage, pas le début de cette plage .* Vous pensiez sans doute au réseau 192\.0\.2\.0\/24 ; pour cette seule adresse, saisissez 192\.0\.2\.7\./,
      ],
      [
        '10.0.0.0/33',
        /« 10\.0\.0\.0\/33 » n'est pas une adresse IP ni une plage CIDR acceptée : en IPv4, la longueur du préfixe va de 0 à 32\./,
      ],
      ['0.0.0.0/0', /« 0\.0\.0\.0\/0 » couvre tout l’Internet \(toutes les adresses IPv4\)/],
      ['', /Saisissez une adresse IP ou une plage CIDR\./],
    ]
    for (const [address, message] of INVALID) {
      it(`refuses ${JSON.stringify(address)} with 400, the message, the value kept`, async () => {
        const before = await cidrsOf(h.accounts.acme.id)
        const res = await postForm(h.app, base, { address, note: 'kept note' }, { cookie })
        assert.equal(res.status, 400)
        const html = decoded(await res.text())
        assert.match(html, message)
        assert.match(html, /<div class="field field-invalid"><label for="address">/)
        assert.ok(html.includes(`name="address" type="text" value="${address}"`))
        assert.ok(html.includes('name="note" type="text" value="kept note"'))
        assert.deepEqual(await cidrsOf(h.accounts.acme.id), before)
      })
    }

    it('refuses a duplicate, however it is written', async () => {
      const res = await postForm(h.app, base, { address: '203.0.113.7/32', note: '' }, { cookie })
      assert.equal(res.status, 400)
      assert.match(
        decoded(await res.text()),
        /203\.0\.113\.7\/32 est déjà autorisée pour ce compte\./,
      )
      const mapped = await postForm(
        h.app,
        base,
        { address: '::FFFF:203.0.113.7', note: '' },
        { cookie, headers: { 'accept-language': 'en' } },
      )
      assert.equal(mapped.status, 400)
      assert.match(decoded(await mapped.text()), /203\.0\.113\.7\/32 is already allowed/)
      assert.equal((await cidrsOf(h.accounts.acme.id)).length, 4)
    })

    it('refuses a note over 200 characters', async () => {
      const before = await cidrsOf(h.accounts.acme.id)
      const res = await postForm(
        h.app,
        base,
        { address: '192.0.2.1', note: 'n'.repeat(201) },
        { cookie },
      )
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /La note fait au plus 200 caractères\./)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), before)
    })

    it('escapes a hostile note and address', async () => {
      const note = '<script>alert(1)</script>'
      const res = await postForm(h.app, base, { address: '192.0.2.66', note }, { cookie })
      assert.equal(res.status, 303)
      const html = await (await get(h.app, base, cookie)).text()
      assert.doesNotMatch(html, /<script>alert/)
      assert.ok(html.includes('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>'))
      const bad = await postForm(
        h.app,
        base,
        { address: '"><script>alert(2)</script>', note: '' },
        { cookie },
      )
      assert.equal(bad.status, 400)
      const badHtml = await bad.text()
      assert.doesNotMatch(badHtml, /<script>alert/)
      assert.ok(badHtml.includes('value="&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"'))
    })

    it('deletes an entry of the account, bumping the version', async () => {
      const [entry] = await h
        .db('account_ip_allowlist')
        .where({ account_id: h.accounts.acme.id, cidr: '192.0.2.66/32' })
      const version = await readCacheVersion(h.db, 'directory')
      const others = (await cidrsOf(h.accounts.acme.id)).filter((c) => c !== '192.0.2.66/32')
      assert.ok(others.length > 0, 'other entries, to see that they stay')
      const confirmed = { id: String(entry.id), confirm: 'yes' }
      const res = await postForm(h.app, `${base}/delete`, confirmed, { cookie })
      assert.equal(res.status, 303)
      assert.ok(!(await cidrsOf(h.accounts.acme.id)).includes('192.0.2.66/32'))
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), others)
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)
      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(page, /192\.0\.2\.66\/32 n'est plus autorisée\./)
      const again = await postForm(h.app, `${base}/delete`, confirmed, { cookie })
      assert.equal(again.status, 404)
    })

    it('gives 404 for another account entry id and leaves it in place', async () => {
      const version = await readCacheVersion(h.db, 'directory')
      const res = await postForm(h.app, `${base}/delete`, { id: String(globexEntryId) }, { cookie })
      assert.equal(res.status, 404)
      for (const id of ['abc', '-1', '0', '']) {
        assert.equal((await postForm(h.app, `${base}/delete`, { id }, { cookie })).status, 404)
      }
      assert.deepEqual(await cidrsOf(h.accounts.globex.id), ['198.51.100.50/32'])
      assert.equal(await readCacheVersion(h.db, 'directory'), version)
    })

    it('answers 404 on the pages of an account alice does not administer', async () => {
      assert.equal((await get(h.app, globexBase, cookie)).status, 404)
      const add = await postForm(h.app, globexBase, { address: '192.0.2.99', note: '' }, { cookie })
      assert.equal(add.status, 404)
      const del = await postForm(
        h.app,
        `${globexBase}/delete`,
        { id: String(globexEntryId) },
        { cookie },
      )
      assert.equal(del.status, 404)
      assert.deepEqual(await cidrsOf(h.accounts.globex.id), ['198.51.100.50/32'])
    })

    it('refuses a POST without Origin with 403', async () => {
      const before = await cidrsOf(h.accounts.acme.id)
      const add = await postForm(
        h.app,
        base,
        { address: '192.0.2.98', note: '' },
        { cookie, omitOrigin: true },
      )
      assert.equal(add.status, 403)
      const [first] = await h.db('account_ip_allowlist').where({ account_id: h.accounts.acme.id })
      const del = await postForm(
        h.app,
        `${base}/delete`,
        { id: String(first.id) },
        { cookie, omitOrigin: true },
      )
      assert.equal(del.status, 403)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), before)
    })

    it('sends a visitor without a session to the login page', async () => {
      const res = await get(h.app, base)
      assert.equal(res.status, 302)
      assert.match(res.headers.get('location') ?? '', /^\/login/)
      const add = await postForm(h.app, base, { address: '192.0.2.97', note: '' })
      assert.equal(add.status, 401)
      assert.ok(!(await cidrsOf(h.accounts.acme.id)).includes('192.0.2.97/32'))
    })
  })
}
