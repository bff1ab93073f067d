import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { readCacheVersion } from '../../lib/db/versions'
import { authenticateWebhook } from '../../lib/inbound/webhook'
import { databaseKinds } from '../support/databases'
import {
  decoded,
  follow,
  get,
  login,
  openSection,
  PASSWORD,
  postForm,
  type AdminHarness,
} from './harness'
import { rotateWebhookSecret } from '../../lib/db/account-settings'

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

    describe('webhook secret', () => {
      const newPath = () => `${base}/webhook-secret/new`
      const hashOf = async () => (await accountRow(h.accounts.acme.id)).webhook_secret_hash

      beforeEach(async () => {
        await h.db('accounts').update({ webhook_secret_hash: null })
        await h.db('webhook_secret_reveals').delete()
      })

      /** Generates a secret as the page does (confirmed when one is set); returns it, shown. */
      async function generate(session = cookie): Promise<string> {
        const res = await postForm(
          h.app,
          `${base}/webhook-secret`,
          { confirm: 'yes' },
          {
            cookie: session,
          },
        )
        assert.equal(res.status, 303)
        return shownSecret(await (await follow(h.app, res, session)).res.text())
      }

      it('makes a secret, redirects, and shows it once on the page it redirects to', async () => {
        const version = await readCacheVersion(h.db, 'directory')
        const res = await postForm(h.app, `${base}/webhook-secret`, {}, { cookie })
        // Post, redirect, get: the POST's answer carries no page, and no secret.
        assert.equal(res.status, 303)
        assert.equal(res.headers.get('location'), newPath())
        assert.equal(await res.text(), '')
        const stored = await hashOf()
        assert.match(stored, /^[0-9a-f]{64}$/)
        const waiting = JSON.stringify(await h.db('webhook_secret_reveals'))

        const { res: shown } = await follow(h.app, res, cookie)
        assert.equal(shown.status, 200)
        assert.equal(shown.headers.get('cache-control'), 'no-store')
        const html = await shown.text()
        const secret = shownSecret(html)
        assert.ok(html.includes(`<code class="secret">${secret}</code>`))
        assert.equal(stored, sha256(secret))
        // Neither the URL, a cookie nor the database held it in clear.
        assert.ok(!newPath().includes(secret))
        for (const line of [...res.headers.getSetCookie(), ...shown.headers.getSetCookie()]) {
          assert.ok(!line.includes(secret))
        }
        assert.ok(!waiting.includes(secret))
        assert.ok(!JSON.stringify(await accountRow(h.accounts.acme.id)).includes(secret))
        assert.equal((await h.db('webhook_secret_reveals')).length, 0)
        assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)

        // A reload: no new secret, and the secret is not shown again.
        const reload = await get(h.app, newPath(), cookie)
        assert.equal(reload.status, 200)
        const again = decoded(await reload.text())
        assert.ok(!again.includes(secret))
        assert.doesNotMatch(again, /Bearer/)
        assert.match(
          again,
          /<p class="notice" role="status">Le nouveau secret a déjà été affiché, une seule fois : il ne peut plus l’être\. Si vous ne l’avez pas copié, générez-en un nouveau/,
        )
        assert.equal(await hashOf(), stored)
        assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)

        const later = decoded(await (await get(h.app, base, cookie)).text())
        assert.ok(!later.includes(secret))
        assert.match(later, /Un secret est défini/)
        assert.match(later, />Générer un nouveau secret</)
        // The webhooks accept the shown secret.
        assert.equal((await authenticateWebhook(h.db, 'acme', secret))?.id, h.accounts.acme.id)
      })

      it('says "already shown" in English too', async () => {
        await generate()
        const res = await get(h.app, newPath(), cookie, { 'accept-language': 'en' })
        assert.match(
          decoded(await res.text()),
          /The new secret has already been shown, once: it cannot be shown again\. If you did not copy it, generate a new one/,
        )
      })

      it('shows it to the session that made it only, and not after a few minutes', async () => {
        const other = await login(h.app, 'alice@acme.test', PASSWORD)
        const res = await postForm(h.app, `${base}/webhook-secret`, {}, { cookie })
        assert.equal(res.status, 303)
        assert.doesNotMatch(await (await get(h.app, newPath(), other)).text(), /Bearer/)
        const secret = shownSecret(await (await get(h.app, newPath(), cookie)).text())
        assert.equal(await hashOf(), sha256(secret))

        await h.db('accounts').update({ webhook_secret_hash: null })
        await postForm(h.app, `${base}/webhook-secret`, {}, { cookie })
        h.clock.advance(5 * 60_000)
        assert.doesNotMatch(await (await get(h.app, newPath(), cookie)).text(), /Bearer/)
      })

      it('asks before replacing a secret that is set: the old one stops working', async () => {
        const old = await generate()
        const page = await (await get(h.app, base, cookie)).text()
        // Both buttons only open a confirmation page.
        assert.ok(
          page.includes(
            `<form method="get" action="${base}/webhook-secret" class="inline"><button type="submit">Générer un nouveau secret</button></form>`,
          ),
        )
        assert.ok(
          page.includes(
            `<form method="get" action="${base}/webhook-secret/clear" class="inline"><button type="submit" class="danger">Effacer le secret</button></form>`,
          ),
        )
        // A POST that skipped the confirmation replaces nothing and leads there.
        const skipped = await postForm(h.app, `${base}/webhook-secret`, {}, { cookie })
        assert.equal(skipped.status, 303)
        assert.equal(skipped.headers.get('location'), `${base}/webhook-secret`)
        assert.equal(await hashOf(), sha256(old))

        const ask = await get(h.app, `${base}/webhook-secret`, cookie)
        assert.equal(ask.status, 200)
        const html = decoded(await ask.text())
        assert.match(html, /<h1 class="page-title">Remplacer le secret des webhooks</)
        assert.match(
          html,
          /Remplacer le secret des webhooks du compte « Acme SA » par un nouveau \?/,
        )
        assert.match(html, /L’ancien secret cesse aussitôt de fonctionner/)
        assert.ok(
          html.includes(
            `<form method="post" action="${base}/webhook-secret" class="inline"><input type="hidden" name="confirm" value="yes"/><button type="submit" class="danger">Remplacer le secret</button></form><a href="${base}">Annuler</a>`,
          ),
        )
        assert.equal(await hashOf(), sha256(old))

        const next = await generate()
        assert.notEqual(next, old)
        assert.equal(await hashOf(), sha256(next))
        assert.equal((await accountRow(h.accounts.globex.id)).webhook_secret_hash, null)
        assert.equal((await authenticateWebhook(h.db, 'acme', next))?.id, h.accounts.acme.id)
        assert.equal(await authenticateWebhook(h.db, 'acme', old), null)
      })

      it('asks before clearing the secret; only the confirmation form clears it', async () => {
        const secret = await generate()
        const skipped = await postForm(h.app, `${base}/webhook-secret/clear`, {}, { cookie })
        assert.equal(skipped.status, 303)
        assert.equal(skipped.headers.get('location'), `${base}/webhook-secret/clear`)
        assert.equal(await hashOf(), sha256(secret))

        const ask = await get(h.app, `${base}/webhook-secret/clear`, cookie)
        assert.equal(ask.status, 200)
        const html = decoded(await ask.text())
        assert.match(html, /<h1 class="page-title">Effacer le secret des webhooks</)
        assert.match(html, /Effacer le secret des webhooks du compte « Acme SA » \?/)
        assert.match(html, /Les webhooks de ce compte refuseront alors toute requête/)
        assert.ok(
          html.includes(
            `<form method="post" action="${base}/webhook-secret/clear" class="inline"><input type="hidden" name="confirm" value="yes"/><button type="submit" class="danger">Supprimer</button></form><a href="${base}">Annuler</a>`,
          ),
        )
        const en = decoded(
          await (await get(h.app, `${base}/webhook-secret/clear`, `${cookie}; lang=en`)).text(),
        )
        assert.match(en, /Delete the webhook secret of the account "Acme SA"\?/)
        assert.match(en, /class="danger">Delete<\/button><\/form><a href="[^"]+">Cancel<\/a>/)

        const res = await postForm(
          h.app,
          `${base}/webhook-secret/clear`,
          { confirm: 'yes' },
          { cookie },
        )
        assert.equal(res.status, 303)
        assert.equal(res.headers.get('location'), base)
        assert.equal(await hashOf(), null)
        const page = decoded(await (await follow(h.app, res, cookie)).res.text())
        assert.match(page, /Secret des webhooks effacé\./)
        assert.match(page, /Aucun secret n'est défini/)
        // Nothing left to confirm: the confirmation pages lead back to the section.
        for (const path of [`${base}/webhook-secret`, `${base}/webhook-secret/clear`]) {
          const back = await get(h.app, path, cookie)
          assert.equal(back.status, 302)
          assert.equal(back.headers.get('location'), base)
        }
      })

      it('keeps another account’s secret out of reach, and needs the Origin', async () => {
        await rotateWebhookSecret(h.db, h.accounts.globex.id)
        const theirs = await accountRow(h.accounts.globex.id)
        for (const path of ['webhook-secret', 'webhook-secret/clear', 'webhook-secret/new']) {
          assert.equal((await get(h.app, `${globexBase}/${path}`, cookie)).status, 404, path)
        }
        for (const path of ['webhook-secret', 'webhook-secret/clear']) {
          const confirmed = { confirm: 'yes' }
          const res = await postForm(h.app, `${globexBase}/${path}`, confirmed, { cookie })
          assert.equal(res.status, 404, path)
          const mine = await generate()
          for (const options of [{ omitOrigin: true }, { origin: 'http://evil.test' }]) {
            const forged = await postForm(h.app, `${base}/${path}`, confirmed, {
              cookie,
              ...options,
            })
            assert.equal(forged.status, 403, path)
          }
          assert.equal(await hashOf(), sha256(mine))
        }
        assert.deepEqual(await accountRow(h.accounts.globex.id), theirs)
      })
    })
  })
}
