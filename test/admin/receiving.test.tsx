import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { readCacheVersion } from '../../lib/db/versions'
import { authenticateWebhook } from '../../lib/inbound/webhook'
import { databaseKinds } from '../support/databases'
import { decoded, follow, get, openSection, postForm, type AdminHarness } from './harness'

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex')

/** The secret shown on a rotation page, from the header line the carrier must send. */
function shownSecret(html: string): string {
  const match = /Authorization: Bearer ([A-Za-z0-9_-]{43})</.exec(html)
  assert.ok(match, 'the page shows no new secret')
  return match[1]
}

for (const kind of databaseKinds()) {
  describe(`admin receiving (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const accountRow = (id: number) => h.db('accounts').where({ id }).first()

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'receiving'))
    })

    after(async () => h?.drop())

    it('shows the guide labels in French, with failure notices on by default', async () => {
      const res = await get(h.app, base, cookie)
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      for (const label of [
        '<h1 class="page-title">Réception en cours<',
        ">Transfert d'e-mail</label>",
        '>Réponse directe</label>',
        '>Avis de non-remise</label>',
        'Sauvegarder',
        'Séparez-les par des virgules',
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
      assert.match(html, /n'a pas de numéro virtuel/)
      assert.match(
        html,
        /<input type="checkbox" id="failureNotices" name="failureNotices" value="on" checked=""/,
      )
      assert.match(
        html,
        /<input type="checkbox" id="directReply" name="directReply" value="on" aria/,
      )
      assert.ok(html.includes('<code>http://admin.test/webhooks/acme/inbound</code>'))
      assert.ok(html.includes('<code>http://admin.test/webhooks/acme/status</code>'))
      assert.match(html, /Aucun secret n'est défini/)
      assert.match(html, new RegExp(`<form method="post" action="${base}/webhook-secret"`))
    })

    it('shows the labels in English and the virtual number when there is one', async () => {
      await h
        .db('accounts')
        .where({ id: h.accounts.acme.id })
        .update({ virtual_number: '+33700000001' })
      const res = await get(h.app, base, cookie, { 'accept-language': 'en' })
      const html = decoded(await res.text())
      for (const label of [
        '<h1 class="page-title">Receiving<',
        '>Email forwarding</label>',
        '>Direct reply</label>',
        '>Failure notices</label>',
        'Save',
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
      assert.match(html, /<strong class="virtual-number">\+33700000001<\/strong>/)
      assert.doesNotMatch(html, /has no virtual number/)
    })

    it('saves addresses, direct reply and failure notices, bumping the version', async () => {
      const version = await readCacheVersion(h.db, 'directory')
      h.clock.advance(60_000)
      // An unchecked box is absent from the form: failure notices are turned off here.
      const res = await postForm(
        h.app,
        base,
        { forwardAddresses: 'Ops@Acme.test, it@acme.test;ops@acme.test', directReply: 'on' },
        { cookie },
      )
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      const row = await accountRow(h.accounts.acme.id)
      assert.equal(row.forward_addresses, 'ops@acme.test,it@acme.test')
      assert.equal(Boolean(row.direct_reply), true)
      assert.equal(Boolean(row.failure_notices), false)
      assert.equal(Number(row.updated_at), h.clock.now)
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)

      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(page, /Paramètres de réception sauvegardés\./)
      assert.match(page, />ops@acme.test, it@acme.test<\/textarea>/)
      assert.match(page, /id="directReply" name="directReply" value="on" checked=""/)
      assert.doesNotMatch(page, /id="failureNotices" name="failureNotices" value="on" checked=""/)
    })

    it('refuses a bad address with 400, naming it, keeping what was typed', async () => {
      const before = await accountRow(h.accounts.acme.id)
      const version = await readCacheVersion(h.db, 'directory')
      const typed = 'boss@acme.test, bob@, failure@acme.test'
      const res = await postForm(
        h.app,
        base,
        { forwardAddresses: typed, failureNotices: 'on' },
        { cookie },
      )
      assert.equal(res.status, 400)
      const html = decoded(await res.text())
      assert.match(
        html,
        /<p class="field-error" id="forwardAddresses-error">« bob@ » n'est pas une adresse e-mail valide\.<\/p>/,
      )
      assert.ok(html.includes(`>${typed}</textarea>`))
      // The checkboxes show what was posted, not what is saved.
      assert.match(html, /id="failureNotices" name="failureNotices" value="on" checked=""/)
      assert.deepEqual(await accountRow(h.accounts.acme.id), before)
      assert.equal(await readCacheVersion(h.db, 'directory'), version)
    })

    it('names every bad address, in English too', async () => {
      const before = await accountRow(h.accounts.acme.id)
      const res = await postForm(
        h.app,
        base,
        { forwardAddresses: 'x, ok@acme.test, y@z' },
        { cookie, headers: { 'accept-language': 'en' } },
      )
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /These addresses are not valid: x, y@z\./)
      assert.deepEqual(await accountRow(h.accounts.acme.id), before)
    })

    it('refuses more than 20 addresses', async () => {
      const many = Array.from({ length: 21 }, (_, i) => `u${i}@acme.test`).join(', ')
      const before = await accountRow(h.accounts.acme.id)
      const res = await postForm(h.app, base, { forwardAddresses: many }, { cookie })
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /20 adresses au plus \(21 saisies\)/)
      assert.deepEqual(await accountRow(h.accounts.acme.id), before)
    })

    it('escapes hostile input shown back in the form', async () => {
      const res = await postForm(
        h.app,
        base,
        { forwardAddresses: '</textarea><script>alert(1)</script>' },
        { cookie },
      )
      assert.equal(res.status, 400)
      const html = await res.text()
      assert.doesNotMatch(html, /<script>alert/)
      assert.ok(html.includes('&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>'))
    })

    it('sends a visitor without a session to the login page', async () => {
      const res = await get(h.app, base)
      assert.equal(res.status, 302)
      assert.match(res.headers.get('location') ?? '', /^\/login/)
      assert.equal((await postForm(h.app, `${base}/webhook-secret`, {})).status, 401)
      assert.equal((await accountRow(h.accounts.acme.id)).webhook_secret_hash, null)
    })

    it('answers 404 for an account alice does not administer, changing nothing', async () => {
      const before = await accountRow(h.accounts.globex.id)
      assert.equal((await get(h.app, globexBase, cookie)).status, 404)
      const save = await postForm(
        h.app,
        globexBase,
        { forwardAddresses: 'attacker@evil.test', directReply: 'on' },
        { cookie },
      )
      assert.equal(save.status, 404)
      const rotate = await postForm(h.app, `${globexBase}/webhook-secret`, {}, { cookie })
      assert.equal(rotate.status, 404)
      assert.doesNotMatch(await rotate.text(), /Bearer/)
      assert.deepEqual(await accountRow(h.accounts.globex.id), before)
    })

    it('refuses a POST without Origin with 403', async () => {
      const before = await accountRow(h.accounts.acme.id)
      const save = await postForm(
        h.app,
        base,
        { forwardAddresses: 'attacker@evil.test' },
        { cookie, omitOrigin: true },
      )
      assert.equal(save.status, 403)
      const rotate = await postForm(
        h.app,
        `${base}/webhook-secret`,
        {},
        { cookie, omitOrigin: true },
      )
      assert.equal(rotate.status, 403)
      assert.deepEqual(await accountRow(h.accounts.acme.id), before)
    })

    it('shows a new webhook secret once and stores only its hash', async () => {
      const version = await readCacheVersion(h.db, 'directory')
      const res = await postForm(h.app, `${base}/webhook-secret`, {}, { cookie })
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('cache-control'), 'no-store')
      const html = await res.text()
      const secret = shownSecret(html)
      assert.ok(html.includes(`<code class="secret">${secret}</code>`))
      for (const line of res.headers.getSetCookie()) assert.ok(!line.includes(secret))
      const row = await accountRow(h.accounts.acme.id)
      assert.equal(row.webhook_secret_hash, sha256(secret))
      assert.ok(!JSON.stringify(row).includes(secret))
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)

      const later = decoded(await (await get(h.app, base, cookie)).text())
      assert.ok(!later.includes(secret))
      assert.match(later, /Un secret est défini/)
      assert.match(later, />Générer un nouveau secret</)

      const again = await postForm(h.app, `${base}/webhook-secret`, {}, { cookie })
      const next = shownSecret(await again.text())
      assert.notEqual(next, secret)
      assert.equal((await accountRow(h.accounts.acme.id)).webhook_secret_hash, sha256(next))
      assert.equal((await accountRow(h.accounts.globex.id)).webhook_secret_hash, null)

      // The webhooks accept the shown secret, and no longer the one it replaced.
      assert.equal((await authenticateWebhook(h.db, 'acme', next))?.id, h.accounts.acme.id)
      assert.equal(await authenticateWebhook(h.db, 'acme', secret), null)
    })

    it('clears the webhook secret', async () => {
      const res = await postForm(h.app, `${base}/webhook-secret/clear`, {}, { cookie })
      assert.equal(res.status, 303)
      assert.equal((await accountRow(h.accounts.acme.id)).webhook_secret_hash, null)
      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(page, /Secret des webhooks effacé\./)
      assert.match(page, /Aucun secret n'est défini/)
    })
  })
}
