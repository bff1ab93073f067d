import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import {
  createAdminHarness,
  decoded,
  get,
  login,
  PASSWORD,
  postForm,
  type AdminHarness,
} from './harness'

const HELP_LINK = '<a class="help-link" href="/help">'

for (const kind of databaseKinds()) {
  describe(`admin help page (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(() => h.reset())
    after(() => h.drop())

    it('is reached from the header of every page, logged in or not, errors included', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const pages = [
        await get(h.app, '/login'),
        await get(h.app, '/password-reset'),
        await get(h.app, '/help'),
        await get(h.app, `/a/${h.accounts.acme.id}/users`, cookie),
        await get(h.app, '/details', cookie),
        await get(h.app, `/a/${h.accounts.globex.id}/users`, cookie),
        await postForm(h.app, '/login', { email: 'x@y.test' }, { omitOrigin: true }),
      ]
      assert.deepEqual(
        pages.map((p) => p.status),
        [200, 200, 200, 200, 200, 404, 403],
      )
      for (const page of pages) {
        assert.ok((await page.text()).includes(`${HELP_LINK}Aide</a>`), page.url)
      }
      const en = await get(h.app, '/login', 'lang=en')
      assert.ok((await en.text()).includes(`${HELP_LINK}Help</a>`))
    })

    it('without a configured contact, says whom to ask in general terms', async () => {
      const res = await get(h.app, '/help')
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      assert.ok(html.includes('<h1>Aide</h1>'))
      assert.match(html, /n’a pas indiqué de contact ici/)
      assert.match(html, /à la personne qui vous a donné votre identifiant/)
      assert.doesNotMatch(html, /mailto:|tel:/)
      assert.ok(html.includes('<numéro>@sms.test'))
      assert.ok(html.includes('<a href="/password-reset">Mot de passe oublié ?</a>'))
      const en = decoded(await (await get(h.app, '/help', 'lang=en')).text())
      assert.ok(en.includes('<h1>Help</h1>'))
      assert.match(en, /has not given a contact here/)
    })

    it('shows the operator’s email, phone and site from [admin] help_*', async () => {
      const configured = await createAdminHarness(kind, {
        config: {
          help: {
            email: 'support@operator.test',
            phone: '+33123456789',
            url: 'https://support.operator.test/sms?from=<admin>',
          },
        },
      })
      try {
        const html = await (await get(configured.app, '/help')).text()
        assert.ok(html.includes('<a href="mailto:support@operator.test">support@operator.test</a>'))
        assert.ok(html.includes('<a href="tel:+33123456789">+33 1 23 45 67 89</a>'))
        // Escaped like every value, and no Referer leaves for the operator's site.
        assert.ok(html.includes('href="https://support.operator.test/sms?from=&lt;admin&gt;"'))
        assert.match(html, /rel="noopener noreferrer"/)
        assert.doesNotMatch(decoded(html), /n’a pas indiqué de contact/)
        const only = await createAdminHarness(kind, {
          config: { help: { email: null, phone: '+33123456789', url: null } },
        })
        try {
          const part = await (await get(only.app, '/help')).text()
          assert.ok(part.includes('tel:+33123456789'))
          assert.doesNotMatch(part, /mailto:|E-mail</)
        } finally {
          await only.drop()
        }
      } finally {
        await configured.drop()
      }
    })
  })
}
