import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import { addSender } from '../../lib/db/senders'
import {
  createAdminHarness,
  decoded,
  follow,
  get,
  linkOf,
  login,
  PASSWORD,
  postForm,
  type AdminHarness,
} from './harness'

const HOUR = 3_600_000

for (const kind of databaseKinds()) {
  describe(`admin invitation mail quotas (${kind})`, function () {
    this.timeout(60_000)
    let h: AdminHarness
    let alice: string
    let bob: string
    let acmeUsers: string
    let globexUsers: string

    before(async () => {
      // A small account quota, so that the test reaches it with a few mails.
      h = await createAdminHarness(kind, {
        config: { invitationMailsPerAddress: 3, invitationMailsPerAccount: 5 },
      })
    })
    beforeEach(async () => {
      await h.reset()
      alice = await login(h.app, 'alice@acme.test', PASSWORD)
      bob = await login(h.app, 'bob@multi.test', PASSWORD)
      acmeUsers = `/a/${h.accounts.acme.id}/users`
      globexUsers = `/a/${h.accounts.globex.id}/users`
    })
    after(() => h.drop())

    const tokenHashOf = async (email: string) =>
      (await h.db('account_senders').where({ account_id: h.accounts.acme.id, email }).first())
        .invitation_token_hash as string

    it('sends at most 3 invitations an hour to one address, new or resent, and says until when', async () => {
      const invite = () =>
        postForm(h.app, acmeUsers, { email: 'target@victim.test' }, { cookie: alice })
      assert.equal((await invite()).status, 303)
      const { id } = await h.db('account_senders').where({ email: 'target@victim.test' }).first()
      assert.equal(
        (await postForm(h.app, `${acmeUsers}/${id}/resend`, {}, { cookie: alice })).status,
        303,
      )
      h.clock.advance(10 * 60_000)
      assert.equal((await invite()).status, 303)
      assert.equal(h.mailer.sent.length, 3)
      const hash = await tokenHashOf('target@victim.test')
      const lastLink = linkOf(h.mailer.sent[2].text)

      const refused = await invite()
      assert.equal(refused.status, 429)
      // The window started with the first mail, at 09:00 UTC: it ends at 10:00.
      assert.equal(refused.headers.get('retry-after'), String(50 * 60))
      assert.match(
        decoded(await refused.text()),
        /target@victim\.test a déjà reçu 3 invitations récemment : aucun e-mail n’est parti et le lien actuel reste valable\. Vous pourrez réessayer à partir du 27 nov\. 2026, 10:00 UTC\./,
      )
      const resent = await postForm(
        h.app,
        `${acmeUsers}/${id}/resend`,
        {},
        { cookie: alice, headers: { 'accept-language': 'en' } },
      )
      assert.equal(resent.status, 429)
      assert.match(
        decoded(await resent.text()),
        /flash-error.*target@victim\.test has already been sent 3 invitations recently: no email was sent and the current link still works\. You can try again from 27 Nov 2026, 10:00 UTC\./s,
      )
      // Nothing sent, the link unchanged and still working.
      assert.equal(h.mailer.sent.length, 3)
      assert.equal(await tokenHashOf('target@victim.test'), hash)
      assert.equal((await get(h.app, lastLink)).status, 200)

      // Another account cannot flood the same mailbox either.
      const fromGlobex = await postForm(
        h.app,
        globexUsers,
        { email: 'target@victim.test' },
        { cookie: bob },
      )
      assert.equal(fromGlobex.status, 429)
      assert.equal(h.mailer.sent.length, 3)

      h.clock.advance(50 * 60_000)
      assert.equal((await invite()).status, 303)
      assert.equal(h.mailer.sent.length, 4)
    })

    it('sends at most the account’s quota an hour, to any addresses', async () => {
      for (let i = 0; i < 5; i++) {
        const res = await postForm(
          h.app,
          acmeUsers,
          { email: `u${i}@acme.test` },
          { cookie: alice },
        )
        assert.equal(res.status, 303, `invitation ${i}`)
      }
      const refused = await postForm(
        h.app,
        acmeUsers,
        { email: 'u5@acme.test' },
        { cookie: alice, headers: { 'accept-language': 'en' } },
      )
      assert.equal(refused.status, 429)
      assert.match(
        decoded(await refused.text()),
        /This account has already sent 5 invitations recently: no email was sent\. You can try again from 27 Nov 2026, 10:00 UTC\./,
      )
      assert.equal(h.mailer.sent.length, 5)
      assert.equal((await h.db('account_senders').where({ email: 'u5@acme.test' })).length, 0)
      // Another account has its own quota.
      assert.equal(
        (await postForm(h.app, globexUsers, { email: 'u5@acme.test' }, { cookie: bob })).status,
        303,
      )
      h.clock.advance(HOUR)
      assert.equal(
        (await postForm(h.app, acmeUsers, { email: 'u5@acme.test' }, { cookie: alice })).status,
        303,
      )
    })

    it('lets no burst sent at once get past the quota', async () => {
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          postForm(h.app, acmeUsers, { email: 'burst@victim.test' }, { cookie: alice }),
        ),
      )
      assert.ok(answers.every((r) => r.status === 303 || r.status === 429 || r.status === 400))
      assert.ok(h.mailer.sent.length <= 3, `${h.mailer.sent.length} mails went`)
    })

    it('keeps the first link working when the resent mail cannot leave, and counts no mail', async () => {
      await postForm(h.app, acmeUsers, { email: 'wait@acme.test' }, { cookie: alice })
      const firstLink = linkOf(h.mailer.sent[0].text)
      const hash = await tokenHashOf('wait@acme.test')
      const { id } = await h.db('account_senders').where({ email: 'wait@acme.test' }).first()
      h.mailer.failWith = new Error('relay down')
      for (let i = 0; i < 4; i++) {
        const res = await postForm(h.app, `${acmeUsers}/${id}/resend`, {}, { cookie: alice })
        assert.equal(res.status, 303)
        const { res: page } = await follow(h.app, res, alice)
        assert.match(await page.text(), /flash-error.*n’a pas pu partir/s)
        // Inviting the pending address again is a resend too.
        await postForm(h.app, acmeUsers, { email: 'wait@acme.test' }, { cookie: alice })
      }
      assert.equal(await tokenHashOf('wait@acme.test'), hash)
      assert.equal((await get(h.app, firstLink)).status, 200)
      // The mails that did not leave used no quota: two more may go.
      h.mailer.failWith = null
      for (let i = 0; i < 2; i++) {
        const res = await postForm(h.app, `${acmeUsers}/${id}/resend`, {}, { cookie: alice })
        assert.equal(res.status, 303)
      }
      assert.equal(h.mailer.sent.length, 3)
      // Replaced by the mails that left: its page says so.
      assert.equal((await get(h.app, firstLink)).status, 410)
    })

    it('counts nothing for a refused invitation', async () => {
      await postForm(h.app, acmeUsers, { email: 'not an address' }, { cookie: alice })
      await addSender(h.db, h.accounts.acme.id, 'done@acme.test', { status: 'accepted' })
      for (let i = 0; i < 4; i++) {
        const res = await postForm(h.app, acmeUsers, { email: 'done@acme.test' }, { cookie: alice })
        assert.equal(res.status, 400)
      }
      const counted = await h.db('usage_counters').where('counter_key', 'like', 'invite-%')
      assert.ok(counted.every((row: { used: number }) => Number(row.used) === 0))
    })

    it('keeps its counts when a login purges the login throttle', async () => {
      for (let i = 0; i < 3; i++) {
        await postForm(h.app, acmeUsers, { email: 'target@victim.test' }, { cookie: alice })
      }
      h.clock.advance(20 * 60_000)
      await login(h.app, 'alice@acme.test', PASSWORD)
      const res = await postForm(
        h.app,
        acmeUsers,
        { email: 'target@victim.test' },
        { cookie: alice },
      )
      assert.equal(res.status, 429)
    })
  })
}
