import assert from 'node:assert/strict'
import { updateAccountLimits } from '../../lib/db/accounts'
import { addOptOut } from '../../lib/db/opt-outs'
import { databaseKinds } from '../support/databases'
import {
  PASSWORD,
  decoded,
  follow,
  get,
  login,
  openSection,
  postForm,
  type AdminHarness,
} from './harness'

/** The hidden id of the form the page shows: each form shown is one SMS at most. */
function formIdOf(html: string): string {
  const m = /<input type="hidden" name="form_id" value="([\w-]+)"\/>/.exec(html)
  assert.ok(m, 'no form_id in the page')
  return m[1]
}

for (const kind of databaseKinds()) {
  describe(`admin test SMS (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'test-sms'))
    })

    after(() => h.drop())

    beforeEach(async () => {
      await h.reset()
      cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      base = `/a/${h.accounts.acme.id}/test-sms`
      globexBase = `/a/${h.accounts.globex.id}/test-sms`
    })

    const smsRows = () => h.db('outbound_sms').select().orderBy('id')

    async function send(fields: Record<string, string>) {
      const page = await (await get(h.app, base, cookie)).text()
      return postForm(h.app, base, { form_id: formIdOf(page), ...fields }, { cookie })
    }

    it('queues the SMS like a mail would, logged with the admin as sender', async () => {
      const page = await get(h.app, base, cookie)
      assert.equal(page.status, 200)
      const html = decoded(await page.text())
      assert.match(html, /<h1 class="page-title">Envoyer un SMS de test</)
      assert.match(html, /name="number"/)
      const res = await send({ number: '06 12 34 56 78', text: 'Test de la passerelle' })
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      const [row] = await smsRows()
      assert.equal(row.account_id, h.accounts.acme.id)
      assert.equal(row.recipient, '+33612345678')
      assert.equal(row.body, 'Test de la passerelle')
      assert.equal(row.status, 'queued')
      assert.equal(row.sender_email, 'alice@acme.test')
      assert.equal(row.segments, 1)
      const { res: after } = await follow(h.app, res, cookie)
      assert.match(
        decoded(await after.text()),
        new RegExp(`SMS de test n° ${row.id} mis en file d’attente pour \\+33612345678`),
      )
    })

    it('sends one SMS for one form, however often it is sent', async () => {
      const page = await (await get(h.app, base, cookie)).text()
      const fields = { form_id: formIdOf(page), number: '+33612345678', text: 'Une fois' }
      await postForm(h.app, base, fields, { cookie })
      const again = await postForm(h.app, base, fields, { cookie })
      assert.equal(again.status, 303)
      assert.equal((await smsRows()).length, 1)
      const { res } = await follow(h.app, again, cookie)
      assert.match(decoded(await res.text()), /n’est pas envoyé une seconde fois/)
      // A new form is a new SMS.
      await send({ number: '+33612345678', text: 'Une fois' })
      assert.equal((await smsRows()).length, 2)
    })

    it('refuses what the MX refuses, in the page’s language, keeping what was typed', async () => {
      await addOptOut(h.db, h.accounts.acme.id, '+33699999999', 'STOP', h.clock.now)
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ number: 'pas un numéro', text: 'Bonjour' }, /n’est pas un numéro de mobile valide/],
        [{ number: '01 23 45 67 89', text: 'Bonjour' }, /n’est pas un mobile/],
        [{ number: '+33699999999', text: 'Bonjour' }, /a demandé à ne plus recevoir de SMS/],
        [{ number: '+33612345678', text: '   ' }, /Écrivez le texte du SMS/],
        [
          { number: '+33612345678', text: 'x'.repeat(161 * 5) },
          /Ce texte fait 6 SMS ; le compte en permet 4/,
        ],
        [{ number: '+15417543010', text: 'Bonjour' }, /n’envoie pas de SMS vers \+15417543010/],
      ]
      for (const [fields, message] of cases) {
        const res = await send(fields)
        assert.equal(res.status, 400, fields.number)
        const html = decoded(await res.text())
        assert.match(html, message, fields.number)
        assert.match(html, /Le SMS n’a pas été envoyé/)
        assert.ok(html.includes(`value="${fields.number}"`), 'the number is kept')
        assert.doesNotMatch(html, /[A-Z][a-z]+ (is|are|not) /, 'no English in the French page')
      }
      assert.equal((await smsRows()).length, 0)
    })

    it('sends nothing for an account the operator switched off, as the MX would', async () => {
      await h.db('accounts').where({ id: h.accounts.acme.id }).update({ is_active: false })
      const res = await send({ number: '+33612345678', text: 'Bonjour' })
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /Ce compte est désactivé/)
      assert.equal((await smsRows()).length, 0)
    })

    it('counts against the account’s quota, and stops at it', async () => {
      await updateAccountLimits(h.db, h.accounts.acme.id, { segmentsPerDay: 2 })
      assert.equal((await send({ number: '+33612345678', text: 'un' })).status, 303)
      assert.equal((await send({ number: '+33612345679', text: 'deux' })).status, 303)
      const refused = await send({ number: '+33612345670', text: 'trois' })
      assert.equal(refused.status, 400)
      assert.match(decoded(await refused.text()), /quota de SMS du compte est épuisé/)
      assert.equal((await smsRows()).length, 2)
    })

    it('is the account’s own: another account’s page is a 404, a foreign origin a 403', async () => {
      assert.equal((await get(h.app, globexBase, cookie)).status, 404)
      const page = await (await get(h.app, base, cookie)).text()
      const fields = { form_id: formIdOf(page), number: '+33612345678', text: 'x' }
      assert.equal((await postForm(h.app, globexBase, fields, { cookie })).status, 404)
      const foreign = await postForm(h.app, base, fields, { cookie, origin: 'http://evil.test' })
      assert.equal(foreign.status, 403)
      assert.equal((await postForm(h.app, base, fields, { cookie, omitOrigin: true })).status, 403)
      assert.equal((await smsRows()).length, 0)
    })
  })
}
