import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import {
  BASE_ORIGIN,
  BASE_URL,
  createAdminHarness,
  decoded,
  get,
  login,
  PASSWORD,
  withCookies,
  type AdminHarness,
} from './harness'
import { verifyPassword } from '../../lib/auth/password'
import { hashSecretToken } from '../../lib/auth/tokens'
import type { Mailer, OutgoingMail, SentMail } from '../../lib/mail/mailer'

const NEW_PASSWORD = 'a brand new passphrase'
const TTL_MS = 60 * 60_000
const CLIENT = '192.0.2.10'

/** The reset path (`/password-reset/<token>`) in a reset mail's text. */
function resetPathOf(text: string): string {
  const match = /http:\/\/admin\.test(\/password-reset\/[A-Za-z0-9_-]{43})\n/.exec(text)
  assert.ok(match, `no reset link in:\n${text}`)
  return match[1]
}

/** A mailer whose sends wait until the test lets them go, as a slow relay would. */
class HeldMailer implements Mailer {
  readonly sent: OutgoingMail[] = []
  private release: (() => void) | null = null
  private readonly gate = new Promise<void>((resolve) => (this.release = resolve))
  waiting = 0

  async send(mail: OutgoingMail): Promise<SentMail> {
    this.waiting++
    await this.gate
    this.sent.push(mail)
    return { messageId: '<held@sms.test>' }
  }

  open(): void {
    this.release?.()
  }

  async close(): Promise<void> {}
}

for (const kind of databaseKinds()) {
  describe(`admin forgotten password (${kind})`, function () {
    this.timeout(60_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(() => h.reset())
    after(() => h.drop())

    /** A request as a browser at `ip` sends it, Origin included unless `origin` is null. */
    function send(
      path: string,
      options: {
        fields?: Record<string, string>
        cookie?: string
        ip?: string
        origin?: string | null
      } = {},
    ): Promise<Response> {
      const headers: Record<string, string> = {}
      if (options.cookie) headers.cookie = options.cookie
      let body: string | undefined
      if (options.fields) {
        headers['content-type'] = 'application/x-www-form-urlencoded'
        if (options.origin !== null) headers.origin = options.origin ?? BASE_ORIGIN
        body = new URLSearchParams(options.fields).toString()
      }
      return Promise.resolve(
        h.app.request(
          `${BASE_URL}${path}`,
          { method: options.fields ? 'POST' : 'GET', headers, body },
          { incoming: { socket: { remoteAddress: options.ip ?? CLIENT } } },
        ),
      )
    }

    /** Asks for a link for `email` and waits for the mail work the response left running. */
    async function ask(email: string, ip = CLIENT): Promise<Response> {
      const res = await send('/password-reset', { fields: { email }, ip })
      await h.deps.background?.settled()
      return res
    }

    /** Opens the link: the cookie that carries the token to the form. */
    async function open(path: string): Promise<{ res: Response; cookie: string }> {
      const res = await send(path)
      return { res, cookie: withCookies('', res) }
    }

    function choose(cookie: string, password = NEW_PASSWORD, confirm = password) {
      return send('/password-reset/choose', { fields: { password, confirm }, cookie })
    }

    async function countRows(table: string): Promise<number> {
      return Number((await h.db(table).count({ n: '*' }).first())?.n)
    }

    async function aliceHash(): Promise<string> {
      return String((await h.db('admins').where({ id: h.admins.alice.id }).first()).password_hash)
    }

    it('offers the link on the login page, in both languages', async () => {
      const fr = decoded(await (await get(h.app, '/login')).text())
      assert.ok(fr.includes('<a href="/password-reset">Mot de passe oublié ?</a>'))
      const en = decoded(await (await get(h.app, '/login', 'lang=en')).text())
      assert.ok(en.includes('<a href="/password-reset">Forgot your password?</a>'))
      const form = decoded(await (await get(h.app, '/password-reset')).text())
      assert.match(form, /<form method="post" action="\/password-reset"/)
      assert.match(form, /<label for="email">Adresse e-mail<\/label>/)
    })

    it('mails a link, lets its owner choose a new password, and ends every session', async () => {
      const session = await login(h.app, 'alice@acme.test', PASSWORD)
      const other = await login(h.app, 'alice@acme.test', PASSWORD)
      const bob = await login(h.app, 'bob@multi.test', PASSWORD)

      const asked = await ask('Alice@Acme.test')
      assert.equal(asked.status, 200)
      assert.match(decoded(await asked.text()), /un e-mail vient d’y être envoyé/)
      assert.equal(h.mailer.sent.length, 1)
      const mail = h.mailer.sent[0]
      assert.equal(mail.to, 'alice@acme.test')
      assert.match(mail.subject, /Réinitialisation de votre mot de passe/)
      assert.match(mail.text, /valable jusqu’au .* 10:00 UTC/)
      const path = resetPathOf(mail.text)
      const token = path.split('/').pop() ?? ''
      const rows = await h.db('admin_password_resets').select()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].token_hash, hashSecretToken(token))

      // The link only moves the token into a cookie, off the address bar.
      const opened = await open(path)
      assert.equal(opened.res.status, 303)
      assert.equal(opened.res.headers.get('location'), '/password-reset/choose')
      const set = opened.res.headers.getSetCookie().join('\n')
      assert.match(set, /m2s_reset=[^\n]*Path=\/password-reset/)
      assert.match(set, /m2s_reset=[^\n]*HttpOnly/)
      assert.match(set, /m2s_reset=[^\n]*SameSite=Lax/)
      assert.match(set, /m2s_reset=[^\n]*Max-Age=3600/)

      const form = await send('/password-reset/choose', { cookie: opened.cookie })
      assert.equal(form.status, 200)
      assert.equal(form.headers.get('cache-control'), 'no-store')
      const html = decoded(await form.text())
      assert.ok(html.includes('Nouveau mot de passe pour l’identifiant alice@acme.test.'))
      assert.ok(!html.includes(token), 'the form page does not hold the token')
      assert.match(html, /<form method="post" action="\/password-reset\/choose"/)

      const done = await choose(opened.cookie)
      assert.equal(done.status, 200)
      assert.match(decoded(await done.text()), /Toutes les sessions ouvertes .* ont été fermées/)
      assert.match(done.headers.getSetCookie().join('\n'), /m2s_reset=;/)
      assert.ok(await verifyPassword(NEW_PASSWORD, await aliceHash()))

      // Every session of Alice ended; Bob's did not.
      for (const cookie of [session, other]) {
        const page = await get(h.app, '/details', cookie)
        assert.equal(page.status, 302, 'an ended session goes back to the login')
      }
      assert.equal((await get(h.app, '/details', bob)).status, 200)
      await assert.rejects(login(h.app, 'alice@acme.test', PASSWORD))
      await login(h.app, 'alice@acme.test', NEW_PASSWORD)

      await h.deps.background?.settled()
      assert.equal(h.mailer.sent.length, 2)
      assert.equal(h.mailer.sent[1].to, 'alice@acme.test')
      assert.match(h.mailer.sent[1].subject, /a été changé/)
      assert.match(h.mailer.sent[1].text, /Toutes les sessions ouvertes avec cet identifiant/)
      assert.equal(await countRows('admin_password_resets'), 0)
    })

    it('gives the same answer for an address without a login, and mails nobody', async () => {
      const known = await ask('alice@acme.test')
      const unknown = await ask('nobody@acme.test')
      assert.equal(unknown.status, known.status)
      assert.equal(await unknown.text(), await known.text())
      assert.deepEqual(unknown.headers.getSetCookie(), known.headers.getSetCookie())
      assert.equal(h.mailer.sent.length, 1)
      assert.equal(h.mailer.sent[0].to, 'alice@acme.test')
    })

    it('answers before the mail has left, so the time does not tell a login apart', async () => {
      const held = new HeldMailer()
      const kept = h.deps.mailer
      h.deps.mailer = held
      try {
        const res = await send('/password-reset', { fields: { email: 'alice@acme.test' } })
        assert.equal(res.status, 200)
        // Let the lookup and the link reach the mailer.
        while (held.waiting === 0) await new Promise((r) => setTimeout(r, 5))
        assert.equal(held.sent.length, 0, 'the page came back with the mail still waiting')
        held.open()
        await h.deps.background?.settled()
        assert.equal(held.sent.length, 1)
      } finally {
        h.deps.mailer = kept
      }
    })

    it('refuses an expired link and leaves the password as it was', async () => {
      await ask('alice@acme.test')
      const path = resetPathOf(h.mailer.sent[0].text)
      const opened = await open(path)
      h.clock.advance(TTL_MS)
      const late = await choose(opened.cookie)
      assert.equal(late.status, 410)
      assert.match(decoded(await late.text()), /Ce lien de réinitialisation a expiré/)
      const again = await send(path)
      assert.equal(again.status, 410)
      assert.match(
        again.headers.getSetCookie().join(),
        /m2s_reset=; Max-Age=0; Path=\/password-reset/,
      )
      assert.ok(await verifyPassword(PASSWORD, await aliceHash()))
    })

    it('refuses a link already used, and one replaced by a newer request', async () => {
      await ask('alice@acme.test')
      const first = resetPathOf(h.mailer.sent[0].text)
      await ask('alice@acme.test')
      const second = resetPathOf(h.mailer.sent[1].text)
      const replaced = await send(first)
      assert.equal(replaced.status, 404)
      assert.match(decoded(await replaced.text()), /a été remplacé par un plus récent/)

      const opened = await open(second)
      assert.equal((await choose(opened.cookie)).status, 200)
      assert.equal((await send(second)).status, 404)
      const reused = await choose(opened.cookie, 'yet another passphrase')
      assert.equal(reused.status, 404)
      assert.ok(await verifyPassword(NEW_PASSWORD, await aliceHash()))
    })

    it('refuses a wrong token, a forged cookie and a form without one', async () => {
      await ask('alice@acme.test')
      const wrong = await send(`/password-reset/${'A'.repeat(43)}`)
      assert.equal(wrong.status, 404)
      const mangled = await send('/password-reset/cut-short-by-a-mail-client')
      assert.equal(mangled.status, 404)
      assert.match(decoded(await mangled.text()), /Demander un nouveau lien/)
      const token = resetPathOf(h.mailer.sent[0].text).split('/').pop()
      const forged = `m2s_reset=${token}.forged-signature`
      assert.equal((await choose(forged)).status, 404)
      assert.equal((await choose('')).status, 404)
      assert.equal((await send('/password-reset/choose')).status, 404)
      assert.ok(await verifyPassword(PASSWORD, await aliceHash()))
    })

    it('applies the password rules, and the link stays usable after a refusal', async () => {
      await ask('alice@acme.test')
      const { cookie } = await open(resetPathOf(h.mailer.sent[0].text))
      const short = await choose(cookie, 'short')
      assert.equal(short.status, 400)
      assert.match(decoded(await short.text()), /au moins 10 caractères/)
      const long = await choose(cookie, 'x'.repeat(201))
      assert.equal(long.status, 400)
      assert.match(decoded(await long.text()), /au plus 200 caractères/)
      const mismatch = await choose(cookie, NEW_PASSWORD, `${NEW_PASSWORD}!`)
      assert.equal(mismatch.status, 400)
      assert.match(decoded(await mismatch.text()), /sont différentes/)
      assert.ok(await verifyPassword(PASSWORD, await aliceHash()))
      assert.equal((await choose(cookie)).status, 200)
    })

    it('limits mails per address, with or without a login, and per client', async () => {
      for (const email of ['alice@acme.test', 'nobody@acme.test']) {
        for (let i = 0; i < 3; i++) assert.equal((await ask(email)).status, 200)
        const refused = await ask(email, '198.51.100.7')
        assert.equal(refused.status, 429, 'counted per address, whatever the client')
        assert.equal(refused.headers.get('retry-after'), '3600')
        assert.match(decoded(await refused.text()), /Trop de demandes/)
      }
      assert.equal(h.mailer.sent.length, 3)

      // The client: six requests so far; four more addresses reach ten.
      for (let i = 0; i < 4; i++) assert.equal((await ask(`x${i}@acme.test`)).status, 200)
      assert.equal((await ask('bob@multi.test')).status, 429)
      assert.equal((await ask('bob@multi.test', '2001:db8::1')).status, 200)
      assert.equal(h.mailer.sent.at(-1)?.to, 'bob@multi.test')

      h.clock.advance(TTL_MS)
      assert.equal((await ask('alice@acme.test')).status, 200, 'the next window starts afresh')
    })

    it('refuses reset forms sent from another origin', async () => {
      const noOrigin = await send('/password-reset', {
        fields: { email: 'alice@acme.test' },
        origin: null,
      })
      assert.equal(noOrigin.status, 403)
      const evil = await send('/password-reset', {
        fields: { email: 'alice@acme.test' },
        origin: 'http://evil.test',
      })
      assert.equal(evil.status, 403)
      await h.deps.background?.settled()
      assert.equal(h.mailer.sent.length, 0)

      await ask('alice@acme.test')
      const { cookie } = await open(resetPathOf(h.mailer.sent[0].text))
      const forged = await send('/password-reset/choose', {
        fields: { password: NEW_PASSWORD, confirm: NEW_PASSWORD },
        cookie,
        origin: 'http://evil.test',
      })
      assert.equal(forged.status, 403)
      assert.ok(await verifyPassword(PASSWORD, await aliceHash()))
    })

    it('asks again for an address that is not one, without counting it', async () => {
      const res = await ask('not an address')
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /Saisissez une adresse e-mail valide/)
      assert.equal(await countRows('usage_counters'), 0)
    })

    it('keeps the link that works when the new one could not be mailed', async () => {
      await ask('alice@acme.test')
      const first = resetPathOf(h.mailer.sent[0].text)
      h.mailer.failWith = new Error('relay down')
      assert.equal((await ask('alice@acme.test')).status, 200)
      assert.equal(h.logs.length, 1)
      assert.match(h.logs[0], /password reset mail to=alice@acme\.test failed: relay down/)
      assert.ok(!h.logs[0].includes(first.split('/').pop() ?? ''))
      h.mailer.failWith = null
      assert.equal((await send(first)).status, 303, 'the first link still works')
    })

    it('lifts the lock failed logins put on the address', async () => {
      for (let i = 0; i < 5; i++) {
        await send('/login', { fields: { email: 'alice@acme.test', password: `guess-${i}` } })
      }
      const key = { throttle_key: 'email:alice@acme.test' }
      assert.ok((await h.db('login_throttle').where(key).first())?.locked_until, 'locked')
      await ask('alice@acme.test', '203.0.113.9')
      const { cookie } = await open(resetPathOf(h.mailer.sent[0].text))
      assert.equal((await choose(cookie)).status, 200)
      assert.equal(await h.db('login_throttle').where(key).first(), undefined)
    })
  })
}
