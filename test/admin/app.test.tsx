import assert from 'node:assert/strict'
import { HTTPException } from 'hono/http-exception'
import { databaseKinds } from '../support/databases'
import {
  BASE_URL,
  createAdminHarness,
  follow,
  get,
  login,
  PASSWORD,
  postForm,
  withCookies,
  type AdminHarness,
} from './harness'
import { createApp } from '../../admin/app'
import { createAccount } from '../../lib/db/accounts'
import { createAdmin, grantAccount } from '../../lib/db/admins'
import { hashPassword } from '../../lib/auth/password'
import { loadAssets } from '../../admin/static'
import { ACCOUNT_SECTIONS } from '../../admin/layout'

for (const kind of databaseKinds()) {
  describe(`admin app frame (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(() => h.reset())
    after(() => h.drop())

    it('sends strict security headers on every page', async () => {
      for (const res of [await get(h.app, '/login'), await get(h.app, '/nowhere')]) {
        const csp = res.headers.get('content-security-policy') ?? ''
        assert.match(csp, /default-src 'self'/)
        assert.match(csp, /script-src 'self'(;|$)/)
        assert.match(csp, /style-src 'self'(;|$)/)
        assert.match(csp, /frame-ancestors 'none'/)
        assert.match(csp, /form-action 'self'/)
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
        assert.equal(res.headers.get('x-frame-options'), 'DENY')
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
        assert.equal(res.headers.get('referrer-policy'), 'same-origin')
        // No HSTS over plain http.
        assert.equal(res.headers.get('strict-transport-security'), null)
      }
    })

    it('has no inline script or style in its pages', async () => {
      const cookie = await login(h.app, 'bob@multi.test', PASSWORD)
      for (const path of ['/login', '/details', `/a/${h.accounts.acme.id}/users`]) {
        const html = await (await get(h.app, path, path === '/login' ? '' : cookie)).text()
        assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)/, path)
        assert.doesNotMatch(html, /<style|\sstyle=/, path)
        assert.match(html, /<link rel="stylesheet" href="\/assets\/admin\.css"\/>/)
      }
    })

    it('serves the stylesheet with caching, and nothing else from disk', async () => {
      const css = await get(h.app, '/assets/admin.css')
      assert.equal(css.status, 200)
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8')
      assert.equal(css.headers.get('cache-control'), 'public, max-age=300')
      assert.match(await css.text(), /\.sms-preview/)
      const design = await get(h.app, '/assets/design.css')
      assert.equal(design.status, 200)
      assert.match(await design.text(), /:focus-visible/)
      const etag = css.headers.get('etag') ?? ''
      assert.match(etag, /^"[\w-]+"$/)
      const again = await get(h.app, '/assets/admin.css', '', { 'if-none-match': etag })
      assert.equal(again.status, 304)
      for (const path of ['/assets/env.ts', '/assets/..%2Fenv.ts', '/assets/%2e%2e/app.tsx']) {
        const res = await get(h.app, path)
        assert.notEqual(res.status, 200, path)
        assert.doesNotMatch(await res.text(), /createApp|AdminDeps/, path)
      }
      const none = loadAssets('/nonexistent-directory')
      assert.equal(none.size, 0)
    })

    it('draws the guide’s frame: who, menu, breadcrumb, account selector', async () => {
      const cookie = await login(h.app, 'bob@multi.test', PASSWORD)
      const { acme, globex } = h.accounts
      const html = await (await get(h.app, `/a/${globex.id}/users`, cookie)).text()
      assert.match(html, /Connecté en tant que <\/span><strong[^>]*>bob@multi\.test<\/strong>/)
      assert.match(html, /<a href="\/details">Mes détails<\/a>/)
      assert.match(
        html,
        /<form method="post" action="\/logout" class="inline"><button type="submit" class="link">Déconnexion<\/button>/,
      )
      for (const [section, label] of [
        ['users', 'Envoi en cours'],
        ['users', 'Utilisateurs'],
        ['preferences', 'Préférences'],
        ['receiving', 'Réception en cours'],
        ['ips', 'Avancé'],
        ['messages', 'Suivi'],
        ['test-sms', 'SMS de test'],
      ]) {
        assert.match(html, new RegExp(`href="/a/${globex.id}/${section}"[^>]*>${label}<`))
      }
      // Only the current group opens its sub-menu.
      assert.doesNotMatch(html, /Gestion des adresses IP/)
      const ips = await (await get(h.app, `/a/${globex.id}/ips`, cookie)).text()
      assert.match(
        ips,
        new RegExp(`href="/a/${globex.id}/ips" aria-current="page">Gestion des adresses IP<`),
      )
      assert.doesNotMatch(ips, />Préférences</)
      assert.match(
        html,
        new RegExp(`href="/a/${globex.id}/users" aria-current="page">Utilisateurs`),
      )
      assert.match(
        html,
        new RegExp(
          `<nav class="breadcrumb" aria-label="Fil d&#39;Ariane"><ol><li><a href="/a/${globex.id}/users">Accueil</a></li><li><a href="[^"]+">Envoi en cours</a></li><li><span aria-current="page">Utilisateurs</span>`,
        ),
      )
      assert.match(html, /<form method="get" action="\/switch"/)
      assert.match(html, /<label for="account-select">Compte<\/label>/)
      assert.match(html, new RegExp(`<option value="${acme.id}">Acme SA \\(acme\\)</option>`))
      assert.match(
        html,
        new RegExp(`<option value="${globex.id}" selected="">Globex Corp \\(globex\\)</option>`),
      )
      assert.match(html, /<input type="hidden" name="section" value="users"\/>/)
    })

    it('switches account with the selector, keeping the section', async () => {
      const bob = await login(h.app, 'bob@multi.test', PASSWORD)
      const alice = await login(h.app, 'alice@acme.test', PASSWORD)
      const { acme, globex } = h.accounts
      const res = await get(h.app, `/switch?account=${globex.id}&section=ips`, bob)
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), `/a/${globex.id}/ips`)
      assert.equal(
        (await get(h.app, `/switch?account=${globex.id}&section=users`, alice)).status,
        404,
      )
      assert.equal((await get(h.app, `/switch?account=${acme.id}&section=admin`, bob)).status, 404)
      assert.equal((await get(h.app, `/switch?account=${acme.id}`, bob)).status, 404)
      assert.equal(
        (await get(h.app, `/a/${acme.id}`, bob)).headers.get('location'),
        `/a/${acme.id}/users`,
      )
    })

    it('keeps every link of a page in the account the page is about', async () => {
      const bob = await login(h.app, 'bob@multi.test', PASSWORD)
      const { globex } = h.accounts
      // Acme comes first in bob's list: a link that fell back to the first account would show.
      for (const section of ACCOUNT_SECTIONS) {
        const html = await (await get(h.app, `/a/${globex.id}/${section}`, bob)).text()
        const accountLinks = [...html.matchAll(/href="\/a\/(\d+)/g)].map((m) => Number(m[1]))
        assert.ok(accountLinks.length > 5, section)
        assert.deepEqual(
          accountLinks.filter((id) => id !== globex.id),
          [],
          `${section}: a link leads to another account`,
        )
        assert.match(html, new RegExp(`<a class="brand" href="/a/${globex.id}/users">`), section)
        assert.match(html, /<title>[^<]+ – Globex Corp – Mail2SMS<\/title>/, section)
        assert.match(
          html,
          /<h1 class="page-title">[^<]+<span[^>]*> – <\/span><span class="page-account"><span[^>]*>Compte <\/span>Globex Corp<\/span><\/h1>/,
          section,
        )
        assert.doesNotMatch(html, /Acme SA<\/span><\/h1>/, section)
      }
    })

    it('remembers the account last worked in, on pages of no account and at the root', async () => {
      const bob = await login(h.app, 'bob@multi.test', PASSWORD)
      const { acme, globex } = h.accounts
      const visit = await get(h.app, `/a/${globex.id}/ips`, bob)
      assert.match(visit.headers.getSetCookie().join('\n'), new RegExp(`account=${globex.id};`))
      const inGlobex = withCookies(bob, visit)
      const details = await (await get(h.app, '/details', inGlobex)).text()
      assert.match(details, new RegExp(`<a class="brand" href="/a/${globex.id}/users">`))
      assert.match(details, new RegExp(`<a href="/a/${globex.id}/users">Accueil</a>`))
      assert.match(details, new RegExp(`<option value="${globex.id}" selected="">`))
      assert.doesNotMatch(details, new RegExp(`href="/a/${acme.id}/`))
      assert.equal(
        (await get(h.app, '/', inGlobex)).headers.get('location'),
        `/a/${globex.id}/users`,
      )
      // Without the cookie, the first account; with one naming an account bob does not
      // administer, the same: the cookie only chooses among the session's own accounts.
      assert.equal((await get(h.app, '/', bob)).headers.get('location'), `/a/${acme.id}/users`)
      const alice = await login(h.app, 'alice@acme.test', PASSWORD)
      const forged = `${alice}; account=${globex.id}`
      assert.equal((await get(h.app, '/', forged)).headers.get('location'), `/a/${acme.id}/users`)
      assert.doesNotMatch(await (await get(h.app, '/details', forged)).text(), /Globex/)
    })

    it('says so when the admin has no account yet', async () => {
      await createAdmin(h.db, {
        email: 'lonely@acme.test',
        name: '',
        passwordHash: await hashPassword(PASSWORD),
      })
      const cookie = await login(h.app, 'lonely@acme.test', PASSWORD)
      const res = await get(h.app, '/', cookie)
      assert.equal(res.status, 200)
      const html = await res.text()
      assert.match(html, /n’administre encore aucun compte/)
      assert.doesNotMatch(html, /account-selector/)
    })

    it('escapes names and addresses it shows', async () => {
      const evil = await createAccount(h.db, { ref: 'evil', name: '<script>alert(1)</script>' })
      await grantAccount(h.db, h.admins.alice.id, evil.id)
      await h
        .db('admins')
        .where({ id: h.admins.alice.id })
        .update({ name: '"><img src=x onerror=alert(2)>' })
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const users = await (await get(h.app, `/a/${evil.id}/users`, cookie)).text()
      assert.doesNotMatch(users, /<script>alert/)
      assert.match(users, /&lt;script&gt;alert\(1\)&lt;\/script&gt; \(evil\)/)
      const details = await (await get(h.app, '/details', cookie)).text()
      assert.doesNotMatch(details, /<img src=x/)
      assert.match(details, /value="&quot;&gt;&lt;img src=x onerror=alert\(2\)&gt;"/)
      // The invitation page names the account too.
      await postForm(h.app, `/a/${evil.id}/users`, { email: 'x@example.com' }, { cookie })
      const link = /\/activate\/[\w-]{43}/.exec(h.mailer.sent[0].text)?.[0] ?? ''
      const page = await (await get(h.app, link)).text()
      assert.match(page, /« &lt;script&gt;alert\(1\)&lt;\/script&gt; »/)
      assert.doesNotMatch(page, /<script>alert/)
    })

    it('chooses the language from Accept-Language, then from the switch', async () => {
      const english = await (
        await get(h.app, '/login', '', { 'accept-language': 'en;q=0.9' })
      ).text()
      assert.match(english, /<html lang="en">/)
      assert.match(english, /<h1>Log in<\/h1>/)
      const french = await (
        await get(h.app, '/login', '', { 'accept-language': 'de, fr;q=0.5' })
      ).text()
      assert.match(french, /<h1>Connexion<\/h1>/)
      assert.match(
        french,
        /<button type="submit" name="lang" value="en" lang="en" class="link"><span class="wide-only">English<\/span>/,
      )

      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await postForm(h.app, '/lang', { lang: 'en', back: '/details' }, { cookie })
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), '/details')
      assert.match(
        res.headers.getSetCookie().join('\n'),
        /lang=en; Max-Age=31536000; Path=\/; HttpOnly; SameSite=Lax/,
      )
      const { res: page, cookie: withLang } = await follow(h.app, res, cookie)
      const html = await page.text()
      assert.match(html, /<h1>My details<\/h1>/)
      assert.match(html, /Logged in as <\/span><strong[^>]*>alice@acme\.test<\/strong>/)
      // The cookie wins over Accept-Language.
      const still = await get(h.app, '/details', withLang, { 'accept-language': 'fr' })
      assert.match(await still.text(), /<h1>My details<\/h1>/)
      const back = await postForm(
        h.app,
        '/lang',
        { lang: 'fr', back: '/details' },
        { cookie: withLang },
      )
      assert.match(await (await follow(h.app, back, withLang)).res.text(), /<h1>Mes détails<\/h1>/)
    })

    it('only returns to a path of this site after switching language', async () => {
      for (const back of ['//evil.test/', 'https://evil.test/', '/\\evil.test', '']) {
        const res = await postForm(h.app, '/lang', { lang: 'en', back })
        assert.equal(res.headers.get('location'), '/', back)
      }
      const unknown = await postForm(h.app, '/lang', { lang: 'de', back: '/login' })
      assert.equal(unknown.headers.getSetCookie().length, 0)
      assert.equal(
        (await postForm(h.app, '/lang', { lang: 'en' }, { omitOrigin: true })).status,
        403,
      )
    })

    it('ignores a flash cookie it did not sign', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const value = encodeURIComponent('{"kind":"ok","text":"forged"}')
      const forged = `${cookie}; m2s_flash=${value}.${encodeURIComponent('A'.repeat(43) + '=')}`
      const res = await get(h.app, '/details', forged)
      assert.equal(res.status, 200)
      assert.doesNotMatch(await res.text(), /forged/)
      assert.equal(withCookies(forged, res).includes('m2s_flash'), false)
    })

    it('answers unknown pages with the 404 page, logged in or not', async () => {
      const anonymous = await get(h.app, '/assets/nothing.css')
      assert.equal(anonymous.status, 404)
      assert.match(await anonymous.text(), /Page introuvable/)
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await get(h.app, `/a/${h.accounts.acme.id}/nothing`, cookie)
      assert.equal(res.status, 404)
      assert.match(await res.text(), /<h1 class="page-title">Page introuvable</)
    })

    it('shows a 500 page without details and logs the error', async () => {
      const app = createApp(h.deps)
      app.get('/boom', () => {
        throw new Error('secret detail of the failure')
      })
      app.get('/teapot', () => {
        throw new HTTPException(429)
      })
      const cookie = await login(app, 'alice@acme.test', PASSWORD)
      const res = await app.request(`${BASE_URL}/boom`, { headers: { cookie } })
      assert.equal(res.status, 500)
      const html = await res.text()
      assert.match(html, /Erreur du serveur/)
      assert.doesNotMatch(html, /secret detail/)
      assert.match(h.logs.join('\n'), /admin error GET \/boom: Error: secret detail of the failure/)
      const limited = await app.request(`${BASE_URL}/teapot`, { headers: { cookie } })
      assert.equal(limited.status, 429)
      assert.match(await limited.text(), /Trop de demandes/)
    })

    it('refuses a form body over 64 KiB with 413', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await postForm(h.app, '/details', { name: 'x'.repeat(70_000) }, { cookie })
      assert.equal(res.status, 413)
      assert.match(await res.text(), /Envoi trop volumineux/)
      const row = await h.db('admins').where({ id: h.admins.alice.id }).first()
      assert.equal(row.name, 'Alice')
    })

    it('refuses to start without a long session secret', () => {
      assert.throws(
        () => createApp({ ...h.deps, config: { ...h.deps.config, sessionSecret: 'short' } }),
        /session secret/,
      )
    })
  })
}
