import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Locator, Page } from 'playwright-core'
import { addSender } from '../../lib/db/senders'
import { databaseKinds } from '../support/databases'
import { FRENCH_150, FRENCH_150_IN_GSM } from '../support/sms-texts'
import {
  ARTIFACTS_DIR,
  STEP_TIMEOUT_MS,
  startBrowserHarness,
  type BrowserHarness,
  type WatchedPage,
} from './harness'

async function shows(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS })
}

async function isGone(locator: Locator): Promise<void> {
  await locator.waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS })
}

/** Clicks what submits a form, and waits for the page the server sends back. */
async function submitAndWait(page: Page, button: Locator): Promise<void> {
  await Promise.all([page.waitForNavigation({ timeout: STEP_TIMEOUT_MS }), button.click()])
}

/** The one-time message after a redirect, announced to screen readers as a status. */
function flash(page: Page, text: string | RegExp): Locator {
  return page.getByRole('status').filter({ hasText: text })
}

/** What getBoundingClientRect() gives, as JSON. */
interface DOMRectLike {
  x: number
  y: number
  width: number
  height: number
  top: number
  right: number
  bottom: number
  left: number
}

/** The activation link of the invitation, which must point at the admin itself. */
function activationLinkIn(text: string, baseUrl: string): string {
  const links = text.match(/https?:\/\/\S+/g) ?? []
  const link = links.find((l) => l.startsWith(`${baseUrl}/activate/`))
  assert.ok(link, `no ${baseUrl}/activate/ link in the invitation:\n${text}`)
  return link
}

for (const kind of databaseKinds()) {
  describe(`admin in a browser (${kind})`, function () {
    let h: BrowserHarness
    let admin: WatchedPage
    /** The invited person's own browser, opened when the invitation arrives. */
    let invitee: WatchedPage | undefined
    const invitedEmail = 'lea.martin@example.test'
    /** A user of the first account only: seeing it, then not, shows the selector worked. */
    const firstAccountUser = 'paul.dupont@example.test'

    before(async function () {
      h = await startBrowserHarness(kind)
      await addSender(h.database.db, h.accounts[0].id, firstAccountUser, { status: 'accepted' })
      admin = await h.openPage()
    })

    after(async function () {
      await h?.close()
    })

    /** Called at the end of each step: CSP violations, script errors and 500s fail it. */
    function assertBrowserQuiet(): void {
      const problems = [...admin.problems, ...(invitee?.problems ?? [])]
      assert.deepEqual(problems, [], 'the browser reported errors (CSP, script, server)')
    }

    afterEach(function () {
      if (this.currentTest?.state === 'failed') {
        const problems = [...admin.problems, ...(invitee?.problems ?? [])]
        if (problems.length > 0) console.error(`browser problems:\n${problems.join('\n')}`)
        if (h.serverLog.length > 0) console.error(`admin log:\n${h.serverLog.join('\n')}`)
      }
      admin.problems.length = 0
      if (invitee) invitee.problems.length = 0
    })

    it('logs in through the login form', async function () {
      const { page } = admin
      await page.goto('/login')
      await h.screenshot(page, 'login')
      await page.getByLabel('Adresse e-mail', { exact: true }).fill(h.admin.email)
      await page.getByLabel('Mot de passe', { exact: true }).fill(h.admin.password)
      await submitAndWait(page, page.getByRole('button', { name: 'Se connecter' }))
      // The first account by name is shown first.
      assert.equal(new URL(page.url()).pathname, `/a/${h.accounts[0].id}/users`)
      await shows(page.getByText(h.admin.email))
      await shows(page.getByRole('button', { name: 'Déconnexion' }))
      await shows(page.getByRole('row').filter({ hasText: firstAccountUser }))
      assertBrowserQuiet()
    })

    it('step 1: selects the second account with the account selector', async function () {
      const { page } = admin
      const [, second] = h.accounts
      const selector = page.getByLabel('Compte', { exact: true })
      await selector.selectOption(String(second.id))
      await submitAndWait(page, page.getByRole('button', { name: 'Afficher' }))
      assert.equal(new URL(page.url()).pathname, `/a/${second.id}/users`)
      assert.equal(await selector.inputValue(), String(second.id))
      const chosen = selector.locator('option:checked')
      assert.match(await chosen.innerText(), new RegExp(second.name))
      await shows(page.getByRole('heading', { level: 1, name: 'Utilisateurs' }))
      await shows(page.getByText('Aucun utilisateur pour l’instant.', { exact: true }))
      assert.equal(await page.getByText(firstAccountUser).count(), 0)
      await h.screenshot(page, 'account-selected')
      assertBrowserQuiet()
    })

    it('step 2: invites a user by email, listed as pending', async function () {
      const { page } = admin
      const [, second] = h.accounts
      await page.getByLabel('Email', { exact: true }).fill(invitedEmail)
      await submitAndWait(page, page.getByRole('button', { name: 'Ajouter', exact: true }))
      await shows(flash(page, `Invitation envoyée à ${invitedEmail}`))
      const row = page.getByRole('row').filter({ hasText: invitedEmail })
      await shows(row.getByText('En attente', { exact: true }))
      await h.screenshot(page, 'user-invited')
      const sender = await h.database
        .db('account_senders')
        .where({ account_id: second.id, email: invitedEmail })
        .first()
      assert.equal(sender?.status, 'pending')
      assertBrowserQuiet()
    })

    it('the invited person activates through the link in the mail', async function () {
      const [, second] = h.accounts
      await h.sink.until(() => h.sink.mailsTo(invitedEmail).length > 0)
      const [mail] = h.sink.mailsTo(invitedEmail)
      assert.equal(mail.header('auto-submitted'), 'auto-generated')
      const link = activationLinkIn(mail.parsed.text ?? '', h.baseUrl)

      // The invited person's own browser: no admin session, only the link.
      invitee = await h.openPage()
      const { page } = invitee
      await page.goto(link)
      await shows(page.getByRole('heading', { level: 1, name: 'Activer votre adresse' }))
      await shows(page.getByText(`${invitedEmail} pourra envoyer des SMS`, { exact: false }))
      await shows(page.getByText(second.name, { exact: false }).first())
      await h.screenshot(page, 'activation')
      const stillPending = await h.database.db('account_senders').where({ email: invitedEmail })
      assert.equal(stillPending[0]?.status, 'pending', 'opening the link alone changes nothing')

      await submitAndWait(page, page.getByRole('button', { name: 'Confirmer', exact: true }))
      await shows(page.getByRole('heading', { level: 1, name: 'Adresse activée' }))
      await shows(page.getByRole('status').filter({ hasText: invitedEmail }))
      await h.screenshot(page, 'activated')

      // A reload shows the same page (no second confirmation), and so does the link opened
      // again; it opens no door into the admin.
      await page.reload()
      await shows(page.getByRole('heading', { level: 1, name: 'Adresse activée' }))
      await page.goto(link)
      await shows(page.getByRole('heading', { level: 1, name: 'Adresse activée' }))
      await isGone(page.getByRole('button', { name: 'Confirmer', exact: true }))
      await page.goto('/')
      assert.equal(new URL(page.url()).pathname, '/login')
      assertBrowserQuiet()
    })

    it('step 3: the user shows as accepted, and is deleted', async function () {
      const { page } = admin
      const [, second] = h.accounts
      await page.reload()
      const row = page.getByRole('row').filter({ hasText: invitedEmail })
      await shows(row.getByText('Utilisateur accepté', { exact: true }))
      await h.screenshot(page, 'user-accepted')
      const accepted = await h.database
        .db('account_senders')
        .where({ account_id: second.id, email: invitedEmail })
        .first()
      assert.equal(accepted?.status, 'accepted')

      // Effacer asks first, on a page of its own; Annuler goes back with nothing deleted.
      await submitAndWait(page, row.getByRole('button', { name: `Effacer ${invitedEmail}` }))
      await shows(page.getByRole('heading', { level: 1, name: 'Effacer un utilisateur' }))
      await shows(page.getByText(`Effacer l’utilisateur ${invitedEmail} du compte`))
      await h.screenshot(page, 'user-delete-confirm')
      await submitAndWait(page, page.getByRole('link', { name: 'Annuler', exact: true }))
      await shows(page.getByRole('row').filter({ hasText: invitedEmail }))
      await submitAndWait(page, row.getByRole('button', { name: `Effacer ${invitedEmail}` }))
      await submitAndWait(page, page.getByRole('button', { name: 'Supprimer', exact: true }))
      await shows(flash(page, `${invitedEmail} a été effacé`))
      await isGone(page.getByRole('row').filter({ hasText: invitedEmail }))
      await h.screenshot(page, 'user-deleted')
      const left = await h.database
        .db('account_senders')
        .where({ account_id: second.id, email: invitedEmail })
      assert.deepEqual(left, [])
      assertBrowserQuiet()
    })

    it('sets the preferences', async function () {
      const { page } = admin
      const [, second] = h.accounts
      await submitAndWait(
        page,
        page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', {
          name: 'Préférences',
        }),
      )
      assert.equal(new URL(page.url()).pathname, `/a/${second.id}/preferences`)
      const signature = page.getByLabel('Signature', { exact: true })
      const senderName = page.getByLabel("Nom d'émetteur", { exact: true })
      const country = page.getByLabel('Pays par défaut', { exact: true })
      const cap = page.getByLabel('Nombre maximal de SMS par e-mail', { exact: true })
      const save = page.getByRole('button', { name: 'Sauvegarder' })

      await signature.fill('Léa Martin')
      await senderName.fill('Mon Atelier')
      await submitAndWait(page, save)
      await shows(page.getByText('« Mon Atelier » ne convient pas', { exact: false }))
      await h.screenshot(page, 'preferences-invalid')
      const untouched = await h.database.db('accounts').where({ id: second.id }).first()
      assert.equal(untouched.sender_name, null)

      await senderName.fill('Boulangerie')
      await country.selectOption('BE')
      await cap.fill('3')
      await submitAndWait(page, save)
      await shows(flash(page, 'Préférences sauvegardées.'))
      await h.screenshot(page, 'preferences-saved')

      await page.reload()
      assert.equal(await signature.inputValue(), 'Léa Martin')
      assert.equal(await senderName.inputValue(), 'Boulangerie')
      assert.equal(await country.inputValue(), 'BE')
      assert.equal(await cap.inputValue(), '3')
      const row = await h.database.db('accounts').where({ id: second.id }).first()
      assert.equal(row.signature_marker, 'Léa Martin')
      assert.equal(row.sender_name, 'Boulangerie')
      assert.equal(row.default_country, 'BE')
      assert.equal(Number(row.segment_cap), 3)
      const other = await h.database.db('accounts').where({ id: h.accounts[0].id }).first()
      assert.equal(other.sender_name, null, 'the first account must keep its own preferences')
      assertBrowserQuiet()
    })

    it('previews a French text live, as UCS-2, cut at the signature', async function () {
      const { page } = admin
      const before = page.url()
      await page
        .getByLabel("Texte de l'e-mail", { exact: true })
        .fill(
          'Votre fenêtre est prête, passez la chercher demain.\n\nLéa Martin\nBoulangerie Martin',
        )
      const result = page.locator('#sms-preview-result')
      const written = result.locator('[data-version="written"]')
      await shows(written.getByText('UCS-2', { exact: true }))
      const text = await written.locator('.sms-text').innerText()
      assert.equal(text.trim(), 'Votre fenêtre est prête, passez la chercher demain.')
      await shows(result.getByText('ê (U+00EA)', { exact: false }).first())
      assert.equal(page.url(), before, 'the live preview must not leave the page')
      await h.screenshot(page, 'preview')
      assertBrowserQuiet()
    })

    it('previews both versions live, then stays in GSM: the GSM one is sent', async function () {
      const { page } = admin
      const [, second] = h.accounts
      const email = page.getByLabel("Texte de l'e-mail", { exact: true })
      const result = page.locator('#sms-preview-result')
      const written = result.locator('[data-version="written"]')
      const gsm = result.locator('[data-version="gsm"]')

      await email.fill(FRENCH_150)
      // The box already holds the previous preview: wait for this text's.
      await shows(gsm.locator('.sms-text', { hasText: 'le macon passe' }))
      assert.equal((await written.locator('.sms-text').innerText()).trim(), FRENCH_150)
      assert.equal((await gsm.locator('.sms-text').innerText()).trim(), FRENCH_150_IN_GSM)
      assert.equal(await written.locator('[data-encoding]').getAttribute('data-encoding'), 'UCS-2')
      assert.equal(await written.locator('[data-segments]').getAttribute('data-segments'), '3')
      assert.equal(await gsm.locator('[data-encoding]').getAttribute('data-encoding'), 'GSM-7')
      assert.equal(await gsm.locator('[data-segments]').getAttribute('data-segments'), '1')
      await shows(result.getByText('En alphabet GSM : 1 SMS au lieu de 3', { exact: false }))
      // Off by default: the text as written is the one sent.
      assert.equal(await written.getAttribute('data-sent'), 'true')
      assert.equal(await gsm.getAttribute('data-sent'), 'false')
      // Side by side on a desktop-wide window.
      const [a, b] = [await written.boundingBox(), await gsm.boundingBox()]
      assert.ok(a && b && Math.abs(a.y - b.y) < 2 && b.x > a.x + a.width - 1, 'not side by side')
      await h.screenshot(page, 'preview-gsm')

      const setting = page.getByLabel('Rester en alphabet GSM (moins cher)', { exact: true })
      assert.equal(await setting.isChecked(), false)
      await setting.check()
      await submitAndWait(page, page.getByRole('button', { name: 'Sauvegarder' }))
      await shows(flash(page, 'Préférences sauvegardées.'))
      assert.equal(await setting.isChecked(), true)
      const row = await h.database.db('accounts').where({ id: second.id }).first()
      assert.equal(Boolean(row.gsm_only), true)

      await email.fill(FRENCH_150)
      await shows(gsm.locator('.sms-sent'))
      assert.equal(await gsm.getAttribute('data-sent'), 'true')
      assert.equal(await written.getAttribute('data-sent'), 'false')
      await shows(
        result.getByText('la passerelle envoie la version en alphabet GSM', { exact: false }),
      )
      await h.screenshot(page, 'preview-gsm-sent')
      assertBrowserQuiet()
    })

    it('sets where received SMS go (Réception en cours)', async function () {
      const { page } = admin
      const [, second] = h.accounts
      await submitAndWait(
        page,
        page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', {
          name: 'Réception en cours',
        }),
      )
      assert.equal(new URL(page.url()).pathname, `/a/${second.id}/receiving`)
      const forward = page.getByLabel("Transfert d'e-mail", { exact: true })
      const directReply = page.getByLabel('Réponse directe', { exact: true })
      const save = page.getByRole('button', { name: 'Sauvegarder', exact: true })

      await forward.fill('accueil@example.test, pas une adresse')
      await submitAndWait(page, save)
      await shows(page.getByText("« pas une adresse » n'est pas une adresse e-mail valide."))

      await forward.fill('accueil@example.test, lea.martin@example.test')
      assert.equal(await directReply.isChecked(), false, 'direct reply starts off')
      await directReply.check()
      await submitAndWait(page, save)
      await shows(flash(page, 'Paramètres de réception sauvegardés.'))
      await page.reload()
      assert.equal(await forward.inputValue(), 'accueil@example.test, lea.martin@example.test')
      assert.equal(await directReply.isChecked(), true)
      await h.screenshot(page, 'receiving-saved')
      const row = await h.database.db('accounts').where({ id: second.id }).first()
      assert.equal(row.forward_addresses, 'accueil@example.test,lea.martin@example.test')
      assert.equal(Boolean(row.direct_reply), true)
      assertBrowserQuiet()
    })

    it('adds and deletes allowed IP addresses', async function () {
      const { page } = admin
      const [, second] = h.accounts
      await submitAndWait(
        page,
        // The guide's path: Avancé, whose first (and only) page is the IP list.
        page.getByRole('navigation', { name: 'Menu principal' }).getByRole('link', {
          name: 'Avancé',
        }),
      )
      await shows(
        page
          .getByRole('navigation', { name: 'Menu principal' })
          .getByRole('link', { name: 'Gestion des adresses IP' }),
      )
      assert.equal(new URL(page.url()).pathname, `/a/${second.id}/ips`)
      await shows(page.getByRole('heading', { level: 1, name: 'Gestion des adresses IP' }))
      const address = page.getByLabel('Adresse IP', { exact: true })
      const save = page.getByRole('button', { name: 'Sauvegarder' })
      const table = page.getByRole('table')

      await address.fill('203.0.113.7')
      await submitAndWait(page, save)
      await shows(flash(page, 'est autorisée'))
      await shows(table.getByRole('row').filter({ hasText: '203.0.113.7' }))

      await address.fill('2001:db8::/48')
      await submitAndWait(page, save)
      await shows(table.getByRole('row').filter({ hasText: '2001:db8::/48' }))
      await h.screenshot(page, 'ips-added')

      await address.fill('203.0.113.300')
      await submitAndWait(page, save)
      await shows(page.getByText("« 203.0.113.300 » n'est pas une adresse IP", { exact: false }))
      await h.screenshot(page, 'ips-invalid')

      const v4 = table.getByRole('row').filter({ hasText: '203.0.113.7' })
      await submitAndWait(page, v4.getByRole('button', { name: /Effacer/ }))
      await shows(page.getByText('Effacer 203.0.113.7/32 des adresses IP autorisées du compte'))
      await submitAndWait(page, page.getByRole('button', { name: 'Supprimer', exact: true }))
      await shows(flash(page, "n'est plus autorisée"))
      await isGone(page.getByRole('table').getByRole('row').filter({ hasText: '203.0.113.7' }))
      await shows(page.getByRole('table').getByRole('row').filter({ hasText: '2001:db8::/48' }))
      await h.screenshot(page, 'ips-deleted')

      const rows = await h.database.db('account_ip_allowlist').select('account_id', 'cidr')
      assert.deepEqual(
        rows.map((r) => [Number(r.account_id), r.cidr]),
        [[second.id, '2001:db8::/48']],
      )
      assertBrowserQuiet()
    })

    it('shows the SMS log: a chart as wide as the page, a long SMS opened once', async function () {
      const { page } = admin
      const [, second] = h.accounts
      const longText = `Bonjour,\nvotre commande est prête : ${'passez la prendre '.repeat(6)}avant 18h.`
      const now = Date.now()
      // Oldest first, as they would have come.
      const rows = [9, 5, 2, 1, 0].map((age, i) => ({
        account_id: second.id,
        sender_id: null,
        sender_email: 'lea.martin@example.test',
        recipient: '+33611111111',
        body: age === 0 ? longText : `SMS ${i + 1}`,
        encoding: 'ucs2',
        segments: age === 0 ? 3 : 1,
        status: i % 2 === 0 ? 'delivered' : 'failed',
        attempts: 1,
        next_attempt_at: now - age * 86_400_000,
        dedupe_key: `browser-log-${i}`,
        created_at: now - age * 86_400_000,
        updated_at: now - age * 86_400_000,
      }))
      await h.database.db('outbound_sms').insert(rows)
      await page.goto(`/a/${second.id}/messages`)
      await shows(page.getByRole('heading', { level: 1, name: 'Journal des SMS' }))

      // The figures as a table, for those who cannot see the chart; open, it must fit too.
      await page.getByText('Les chiffres jour par jour', { exact: true }).click()
      const table = page.locator('.chart-figures table')
      await shows(table)
      assert.equal(await table.locator('tbody tr').count(), 30)

      /** Where the chart's parts are, in CSS pixels, and whether anything sticks out. */
      const measure = async () =>
        (await page.evaluate(`(() => {
          const box = (el) => el.getBoundingClientRect().toJSON()
          const figure = document.querySelector('figure.daily-chart')
          const items = [...figure.querySelectorAll('.chart-legend li')].map((li) => {
            const words = document.createRange()
            words.selectNodeContents(li)
            words.setStartAfter(li.querySelector('svg'))
            return { swatch: box(li.querySelector('svg')), words: words.getBoundingClientRect().toJSON() }
          })
          return {
            viewport: window.innerWidth,
            figure: box(figure),
            overflow: figure.scrollWidth - figure.clientWidth,
            tableOverflow: (({ scrollWidth, clientWidth }) => scrollWidth - clientWidth)(
              figure.querySelector('.chart-figures-scroll'),
            ),
            plot: box(figure.querySelector('svg.chart-plot')),
            labelPx: parseFloat(getComputedStyle(figure.querySelector('.chart-scale span')).fontSize),
            days: [...figure.querySelectorAll('.chart-days span')].map(box),
            items,
          }
        })()`)) as {
          viewport: number
          figure: DOMRectLike
          overflow: number
          tableOverflow: number
          plot: DOMRectLike
          labelPx: number
          days: DOMRectLike[]
          items: Array<{ swatch: DOMRectLike; words: DOMRectLike }>
        }

      for (const width of [1280, 390]) {
        await page.setViewportSize({ width, height: 900 })
        const m = await measure()
        // The plot takes most of the content's width, whatever the window.
        assert.ok(m.figure.width > (width === 1280 ? 1000 : 300), `figure of ${m.figure.width}px`)
        assert.ok(m.plot.width > 0.75 * m.figure.width, `plot ${m.plot.width} of ${m.figure.width}`)
        assert.ok(m.plot.height >= 150, `plot ${m.plot.height}px high`)
        // Nothing of the chart sticks out, of the window or of the chart.
        assert.ok(m.figure.right <= m.viewport, `chart ends at ${m.figure.right} of ${width}`)
        assert.ok(m.overflow <= 0, `the chart overflows by ${m.overflow}px`)
        assert.ok(m.tableOverflow <= 0, `the table overflows by ${m.tableOverflow}px`)
        for (const day of m.days) {
          assert.ok(day.left >= m.plot.left - 1 && day.right <= m.plot.right + 1, 'day label')
        }
        // Its labels are text of a readable size, not drawing shrunk with the plot.
        assert.ok(m.labelPx >= 12, `labels of ${m.labelPx}px`)
        // Each swatch is right by its words, on their line; the space is between the items.
        for (const { swatch, words } of m.items) {
          const gap = words.left - swatch.right
          assert.ok(gap >= 0 && gap < 12, `a swatch ${gap}px from its words`)
          const middle = (r: DOMRectLike) => r.top + r.height / 2
          assert.ok(Math.abs(middle(words) - middle(swatch)) < 6, 'a swatch off its line')
        }
        const [bars, rate] = m.items
        if (bars.words.top === rate.words.top) {
          assert.ok(rate.swatch.left - bars.words.right >= 16, 'legend items run together')
        }
        await h.screenshot(page, `messages-${width}`)
      }

      // A long SMS, opened: its whole text once, right under the summary, no blank lines.
      await page.setViewportSize({ width: 1280, height: 900 })
      const fold = page
        .getByRole('row')
        .filter({ hasText: 'votre commande est prête' })
        .locator('details.log-text')
      await fold.locator('summary').click()
      assert.equal(await fold.getAttribute('open'), '')
      const shown = await fold.innerText()
      assert.equal(shown.split('votre commande est prête').length - 1, 1, shown)
      assert.equal((await fold.locator('summary').innerText()).trim(), 'Afficher moins')
      const summary = await fold.locator('summary').boundingBox()
      const text = await fold.locator('.log-text-full').boundingBox()
      const whole = await fold.boundingBox()
      assert.ok(summary && text && whole)
      assert.ok(Math.abs(text.y - (summary.y + summary.height)) < 2, 'a gap above the text')
      assert.ok(whole.y + whole.height - (text.y + text.height) < 2, 'a gap below the text')
      await h.screenshot(page, 'messages-long-sms-open')

      const keys = rows.map((r) => r.dedupe_key)
      await h.database.db('outbound_sms').whereIn('dedupe_key', keys).delete()
      assertBrowserQuiet()
    })

    it('refuses inline script (CSP), and the watch on the browser notices', async function () {
      const { page } = admin
      const violation = page.waitForEvent('console', {
        predicate: (message) => message.text().includes('Content Security Policy'),
      })
      // What an injected <script> would do; a string, as the test code has no DOM types.
      await page.evaluate(`{
        const script = document.createElement('script')
        script.textContent = 'document.body.dataset.injected = "yes"'
        document.body.append(script)
      }`)
      await violation
      assert.equal(await page.locator('body').getAttribute('data-injected'), null)
      const seen = admin.problems.splice(0)
      assert.ok(
        seen.some((p) => p.includes('Content Security Policy')),
        `the CSP violation was not reported: ${JSON.stringify(seen)}`,
      )
    })

    it('a forgotten password: a new one through the mailed link, and the old session ends', async function () {
      const other = await h.openPage()
      try {
        const { page } = other
        await page.goto('/login')
        await submitAndWait(page, page.getByRole('link', { name: 'Mot de passe oublié ?' }))
        await page.getByLabel('Adresse e-mail', { exact: true }).fill(h.admin.email)
        await submitAndWait(page, page.getByRole('button', { name: 'Recevoir le lien' }))
        await shows(page.getByRole('heading', { level: 1, name: 'Vérifiez votre messagerie' }))
        await h.sink.until(() =>
          h.sink
            .mailsTo(h.admin.email)
            .some((m) => /Réinitialisation/.test(m.parsed.subject ?? '')),
        )
        const mail = h.sink
          .mailsTo(h.admin.email)
          .find((m) => /Réinitialisation/.test(m.parsed.subject ?? ''))
        const link = (mail?.parsed.text ?? '').match(/https?:\/\/\S+\/password-reset\/\S+/)?.[0]
        assert.ok(link, 'no reset link in the mail')

        await page.goto(link)
        // The token went into a cookie: the form's address does not hold it.
        assert.equal(new URL(page.url()).pathname, '/password-reset/choose')
        await page
          .getByLabel('Nouveau mot de passe', { exact: true })
          .fill('un tout nouveau secret')
        await page
          .getByLabel('Confirmez le nouveau mot de passe', { exact: true })
          .fill('un tout nouveau secret')
        await submitAndWait(page, page.getByRole('button', { name: 'Changer le mot de passe' }))
        await shows(page.getByRole('heading', { level: 1, name: 'Mot de passe changé' }))
        await h.screenshot(page, 'password-reset')

        // The session of the first browser has ended.
        await admin.page.goto(`/a/${h.accounts[0].id}/users`)
        assert.equal(new URL(admin.page.url()).pathname, '/login')

        await page.goto('/login')
        await page.getByLabel('Adresse e-mail', { exact: true }).fill(h.admin.email)
        await page.getByLabel('Mot de passe', { exact: true }).fill('un tout nouveau secret')
        await submitAndWait(page, page.getByRole('button', { name: 'Se connecter' }))
        assert.equal(new URL(page.url()).pathname, `/a/${h.accounts[0].id}/users`)
        assert.deepEqual(other.problems, [], 'the browser reported errors (CSP, script, server)')
        assertBrowserQuiet()
      } finally {
        await other.page.context().close()
      }
    })

    it('kept a screenshot of every step under test/artifacts', function () {
      const dir = path.join(ARTIFACTS_DIR, kind)
      const shots = fs.readdirSync(dir).filter((name) => name.endsWith('.png'))
      for (const step of ['login', 'user-invited', 'activated', 'user-deleted', 'ips-deleted']) {
        const shot = shots.find((name) => name.endsWith(`-${step}.png`))
        assert.ok(shot, `no screenshot of ${step} in ${dir}: ${shots.join(', ')}`)
        // A PNG file starts with its 8-byte signature; an empty or failed write does not.
        const head = fs.readFileSync(path.join(dir, shot)).subarray(0, 8)
        assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
      }
    })
  })
}
