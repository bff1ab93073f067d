import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import {
  createAdminHarness,
  follow,
  get,
  login,
  PASSWORD,
  postForm,
  withCookies,
  type AdminHarness,
} from './harness'
import { hashSecretToken } from '../../lib/auth/tokens'

/** The raw token inside the signed cookie value `token.signature`. */
function tokenOf(cookie: string): string {
  const value = /m2s_session=([^;]+)/.exec(cookie)?.[1] ?? ''
  return decodeURIComponent(value).split('.')[0]
}

for (const kind of databaseKinds()) {
  describe(`admin login and sessions (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(() => h.reset())
    after(() => h.drop())

    it('shows the login form, then logs in and lands on the first account', async () => {
      const form = await get(h.app, '/login')
      assert.equal(form.status, 200)
      const html = await form.text()
      assert.match(html, /<label for="email">Adresse e-mail<\/label>/)
      assert.match(html, /<label for="password">Mot de passe<\/label>/)

      const res = await postForm(h.app, '/login', { email: 'Alice@Acme.test', password: PASSWORD })
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), '/')
      const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('m2s_session='))
      assert.ok(setCookie)
      assert.match(setCookie, /HttpOnly/)
      assert.match(setCookie, /SameSite=Lax/)
      assert.match(setCookie, /Path=\//)
      assert.match(setCookie, /Max-Age=43200/)
      assert.doesNotMatch(setCookie, /Secure/)

      const cookie = withCookies('', res)
      const home = await get(h.app, '/', cookie)
      assert.equal(home.status, 302)
      assert.equal(home.headers.get('location'), `/a/${h.accounts.acme.id}/users`)
      // Only the token's hash is stored.
      const rows = await h.db('admin_sessions').select('token_hash', 'admin_id', 'expires_at')
      assert.equal(rows.length, 1)
      assert.equal(rows[0].token_hash, hashSecretToken(tokenOf(cookie)))
      assert.notEqual(rows[0].token_hash, tokenOf(cookie))
      assert.equal(Number(rows[0].expires_at), h.clock.now + 12 * 3_600_000)
    })

    it('marks the cookie Secure when the admin is served over https', async () => {
      const secure = await createAdminHarness(kind, {
        config: { baseUrl: 'https://admin.test' },
      })
      try {
        const res = await postForm(
          secure.app,
          '/login',
          { email: 'alice@acme.test', password: PASSWORD },
          { origin: 'https://admin.test' },
        )
        assert.equal(res.status, 303)
        assert.match(res.headers.getSetCookie().join('\n'), /m2s_session=[^\n]*Secure/)
        assert.match(res.headers.getSetCookie().join('\n'), /m2s_device=[^\n]*Secure/)
        assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=/)
      } finally {
        await secure.drop()
      }
    })

    it('gives one generic message for a wrong password and for an unknown address', async () => {
      for (const email of ['alice@acme.test', 'nobody@acme.test']) {
        const res = await postForm(h.app, '/login', { email, password: 'wrong password!' })
        assert.equal(res.status, 401)
        const html = await res.text()
        assert.match(html, /Adresse ou mot de passe incorrect/)
        // The address typed is kept, the password is not.
        assert.match(html, new RegExp(`value="${email.replace('.', '\\.')}"`))
        assert.equal(
          res.headers.getSetCookie().filter((c) => c.startsWith('m2s_session=')).length,
          0,
        )
      }
      const english = await postForm(
        h.app,
        '/login',
        { email: 'alice@acme.test', password: 'nope nope nope' },
        { headers: { 'accept-language': 'en-GB,en;q=0.9' } },
      )
      assert.match(await english.text(), /Wrong email or password/)
    })

    it('refuses an empty form with 400', async () => {
      const res = await postForm(h.app, '/login', { email: '', password: '' })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /Saisissez votre adresse e-mail et votre mot de passe/)
    })

    it('locks an address after login_max_failures failures, with 429 and the wait', async () => {
      for (let i = 1; i < 5; i++) {
        const res = await postForm(h.app, '/login', {
          email: 'alice@acme.test',
          password: `bad-${i}`,
        })
        assert.equal(res.status, 401, `attempt ${i}`)
      }
      const fifth = await postForm(h.app, '/login', { email: 'alice@acme.test', password: 'bad-5' })
      assert.equal(fifth.status, 429)
      assert.match(await fifth.text(), /Attendez 15 minutes/)
      // Even the right password waits now.
      const right = await postForm(h.app, '/login', {
        email: 'alice@acme.test',
        password: PASSWORD,
      })
      assert.equal(right.status, 429)
      assert.equal(right.headers.get('retry-after'), String(15 * 60))
      h.clock.advance(10 * 60_000)
      const later = await postForm(h.app, '/login', {
        email: 'alice@acme.test',
        password: PASSWORD,
      })
      assert.equal(later.status, 429)
      assert.match(await later.text(), /Attendez 5 minutes/)
      h.clock.advance(5 * 60_000 + 1)
      assert.ok(await login(h.app, 'alice@acme.test', PASSWORD))
    })

    it('locks a client address that tries many logins', async () => {
      const emails = ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test', 'e@x.test']
      const statuses: number[] = []
      for (const email of emails) {
        statuses.push((await postForm(h.app, '/login', { email, password: 'whatever123' })).status)
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 429])
      const bob = await postForm(h.app, '/login', { email: 'bob@multi.test', password: PASSWORD })
      assert.equal(bob.status, 429)
    })

    it('a success clears the failures counted against the address', async () => {
      for (let i = 0; i < 4; i++) {
        await postForm(h.app, '/login', { email: 'alice@acme.test', password: `bad-${i}` })
      }
      await login(h.app, 'alice@acme.test', PASSWORD)
      const row = await h
        .db('login_throttle')
        .where({ throttle_key: 'email:alice@acme.test' })
        .first()
      assert.equal(row, undefined)
    })

    it('rotates the session at login: the cookie presented before no longer works', async () => {
      const first = await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await postForm(
        h.app,
        '/login',
        { email: 'alice@acme.test', password: PASSWORD },
        { cookie: first },
      )
      assert.equal(res.status, 303)
      const second = withCookies(first, res)
      assert.notEqual(tokenOf(second), tokenOf(first))
      assert.equal((await get(h.app, '/details', first)).status, 302)
      assert.equal((await get(h.app, '/details', second)).status, 200)
      assert.equal(
        await h
          .db('admin_sessions')
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        1,
      )
    })

    it('refuses a cookie whose signature does not match', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const forged = `m2s_session=${encodeURIComponent(tokenOf(cookie))}.AAAA`
      assert.equal((await get(h.app, '/details', forged)).status, 302)
      const unsigned = `m2s_session=${tokenOf(cookie)}`
      assert.equal((await get(h.app, '/details', unsigned)).status, 302)
    })

    it('ends a session when it expires', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      h.clock.advance(12 * 3_600_000 - 1)
      assert.equal((await get(h.app, '/details', cookie)).status, 200)
      h.clock.advance(1)
      const res = await get(h.app, '/details', cookie)
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), '/login?next=%2Fdetails')
    })

    it('logs out: the session row and the cookie are gone', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await postForm(h.app, '/logout', {}, { cookie })
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), '/login')
      assert.match(res.headers.getSetCookie().join('\n'), /m2s_session=; Max-Age=0/)
      // The device cookie stays: this browser has still logged in as Alice before.
      assert.match(withCookies(cookie, res), /^m2s_device=[^;]+$/)
      assert.equal((await get(h.app, '/details', cookie)).status, 302)
      const rows = await h.db('admin_sessions').select()
      assert.equal(rows.length, 0)
    })

    it('sends a page asked for without a session to the login, and comes back after', async () => {
      const path = `/a/${h.accounts.acme.id}/users?x=1`
      const res = await get(h.app, path)
      assert.equal(res.status, 302)
      const location = res.headers.get('location') ?? ''
      assert.equal(location, `/login?next=${encodeURIComponent(path)}`)
      const form = await (await get(h.app, location)).text()
      assert.match(form, /name="next" value="\/a\/\d+\/users\?x=1"/)
      const loggedIn = await postForm(h.app, '/login', {
        email: 'alice@acme.test',
        password: PASSWORD,
        next: path,
      })
      assert.equal(loggedIn.headers.get('location'), path)
    })

    it('never redirects after login to another site', async () => {
      for (const next of [
        '//evil.test/x',
        'https://evil.test/',
        '/\\evil.test',
        '/\t/evil.test',
        'javascript:x',
      ]) {
        const res = await postForm(h.app, '/login', {
          email: 'alice@acme.test',
          password: PASSWORD,
          next,
        })
        assert.equal(res.headers.get('location'), '/', next)
      }
    })

    it('answers 401 to a POST without a session', async () => {
      const res = await postForm(h.app, `/a/${h.accounts.acme.id}/users`, { email: 'x@y.test' })
      assert.equal(res.status, 401)
      assert.match(await res.text(), /Connexion nécessaire/)
      assert.equal((await h.db('account_senders').select()).length, 0)
    })

    it('refuses the login, logout and Mes détails forms without the admin’s Origin', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const sessions = async () => Number((await h.db('admin_sessions').count({ n: '*' }))[0].n)
      const before = await sessions()
      const alice = await h.db('admins').where({ email: 'alice@acme.test' }).first()
      const newPassword = 'a new long passphrase'
      const forms: Array<[string, Record<string, string>]> = [
        ['/login', { email: 'alice@acme.test', password: PASSWORD }],
        ['/logout', {}],
        ['/details', { name: 'Mallory' }],
        ['/details/password', { current: PASSWORD, password: newPassword, confirm: newPassword }],
      ]
      for (const [path, fields] of forms) {
        for (const origin of [{ omitOrigin: true }, { origin: 'http://evil.test' }]) {
          const res = await postForm(h.app, path, fields, { cookie, ...origin })
          assert.equal(res.status, 403, path)
          assert.deepEqual(res.headers.getSetCookie(), [], path)
        }
      }
      assert.equal(await sessions(), before)
      assert.deepEqual(await h.db('admins').where({ email: 'alice@acme.test' }).first(), alice)
      assert.equal((await get(h.app, '/details', cookie)).status, 200)
    })

    it('a logged-in admin opening /login goes straight on', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await get(h.app, '/login?next=%2Fdetails', cookie)
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), '/details')
    })

    describe('Mes détails', () => {
      it('shows and saves the name, with a flash', async () => {
        const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
        const page = await get(h.app, '/details', cookie)
        const html = await page.text()
        assert.match(html, /<h1>Mes détails<\/h1>/)
        assert.match(html, /value="Alice"/)
        const res = await postForm(h.app, '/details', { name: '  Alice Martin ' }, { cookie })
        assert.equal(res.status, 303)
        const { res: after, cookie: next } = await follow(h.app, res, cookie)
        const afterHtml = await after.text()
        assert.match(afterHtml, /Votre nom a été enregistré/)
        assert.match(afterHtml, /value="Alice Martin"/)
        // The flash shows once.
        assert.doesNotMatch(await (await get(h.app, '/details', next)).text(), /Votre nom a été/)
        const row = await h.db('admins').where({ email: 'alice@acme.test' }).first()
        assert.equal(row.name, 'Alice Martin')
      })

      it('refuses an empty or too long name with 400', async () => {
        const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
        for (const name of ['   ', 'x'.repeat(201)]) {
          const res = await postForm(h.app, '/details', { name }, { cookie })
          assert.equal(res.status, 400)
          assert.match(await res.text(), /Saisissez un nom de 1 à 200 caractères/)
        }
        const row = await h.db('admins').where({ email: 'alice@acme.test' }).first()
        assert.equal(row.name, 'Alice')
      })

      it('changes the password and ends the other sessions only', async () => {
        const here = await login(h.app, 'alice@acme.test', PASSWORD)
        const elsewhere = await login(h.app, 'alice@acme.test', PASSWORD)
        const bob = await login(h.app, 'bob@multi.test', PASSWORD)
        const res = await postForm(
          h.app,
          '/details/password',
          {
            current: PASSWORD,
            password: 'a new long passphrase',
            confirm: 'a new long passphrase',
          },
          { cookie: here },
        )
        assert.equal(res.status, 303)
        const { res: page } = await follow(h.app, res, here)
        assert.match(await page.text(), /Votre mot de passe a été changé/)
        assert.equal((await get(h.app, '/details', here)).status, 200)
        assert.equal((await get(h.app, '/details', elsewhere)).status, 302)
        assert.equal((await get(h.app, '/details', bob)).status, 200)
        await assert.rejects(login(h.app, 'alice@acme.test', PASSWORD))
        assert.ok(await login(h.app, 'alice@acme.test', 'a new long passphrase'))
      })

      it('refuses a wrong current password, a short one and a mismatch', async () => {
        const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
        const cases: Array<[Record<string, string>, RegExp]> = [
          [
            { current: 'not it at all', password: 'long enough pw', confirm: 'long enough pw' },
            /Le mot de passe actuel est incorrect/,
          ],
          [{ current: PASSWORD, password: 'short', confirm: 'short' }, /au moins 10 caractères/],
          [
            { current: PASSWORD, password: 'long enough pw', confirm: 'long enough pX' },
            /Les deux saisies du nouveau mot de passe sont différentes/,
          ],
        ]
        for (const [fields, message] of cases) {
          const res = await postForm(h.app, '/details/password', fields, { cookie })
          assert.equal(res.status, 400)
          assert.match(await res.text(), message)
        }
        assert.ok(await login(h.app, 'alice@acme.test', PASSWORD))
      })
    })
  })
}
