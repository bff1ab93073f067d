import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import {
  createAdminHarness,
  decoded,
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
      assert.equal((await get(h.app, firstLink)).status, 410)
      assert.equal((await get(h.app, secondLink)).status, 200)
    })

    describe('inviting a pending address again', () => {
      /** Invites `email` twice, an hour apart; returns both links and the second answer. */
      async function inviteTwice(email: string, cookie: string) {
        await postForm(h.app, usersPath, { email }, { cookie })
        const first = linkOf(h.mailer.sent[h.mailer.sent.length - 1].text)
        h.clock.advance(3_600_000)
        const again = await postForm(h.app, usersPath, { email }, { cookie })
        assert.equal(again.status, 303)
        const second = linkOf(h.mailer.sent[h.mailer.sent.length - 1].text)
        return { first, second, again }
      }

      it('says plainly, in French, that only the new mail’s link works', async () => {
        const { again } = await inviteTwice('wait@acme.test', alice)
        const { res: page } = await follow(h.app, again, alice)
        assert.match(
          await page.text(),
          /flash-ok" role="status">wait@acme\.test était en attente : une nouvelle invitation est partie\. Le lien de l’invitation précédente ne fonctionne plus ; seul celui du nouvel e-mail est valable\.</,
        )
      })

      it('says the same in English', async () => {
        const english = `${alice}; lang=en`
        const { again } = await inviteTwice('wait@acme.test', english)
        const { res: page } = await follow(h.app, again, english)
        assert.match(
          decoded(await page.text()),
          /flash-ok" role="status">wait@acme\.test was pending: a new invitation has been sent\. The link in the earlier invitation no longer works; only the link in the new email does\.</,
        )
      })

      it('keeps one working link: the earlier one says it was replaced, in both languages', async () => {
        const { first, second } = await inviteTwice('wait@acme.test', alice)
        const fr = await get(h.app, first)
        assert.equal(fr.status, 410)
        const frText = await fr.text()
        assert.match(frText, /<h1>Lien remplacé<\/h1>/)
        assert.match(
          frText,
          /Une invitation plus récente a été envoyée à wait@acme\.test le 27 nov\. 2026,? 10:00 UTC : ce lien-ci ne fonctionne plus\./,
        )
        assert.match(
          frText,
          /Utilisez le lien du dernier e-mail d’invitation reçu pour le compte « Acme SA »/,
        )
        assert.doesNotMatch(frText, /pas valable/)
        const en = await get(h.app, first, '', { 'accept-language': 'en' })
        assert.equal(en.status, 410)
        const enText = decoded(await en.text())
        assert.match(enText, /<h1>Link replaced<\/h1>/)
        assert.match(
          enText,
          /A newer invitation was sent to wait@acme\.test on 27 Nov 2026,? 10:00 UTC: this link no longer works\./,
        )
        assert.match(enText, /latest invitation email you received for the account "Acme SA"/)

        // Confirming through the replaced link activates nothing; the new link does.
        const refused = await postForm(h.app, first, {})
        assert.equal(refused.status, 303)
        assert.equal((await follow(h.app, refused)).res.status, 410)
        assert.equal((await senders())[0].status, 'pending')
        assert.equal((await follow(h.app, await postForm(h.app, second, {}))).res.status, 200)
        assert.equal((await senders())[0].status, 'accepted')
        // Once the address is activated, the replaced link says so too.
        const after = await get(h.app, first)
        assert.equal(after.status, 200)
        assert.match(await after.text(), /<h1>Adresse activée<\/h1>/)
      })
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
      const replaced = await get(h.app, firstLink)
      assert.equal(replaced.status, 410)
      assert.match(await replaced.text(), /Une invitation plus récente a été envoyée/)
      assert.equal((await get(h.app, resentLink)).status, 200)
      const { res: page } = await follow(h.app, res, alice)
      assert.match(
        await page.text(),
        /flash-ok" role="status">Invitation renvoyée à wait@acme\.test\. Le lien de l’invitation précédente ne fonctionne plus ; seul celui du nouvel e-mail est valable\.</,
      )
      const english = `${alice}; lang=en`
      const inEnglish = await postForm(
        h.app,
        `${usersPath}/${row.id}/resend`,
        {},
        { cookie: english },
      )
      assert.match(
        decoded(await (await follow(h.app, inEnglish, english)).res.text()),
        /Invitation sent again to wait@acme\.test\. The link in the earlier invitation no longer works; only the link in the new email does\./,
      )

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
      assert.equal(h.mailer.sent.length, 3)
    })

    it('keeps the earlier link working, and says so, when a resent mail cannot leave', async () => {
      await postForm(h.app, usersPath, { email: 'wait@acme.test' }, { cookie: alice })
      const firstLink = linkOf(h.mailer.sent[0].text)
      const [row] = await senders()
      h.mailer.failWith = new Error('relay down')
      for (const [path, fields] of [
        [`${usersPath}/${row.id}/resend`, {}],
        [usersPath, { email: 'wait@acme.test' }],
      ] as const) {
        const res = await postForm(h.app, path, fields, { cookie: alice })
        assert.equal(res.status, 303)
        assert.match(
          await (await follow(h.app, res, alice)).res.text(),
          /flash-error" role="alert">L’e-mail d’invitation à wait@acme\.test n’a pas pu partir : le lien de l’invitation précédente reste valable\. Réessayez avec « Renvoyer »\./,
        )
        assert.equal((await get(h.app, firstLink)).status, 200)
      }
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

    describe('Effacer', () => {
      it('asks first, on a page naming the user and the account; only its form deletes', async () => {
        const s = await addSender(h.db, h.accounts.acme.id, 'bye@acme.test', { status: 'accepted' })
        await addSender(h.db, h.accounts.acme.id, 'stay@acme.test', { status: 'accepted' })
        const list = await (await get(h.app, usersPath, alice)).text()
        // The list's button only opens the confirmation (GET changes nothing).
        assert.match(
          list,
          new RegExp(
            `<form method="get" action="${usersPath}/${s.id}/delete" class="inline"><button type="submit" class="danger" aria-label="Effacer bye@acme\\.test">Effacer</button></form>`,
          ),
        )
        const ask = await get(h.app, `${usersPath}/${s.id}/delete`, alice)
        assert.equal(ask.status, 200)
        const html = await ask.text()
        assert.match(html, /<h1 class="page-title">Effacer un utilisateur</)
        assert.match(html, /Effacer l’utilisateur bye@acme\.test du compte « Acme SA » \?/)
        assert.match(html, /bye@acme\.test ne pourra plus envoyer de SMS avec ce compte/)
        assert.doesNotMatch(html, /stay@acme\.test/)
        assert.match(
          html,
          new RegExp(
            `<form method="post" action="${usersPath}/${s.id}/delete" class="inline"><input type="hidden" name="confirm" value="yes"/><button type="submit" class="danger">Supprimer</button></form><a href="${usersPath}">Annuler</a>`,
          ),
        )
        assert.equal((await senders()).length, 2)

        const before = await readCacheVersion(h.db, 'directory')
        const res = await postForm(
          h.app,
          `${usersPath}/${s.id}/delete`,
          { confirm: 'yes' },
          { cookie: alice },
        )
        assert.equal(res.status, 303)
        assert.equal(res.headers.get('location'), usersPath)
        assert.deepEqual(
          (await senders()).map((r) => r.email),
          ['stay@acme.test'],
        )
        assert.ok((await readCacheVersion(h.db, 'directory')) > before)
        const { res: page } = await follow(h.app, res, alice)
        assert.match(await page.text(), /bye@acme\.test a été effacé/)
        // Gone: its confirmation page is a 404 now.
        assert.equal((await get(h.app, `${usersPath}/${s.id}/delete`, alice)).status, 404)
      })

      it('says what a pending user loses, and speaks English', async () => {
        const s = await addSender(h.db, h.accounts.acme.id, 'wait@acme.test', { status: 'pending' })
        const fr = await (await get(h.app, `${usersPath}/${s.id}/delete`, alice)).text()
        assert.match(fr, /L’invitation envoyée à wait@acme\.test ne fonctionnera plus/)
        const en = decoded(
          await (await get(h.app, `${usersPath}/${s.id}/delete`, `${alice}; lang=en`)).text(),
        )
        assert.match(en, /<h1 class="page-title">Delete a user</)
        assert.match(en, /Delete the user wait@acme\.test from the account "Acme SA"\?/)
        assert.match(en, /The invitation sent to wait@acme\.test will stop working/)
        assert.match(en, /class="danger">Delete<\/button>/)
        assert.match(en, new RegExp(`<a href="${usersPath}">Cancel</a>`))
      })

      it('deletes nothing on a POST that skipped the confirmation: it leads there', async () => {
        const s = await addSender(h.db, h.accounts.acme.id, 'bye@acme.test', { status: 'accepted' })
        const skipping: Array<Record<string, string>> = [
          {},
          { confirm: '' },
          { confirm: 'no' },
          { confirm: 'YES' },
        ]
        for (const fields of skipping) {
          const res = await postForm(h.app, `${usersPath}/${s.id}/delete`, fields, {
            cookie: alice,
          })
          assert.equal(res.status, 303, JSON.stringify(fields))
          assert.equal(res.headers.get('location'), `${usersPath}/${s.id}/delete`)
        }
        assert.equal((await senders()).length, 1)
      })

      it('needs the admin’s Origin to delete, even confirmed', async () => {
        const s = await addSender(h.db, h.accounts.acme.id, 'bye@acme.test', { status: 'accepted' })
        for (const options of [{ omitOrigin: true }, { origin: 'http://evil.test' }]) {
          const res = await postForm(
            h.app,
            `${usersPath}/${s.id}/delete`,
            { confirm: 'yes' },
            { cookie: alice, ...options },
          )
          assert.equal(res.status, 403)
        }
        assert.equal((await senders()).length, 1)
      })
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
      // The confirmation page of their sender, by either path: the same 404.
      for (const path of [
        `${globexPath}/${theirs.id}/delete`,
        `${usersPath}/${theirs.id}/delete`,
      ]) {
        assert.equal((await get(h.app, path, alice)).status, 404, path)
      }
      // Posting to globex's path, or to her own path with globex's sender id: nothing changes.
      const attempts = [
        postForm(h.app, `${globexPath}/${theirs.id}/delete`, { confirm: 'yes' }, { cookie: alice }),
        postForm(h.app, `${usersPath}/${theirs.id}/delete`, { confirm: 'yes' }, { cookie: alice }),
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
        // Post, redirect, get: the page after "Confirmer" is the link's own page.
        const res = await postForm(h.app, link, {})
        assert.equal(res.status, 303)
        assert.equal(res.headers.get('location'), link)
        const { res: done } = await follow(h.app, res)
        assert.equal(done.status, 200)
        const html = await done.text()
        assert.match(html, /<h1>Adresse activée<\/h1>/)
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

        // Reloading that page, or opening the link again later, says it is activated; a second
        // confirmation changes nothing.
        h.clock.advance(60_000)
        const again = await postForm(h.app, link, {})
        assert.equal(again.status, 303)
        for (const page of [await get(h.app, link), (await follow(h.app, again)).res]) {
          assert.equal(page.status, 200)
          assert.match(
            await page.text(),
            /role="status">C’est fait : new@example\.com peut maintenant envoyer des SMS/,
          )
        }
        assert.equal(Number((await senders())[0].accepted_at), h.clock.now - 60_000)
        // The list shows it accepted.
        assert.match(await (await get(h.app, usersPath, alice)).text(), /Utilisateur accepté/)
      })

      it('keeps the existing default account of an address', async () => {
        await addSender(h.db, h.accounts.globex.id, 'both@example.com', {
          status: 'accepted',
          isDefault: true,
        })
        const link = await invite('both@example.com')
        assert.equal((await postForm(h.app, link, {})).status, 303)
        const [row] = await senders()
        assert.equal(row.status, 'accepted')
        assert.equal(Boolean(row.is_default), false)
      })

      it('answers 410 to an expired link, asking for a new invitation', async () => {
        const link = await invite('late@example.com')
        h.clock.advance(72 * 3_600_000)
        const confirmed = await postForm(h.app, link, {})
        assert.equal(confirmed.status, 303)
        for (const res of [await get(h.app, link), (await follow(h.app, confirmed)).res]) {
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
