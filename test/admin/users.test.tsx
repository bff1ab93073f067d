import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import {
  createAdminHarness,
  follow,
  get,
  linkOf,
  login,
  PASSWORD,
  postForm,
  SMS_DOMAIN,
  type AdminHarness,
} from './harness'
import { addSender } from '../../lib/db/senders'
import { readCacheVersion } from '../../lib/db/versions'

for (const kind of databaseKinds()) {
  describe(`admin Utilisateurs and activation (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness
    let alice: string
    let usersPath: string

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(async () => {
      await h.reset()
      alice = await login(h.app, 'alice@acme.test', PASSWORD)
      usersPath = `/a/${h.accounts.acme.id}/users`
    })
    after(() => h.drop())

    async function senders(accountId = h.accounts.acme.id) {
      return h.db('account_senders').where({ account_id: accountId }).orderBy('email')
    }

    it('lists the senders with their status in the guide’s words', async () => {
      await addSender(h.db, h.accounts.acme.id, 'accepted@acme.test', { status: 'accepted' })
      await addSender(h.db, h.accounts.acme.id, 'pending@acme.test', { status: 'pending' })
      await addSender(h.db, h.accounts.globex.id, 'other@globex.test', { status: 'accepted' })
      const res = await get(h.app, usersPath, alice)
      assert.equal(res.status, 200)
      const html = await res.text()
      assert.match(html, /<h1 class="page-title">Utilisateurs</)
      assert.match(html, /Accueil.*Envoi en cours.*Utilisateurs/s)
      assert.match(
        html,
        /accepted@acme\.test<\/td><td><span class="status status-accepted">Utilisateur accepté/,
      )
      assert.match(
        html,
        /pending@acme\.test<\/td><td><span class="status status-pending">En attente/,
      )
      assert.doesNotMatch(html, /other@globex\.test/)
      // Effacer for both, Renvoyer for the pending one only.
      assert.equal(html.match(/>Effacer</g)?.length, 2)
      assert.equal(html.match(/>Renvoyer</g)?.length, 1)
      assert.match(html, /<h2 id="add-user-title">Ajouter un nouvel utilisateur<\/h2>/)
      assert.match(html, /<label for="email">Email<\/label>/)
      assert.match(html, /<button type="submit" class="primary">Ajouter<\/button>/)
    })

    it('speaks English with Accept-Language: en', async () => {
      await addSender(h.db, h.accounts.acme.id, 'pending@acme.test', { status: 'pending' })
      const res = await get(h.app, usersPath, alice, { 'accept-language': 'en-US,en;q=0.8' })
      const html = await res.text()
      assert.match(html, /<html lang="en">/)
      assert.match(html, /Logged in as <\/span><strong[^>]*>alice@acme\.test<\/strong>/)
      assert.match(html, />Pending</)
      assert.match(html, />Add</)
    })

    it('invites a new address: pending, a mail with the link, a flash, the directory bumped', async () => {
      const before = await readCacheVersion(h.db, 'directory')
      const res = await postForm(
        h.app,
        usersPath,
        { email: ' New.User@Example.COM ' },
        { cookie: alice },
      )
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), usersPath)
      const rows = await senders()
      assert.equal(rows.length, 1)
      assert.equal(rows[0].email, 'new.user@example.com')
      assert.equal(rows[0].status, 'pending')
      assert.equal(rows[0].invitation_token_hash.length, 64)
      assert.equal(Number(rows[0].invitation_expires_at), h.clock.now + 72 * 3_600_000)
      assert.ok((await readCacheVersion(h.db, 'directory')) > before)

      assert.equal(h.mailer.sent.length, 1)
      const mail = h.mailer.sent[0]
      assert.equal(mail.to, 'new.user@example.com')
      assert.equal(mail.subject, 'Invitation à envoyer des SMS par e-mail – Acme SA')
      assert.match(
        mail.text,
        /Alice \(alice@acme\.test\) vous invite .* new\.user@example\.com avec le compte « Acme SA »/,
      )
      assert.match(mail.text, new RegExp(`<numéro>@${SMS_DOMAIN.replace('.', '\\.')}`))
      assert.match(mail.text, /0612345678@sms\.test/)
      assert.match(mail.text, /valable jusqu’au 30 nov\. 2026.* UTC/)
      // The token in the link is not what the table stores.
      const link = linkOf(mail.text)
      assert.ok(!link.includes(rows[0].invitation_token_hash))

      const { res: page } = await follow(h.app, res, alice)
      const html = await page.text()
      assert.match(
        html,
        /class="flash flash-ok" role="status">Invitation envoyée à new\.user@example\.com/,
      )
      assert.match(html, /new\.user@example\.com<\/td>/)
    })

    it('writes the invitation in the inviting admin’s language', async () => {
      const res = await postForm(
        h.app,
        usersPath,
        { email: 'en@example.com' },
        { cookie: `${alice}; lang=en` },
      )
      assert.equal(res.status, 303)
      const mail = h.mailer.sent[0]
      assert.equal(mail.subject, 'Invitation to send SMS by email – Acme SA')
      assert.match(mail.text, /Alice \(alice@acme\.test\) invites you/)
      assert.match(mail.text, /This link is valid until 30 Nov 2026/)
    })

    it('refuses a bad address with 400, the message and the typed value', async () => {
      const res = await postForm(h.app, usersPath, { email: 'not an <email>' }, { cookie: alice })
      assert.equal(res.status, 400)
      const html = await res.text()
      assert.match(html, /Saisissez une adresse e-mail valide/)
      assert.match(html, /value="not an &lt;email&gt;"/)
      assert.match(html, /aria-invalid="true"/)
      assert.equal((await senders()).length, 0)
      assert.equal(h.mailer.sent.length, 0)
    })

    it('refuses an address already accepted, and re-invites a pending one with a new link', async () => {
      await addSender(h.db, h.accounts.acme.id, 'done@acme.test', { status: 'accepted' })
      const refused = await postForm(
        h.app,
        usersPath,
        { email: 'DONE@acme.test' },
        { cookie: alice },
      )
      assert.equal(refused.status, 400)
      assert.match(await refused.text(), /done@acme\.test est déjà un utilisateur accepté/)

      await postForm(h.app, usersPath, { email: 'wait@acme.test' }, { cookie: alice })
      const firstLink = linkOf(h.mailer.sent[0].text)
      const again = await postForm(h.app, usersPath, { email: 'wait@acme.test' }, { cookie: alice })
      assert.equal(again.status, 303)
      const secondLink = linkOf(h.mailer.sent[1].text)
      assert.notEqual(firstLink, secondLink)
      assert.equal((await get(h.app, firstLink)).status, 404)
      assert.equal((await get(h.app, secondLink)).status, 200)
      const { res: page } = await follow(h.app, again, alice)
      assert.match(await page.text(), /wait@acme\.test était en attente/)
    })

    it('resends an invitation to a pending sender only', async () => {
      await postForm(h.app, usersPath, { email: 'wait@acme.test' }, { cookie: alice })
      const [row] = await senders()
      h.clock.advance(3_600_000)
      const res = await postForm(h.app, `${usersPath}/${row.id}/resend`, {}, { cookie: alice })
      assert.equal(res.status, 303)
      assert.equal(h.mailer.sent.length, 2)
      const [after] = await senders()
      assert.equal(Number(after.invitation_expires_at), h.clock.now + 72 * 3_600_000)
      assert.notEqual(after.invitation_token_hash, row.invitation_token_hash)
      // The resent mail reaches the same person with a new link; the first one no longer works.
      const [first, resent] = h.mailer.sent
      assert.deepEqual([resent.to].flat(), ['wait@acme.test'])
      assert.deepEqual(resent.to, first.to)
      const firstLink = linkOf(first.text)
      const resentLink = linkOf(resent.text)
      assert.notEqual(resentLink, firstLink)
      assert.equal((await get(h.app, firstLink)).status, 404)
      assert.equal((await get(h.app, resentLink)).status, 200)

      const accepted = await addSender(h.db, h.accounts.acme.id, 'ok@acme.test', {
        status: 'accepted',
      })
      const refused = await postForm(
        h.app,
        `${usersPath}/${accepted.id}/resend`,
        {},
        { cookie: alice },
      )
      assert.equal(refused.status, 404)
      assert.equal(h.mailer.sent.length, 2)
    })

    it('keeps the sender and says so when the invitation mail cannot leave', async () => {
      h.mailer.failWith = new Error('relay down')
      const res = await postForm(h.app, usersPath, { email: 'x@acme.test' }, { cookie: alice })
      assert.equal(res.status, 303)
      assert.equal((await senders()).length, 1)
      const { res: page } = await follow(h.app, res, alice)
      assert.match(
        await page.text(),
        /flash-error.*x@acme\.test est ajouté, mais l’e-mail d’invitation n’a pas pu partir/s,
      )
      assert.match(
        h.logs.join('\n'),
        /invitation mail to=x@acme\.test account=acme failed: relay down/,
      )
    })

    it('deletes a sender with Effacer and bumps the directory', async () => {
      const s = await addSender(h.db, h.accounts.acme.id, 'bye@acme.test', { status: 'accepted' })
      const before = await readCacheVersion(h.db, 'directory')
      const res = await postForm(h.app, `${usersPath}/${s.id}/delete`, {}, { cookie: alice })
      assert.equal(res.status, 303)
      assert.equal((await senders()).length, 0)
      assert.ok((await readCacheVersion(h.db, 'directory')) > before)
      const { res: page } = await follow(h.app, res, alice)
      assert.match(await page.text(), /bye@acme\.test a été effacé/)
    })

    it('never reaches another account’s senders, whatever the URL', async () => {
      const theirs = await addSender(h.db, h.accounts.globex.id, 'them@globex.test', {
        status: 'pending',
      })
      const globexPath = `/a/${h.accounts.globex.id}/users`
      // Alice does not administer globex: the same 404 as an account that does not exist.
      const page = await get(h.app, globexPath, alice)
      assert.equal(page.status, 404)
      const missing = await get(h.app, '/a/999999/users', alice)
      assert.equal(missing.status, 404)
      assert.equal(
        await page.text().then((t) => t.replace(/\/a\/\d+\/users"/g, '')),
        await missing.text().then((t) => t.replace(/\/a\/\d+\/users"/g, '')),
      )
      for (const bad of [
        '/a/0/users',
        '/a/01/users',
        '/a/abc/users',
        `/a/${h.accounts.acme.id}x/users`,
      ]) {
        assert.equal((await get(h.app, bad, alice)).status, 404, bad)
      }
      // Posting to globex's path, or to her own path with globex's sender id: nothing changes.
      const attempts = [
        postForm(h.app, `${globexPath}/${theirs.id}/delete`, {}, { cookie: alice }),
        postForm(h.app, `${usersPath}/${theirs.id}/delete`, {}, { cookie: alice }),
        postForm(h.app, `${usersPath}/${theirs.id}/resend`, {}, { cookie: alice }),
        postForm(h.app, globexPath, { email: 'sneak@acme.test' }, { cookie: alice }),
      ]
      for (const res of await Promise.all(attempts)) assert.equal(res.status, 404)
      const rows = await senders(h.accounts.globex.id)
      assert.equal(rows.length, 1)
      assert.equal(rows[0].invitation_token_hash, null)
      assert.equal(h.mailer.sent.length, 0)
      // Bob administers both and may.
      const bob = await login(h.app, 'bob@multi.test', PASSWORD)
      assert.equal((await get(h.app, globexPath, bob)).status, 200)
    })

    it('refuses a POST without Origin, or from another origin, with 403', async () => {
      const none = await postForm(
        h.app,
        usersPath,
        { email: 'a@acme.test' },
        { cookie: alice, omitOrigin: true },
      )
      assert.equal(none.status, 403)
      const evil = await postForm(
        h.app,
        usersPath,
        { email: 'a@acme.test' },
        { cookie: alice, origin: 'http://evil.test' },
      )
      assert.equal(evil.status, 403)
      assert.match(await evil.text(), /Requête refusée/)
      assert.equal((await senders()).length, 0)
    })

    describe('activation link', () => {
      async function invite(email: string): Promise<string> {
        const res = await postForm(h.app, usersPath, { email }, { cookie: alice })
        assert.equal(res.status, 303)
        return linkOf(h.mailer.sent[h.mailer.sent.length - 1].text)
      }

      it('shows the account and the address, and changes nothing until confirmed', async () => {
        const link = await invite('new@example.com')
        const res = await get(h.app, link)
        assert.equal(res.status, 200)
        const html = await res.text()
        assert.match(html, /Confirmez que new@example\.com pourra envoyer des SMS .* « Acme SA »/)
        assert.match(html, new RegExp(`<form method="post" action="${link}">`))
        assert.match(html, /<button type="submit" class="primary">Confirmer<\/button>/)
        assert.equal((await senders())[0].status, 'pending')
      })

      it('accepts once: the sender is accepted, default, the directory bumped; the link is spent', async () => {
        const link = await invite('new@example.com')
        const before = await readCacheVersion(h.db, 'directory')
        h.clock.advance(60_000)
        const res = await postForm(h.app, link, {})
        assert.equal(res.status, 200)
        const html = await res.text()
        assert.match(
          html,
          /new@example\.com peut maintenant envoyer des SMS avec le compte « Acme SA »/,
        )
        assert.match(html, /0612345678@sms\.test/)
        const [row] = await senders()
        assert.equal(row.status, 'accepted')
        assert.equal(Number(row.accepted_at), h.clock.now)
        assert.equal(row.invitation_token_hash, null)
        assert.equal(row.invitation_expires_at, null)
        assert.equal(Boolean(row.is_default), true)
        assert.ok((await readCacheVersion(h.db, 'directory')) > before)

        for (const again of [await get(h.app, link), await postForm(h.app, link, {})]) {
          assert.equal(again.status, 404)
          assert.match(await again.text(), /déjà été utilisé ou n’est pas valable/)
        }
        // The list shows it accepted.
        assert.match(await (await get(h.app, usersPath, alice)).text(), /Utilisateur accepté/)
      })

      it('keeps the existing default account of an address', async () => {
        await addSender(h.db, h.accounts.globex.id, 'both@example.com', {
          status: 'accepted',
          isDefault: true,
        })
        const link = await invite('both@example.com')
        assert.equal((await postForm(h.app, link, {})).status, 200)
        const [row] = await senders()
        assert.equal(row.status, 'accepted')
        assert.equal(Boolean(row.is_default), false)
      })

      it('answers 410 to an expired link, asking for a new invitation', async () => {
        const link = await invite('late@example.com')
        h.clock.advance(72 * 3_600_000)
        for (const res of [await get(h.app, link), await postForm(h.app, link, {})]) {
          assert.equal(res.status, 410)
          assert.match(await res.text(), /a expiré\. Demandez à l’administrateur de votre compte/)
        }
        assert.equal((await senders())[0].status, 'pending')
      })

      it('answers 404 to an unknown or malformed token', async () => {
        for (const link of [
          '/activate/' + 'A'.repeat(43),
          '/activate/short',
          '/activate/%3Cscript%3E',
        ]) {
          const res = await get(h.app, link)
          assert.equal(res.status, 404, link)
          assert.match(await res.text(), /Lien non valable/)
        }
      })

      it('needs the Origin of the admin to confirm', async () => {
        const link = await invite('new@example.com')
        assert.equal((await postForm(h.app, link, {}, { omitOrigin: true })).status, 403)
        assert.equal((await senders())[0].status, 'pending')
      })
    })
  })
}
