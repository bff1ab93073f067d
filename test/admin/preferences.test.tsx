import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { addAllowedIp } from '../../lib/db/allowlist'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import { decoded, follow, get, openSection, postForm, type AdminHarness } from './harness'
import { FRENCH_150, FRENCH_150_IN_GSM } from '../support/sms-texts'

/** The preview result box, alone: the page around it also holds the pasted email. */
function resultBox(html: string): string {
  const start = html.indexOf('<section id="sms-preview-result"')
  assert.ok(start >= 0, 'the page has no preview result box')
  return html.slice(start, html.indexOf('</section>', start) + '</section>'.length)
}

const GOOD = {
  signatureMarker: 'Jeanne Martin',
  senderName: 'AcmeSA',
  defaultCountry: 'BE',
  segmentCap: '3',
}

const FRENCH_EMAIL = [
  'Bonjour,',
  '',
  'Votre commande est prête : passez à l’accueil après 14h.',
  '',
  'Jeanne Martin',
  'Service client Acme',
  '',
  'Le 3 mars 2026 à 10:12, Paul Durand <paul@example.com> a écrit :',
  '> Ma commande est-elle arrivée ?',
].join('\n')

for (const kind of databaseKinds()) {
  describe(`admin preferences (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const accountRow = (id: number) => h.db('accounts').where({ id }).first()

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'preferences'))
    })

    after(async () => h?.drop())

    it('shows the form with the guide labels in French', async () => {
      const res = await get(h.app, base, cookie)
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      for (const label of [
        '<h1 class="page-title">Préférences<',
        '>Signature</label>',
        ">Nom d'émetteur</label>",
        '>Pays par défaut</label>',
        'Sauvegarder',
        'Aperçu',
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
      assert.match(html, /première ligne de votre signature/)
      assert.match(html, /11 caractères au plus/)
      assert.match(html, /<option value="FR" selected="">France \(FR\)<\/option>/)
      assert.match(html, /<input id="segmentCap" name="segmentCap" type="number" value="4"/)
      assert.match(html, /<script src="\/assets\/preview.js" defer=""><\/script>/)
      assert.match(html, new RegExp(`<form method="post" action="${base}/preview"`))
    })

    it('shows the form in English for Accept-Language: en', async () => {
      const res = await get(h.app, base, cookie, { 'accept-language': 'en-GB,en;q=0.9' })
      const html = decoded(await res.text())
      for (const label of [
        '<h1 class="page-title">Preferences<',
        '>Sender name</label>',
        '>Time zone</label>',
        'Save',
        'Preview',
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
      assert.match(html, /<option value="BE">Belgium \(BE\)<\/option>/)
    })

    it('saves, bumps the directory version and shows the flash', async () => {
      const version = await readCacheVersion(h.db, 'directory')
      h.clock.advance(60_000)
      const res = await postForm(h.app, base, GOOD, { cookie })
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      const row = await accountRow(h.accounts.acme.id)
      assert.equal(row.signature_marker, 'Jeanne Martin')
      assert.equal(row.sender_name, 'AcmeSA')
      assert.equal(row.default_country, 'BE')
      assert.equal(Number(row.segment_cap), 3)
      assert.equal(Number(row.updated_at), h.clock.now)
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)

      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(page, /Préférences sauvegardées\./)
      assert.match(page, /name="senderName" type="text" value="AcmeSA"/)
      assert.match(page, /<option value="BE" selected="">/)
    })

    it('has "stay in GSM" off for a new account, and saves it ticked then unticked', async () => {
      const page = decoded(await (await get(h.app, base, cookie)).text())
      assert.match(
        page,
        /<input type="checkbox" id="gsmOnly" name="gsmOnly" value="on" aria-describedby="gsmOnly-hint"\/><label for="gsmOnly">Rester en alphabet GSM \(moins cher\)<\/label>/,
      )
      assert.equal(Boolean((await accountRow(h.accounts.acme.id)).gsm_only), false)

      const version = await readCacheVersion(h.db, 'directory')
      const on = await postForm(h.app, base, { ...GOOD, gsmOnly: 'on' }, { cookie })
      assert.equal(on.status, 303)
      assert.equal(Boolean((await accountRow(h.accounts.acme.id)).gsm_only), true)
      // The MX nodes reload the account, and with it the setting.
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)
      const shown = decoded(await (await follow(h.app, on, cookie)).res.text())
      assert.match(shown, /id="gsmOnly" name="gsmOnly" value="on" checked=""/)

      // An unticked checkbox is not posted: the same form without it turns the setting off.
      const off = await postForm(h.app, base, GOOD, { cookie })
      assert.equal(off.status, 303)
      assert.equal(Boolean((await accountRow(h.accounts.acme.id)).gsm_only), false)
      assert.doesNotMatch(decoded(await (await get(h.app, base, cookie)).text()), /checked=""/)
    })

    it('offers the time zones, UTC for a new account, and saves one the account’s pages then use', async () => {
      const page = decoded(await (await get(h.app, base, cookie)).text())
      assert.match(page, /<label for="timeZone">Fuseau horaire<\/label>/)
      assert.match(
        page,
        /<optgroup label="Fuseaux courants"><option value="UTC" selected="">UTC<\/option>/,
      )
      assert.match(page, /<option value="America\/Port_of_Spain">America\/Port of Spain<\/option>/)
      assert.match(page, /ne déplace pas les SMS déjà envoyés/)
      assert.equal((await accountRow(h.accounts.acme.id)).time_zone, 'UTC')
      await addAllowedIp(h.db, h.accounts.acme.id, '192.0.2.7', null, h.clock.now)
      const ipsPage = async () =>
        decoded(await (await get(h.app, base.replace(/preferences$/, 'ips'), cookie)).text())
      assert.match(await ipsPage(), /27 nov\. 2026, 09:0\d UTC</)

      const version = await readCacheVersion(h.db, 'directory')
      const res = await postForm(h.app, base, { ...GOOD, timeZone: 'Europe/Paris' }, { cookie })
      assert.equal(res.status, 303)
      assert.equal((await accountRow(h.accounts.acme.id)).time_zone, 'Europe/Paris')
      // The MX nodes reload the account: its next SMS are counted on Paris days.
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)
      const shown = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.match(shown, /<option value="Europe\/Paris" selected="">Europe\/Paris<\/option>/)
      assert.match((await ipsPage()).replace(/\u2212/g, '-'), /27 nov\. 2026, 10:0\d UTC\+1</)
      // A form without the field (from before it existed) leaves the zone as it is.
      h.clock.advance(1000)
      assert.equal((await postForm(h.app, base, GOOD, { cookie })).status, 303)
      assert.equal((await accountRow(h.accounts.acme.id)).time_zone, 'Europe/Paris')
      // Another account's zone is its own.
      assert.equal((await accountRow(h.accounts.globex.id)).time_zone, 'UTC')
      h.clock.advance(1000)
      assert.equal(
        (await postForm(h.app, base, { ...GOOD, timeZone: 'UTC' }, { cookie })).status,
        303,
      )
    })

    it('labels "stay in GSM" in English', async () => {
      const res = await get(h.app, base, cookie, { 'accept-language': 'en' })
      const html = decoded(await res.text())
      assert.match(html, /<label for="gsmOnly">Stay in the GSM alphabet \(cheaper\)<\/label>/)
    })

    it('does not change "stay in GSM" for a form posted from another origin', async () => {
      for (const options of [{ omitOrigin: true }, { origin: 'http://evil.test' }]) {
        const res = await postForm(h.app, base, { ...GOOD, gsmOnly: 'on' }, { cookie, ...options })
        assert.equal(res.status, 403)
      }
      assert.equal(Boolean((await accountRow(h.accounts.acme.id)).gsm_only), false)
    })

    it('previews both texts and both costs, and says which one the MX sends', async () => {
      const preview = async (lang = 'fr') =>
        decoded(
          await (
            await postForm(
              h.app,
              `${base}/preview`,
              { email: FRENCH_150 },
              { cookie, headers: { 'x-requested-with': 'fetch', 'accept-language': lang } },
            )
          ).text(),
        )
      const column = (html: string, version: 'written' | 'gsm') => {
        const start = html.indexOf(`<div class="sms-version" data-version="${version}"`)
        assert.ok(start >= 0, `no ${version} column`)
        return html.slice(start, html.indexOf('</pre>', start))
      }
      const facts = (html: string, version: 'written' | 'gsm') => {
        const start = html.indexOf(`data-version="${version}"`)
        return html.slice(start, html.indexOf('</dl>', start))
      }

      const off = await preview()
      assert.match(column(off, 'written'), /data-sent="true">.*Envoyé par la passerelle/s)
      assert.ok(column(off, 'written').includes('fen<mark>ê</mark>tre'))
      assert.match(facts(off, 'written'), /data-encoding="UCS-2"/)
      assert.match(
        facts(off, 'written'),
        /data-segments="3" data-per-segment="67">3 SMS de 67 unités UCS-2 au plus/,
      )
      assert.match(column(off, 'gsm'), /data-sent="false">.*Non envoyé/s)
      assert.ok(column(off, 'gsm').includes(FRENCH_150_IN_GSM))
      assert.match(facts(off, 'gsm'), /data-encoding="GSM-7"/)
      assert.match(
        facts(off, 'gsm'),
        /data-segments="1" data-per-segment="160">1 SMS de 160 unités GSM au plus/,
      )
      assert.match(off, /data-replacement="ê">ê → e<\/span>, <span data-replacement="ç">ç → c/)
      assert.match(off, /data-saving="2">En alphabet GSM : 1 SMS au lieu de 3 par destinataire/)
      assert.match(off, /data-sends="written">.*est désactivé : la passerelle envoie le texte tel/)
      // The saved cap is 3: as written it fits, just.
      assert.doesNotMatch(off, /class="warning"/)

      await postForm(h.app, base, { ...GOOD, segmentCap: '2', gsmOnly: 'on' }, { cookie })
      const on = await preview()
      assert.match(on, /data-version="written" data-sent="false">/)
      assert.match(
        on,
        /data-version="gsm" data-sent="true"><h3>En alphabet GSM<\/h3><p class="sms-sent">Envoyé par la passerelle/,
      )
      assert.match(
        on,
        /data-sends="gsm">.*est activé : la passerelle envoie la version en alphabet GSM/,
      )
      // The cap of 2 is checked against what is sent: 1 SMS, no warning.
      assert.doesNotMatch(on, /class="warning"/)

      const english = await preview('en')
      assert.match(english, /<h3>As written<\/h3>/)
      assert.match(english, /In the GSM alphabet: 1 SMS instead of 3 per recipient/)
      assert.match(english, /setting is on: the gateway sends the GSM alphabet version/)

      await postForm(h.app, base, { ...GOOD, segmentCap: '2' }, { cookie })
      const refused = await preview()
      assert.match(refused, /data-sends="written"/)
      assert.match(
        refused,
        /class="warning" role="alert">Ce texte demande 3 SMS et le compte en autorise 2 au plus/,
      )
      await postForm(h.app, base, GOOD, { cookie })
    })

    it('says when a character has no GSM equivalent, and shows one version', async () => {
      const res = await postForm(
        h.app,
        `${base}/preview`,
        { email: 'Votre fenêtre est prête 👍' },
        { cookie, headers: { 'x-requested-with': 'fetch' } },
      )
      const html = decoded(await res.text())
      assert.doesNotMatch(html, /sms-versions/)
      assert.match(html, /<h3>Le SMS envoyé<\/h3>/)
      assert.match(html, /n'ont pas d'équivalent dans l'alphabet GSM/)
      assert.match(html, /<mark>👍 \(U\+1F44D\)<\/mark>, position 25/)
      assert.match(html, /data-encoding="UCS-2"/)
    })

    const BAD: Array<[string, Record<string, string>, RegExp]> = [
      ['a sender name with a space', { senderName: 'Acme Corp' }, /« Acme Corp » ne convient pas/],
      ['a sender name of 12 characters', { senderName: 'AcmeServices' }, /11 caractères au plus/],
      ['an unknown country', { defaultCountry: 'XX' }, /« XX » n'est pas un code de pays/],
      ['a segment cap of 0', { segmentCap: '0' }, /nombre entier de 1 à 20/],
      ['a segment cap of 21', { segmentCap: '21' }, /nombre entier de 1 à 20/],
      ['a signature line too long', { signatureMarker: 'x'.repeat(201) }, /au plus 200 caractères/],
      [
        'an unknown time zone',
        { timeZone: 'Europe/Pariss' },
        /« Europe\/Pariss » n’est pas un fuseau horaire connu : choisissez-en un dans la liste/,
      ],
    ]
    for (const [what, change, message] of BAD) {
      it(`refuses ${what} with 400, the message by the field, values kept`, async () => {
        const before = await accountRow(h.accounts.acme.id)
        const version = await readCacheVersion(h.db, 'directory')
        const res = await postForm(h.app, base, { ...GOOD, ...change }, { cookie })
        assert.equal(res.status, 400)
        const html = decoded(await res.text())
        assert.match(html, /class="field-error"/)
        assert.match(html, message)
        assert.match(html, /n'ont pas été sauvegardées/)
        const field = Object.keys(change)[0]
        assert.match(html, new RegExp(`<div class="field field-invalid"><label for="${field}">`))
        // What was typed is still there to correct.
        assert.ok(
          html.includes(
            `name="signatureMarker" type="text" value="${change.signatureMarker ?? GOOD.signatureMarker}"`,
          ),
        )
        assert.deepEqual(await accountRow(h.accounts.acme.id), before)
        assert.equal(await readCacheVersion(h.db, 'directory'), version)
      })
    }

    it('gives the field message in English', async () => {
      const res = await postForm(
        h.app,
        base,
        { ...GOOD, senderName: 'Acme Corp' },
        { cookie, headers: { 'accept-language': 'en' } },
      )
      assert.equal(res.status, 400)
      assert.match(decoded(await res.text()), /"Acme Corp" will not do/)
    })

    it('sends a visitor without a session to the login page', async () => {
      const res = await get(h.app, base)
      assert.equal(res.status, 302)
      assert.match(res.headers.get('location') ?? '', /^\/login/)
      const post = await postForm(h.app, base, GOOD)
      assert.equal(post.status, 401)
      assert.equal((await accountRow(h.accounts.acme.id)).sender_name, 'AcmeSA')
    })

    it('answers 404 for an account alice does not administer, changing nothing', async () => {
      const before = await accountRow(h.accounts.globex.id)
      assert.equal((await get(h.app, globexBase, cookie)).status, 404)
      const res = await postForm(h.app, globexBase, { ...GOOD, senderName: 'Hacked' }, { cookie })
      assert.equal(res.status, 404)
      const preview = await postForm(h.app, `${globexBase}/preview`, { email: 'x' }, { cookie })
      assert.equal(preview.status, 404)
      assert.deepEqual(await accountRow(h.accounts.globex.id), before)
    })

    it('refuses a POST without Origin with 403', async () => {
      const res = await postForm(
        h.app,
        base,
        { ...GOOD, senderName: 'NoOrigin' },
        { cookie, omitOrigin: true },
      )
      assert.equal(res.status, 403)
      const evil = await postForm(
        h.app,
        base,
        { ...GOOD, senderName: 'Evil' },
        { cookie, origin: 'http://evil.test' },
      )
      assert.equal(evil.status, 403)
      assert.equal((await accountRow(h.accounts.acme.id)).sender_name, 'AcmeSA')
      const preview = await postForm(
        h.app,
        `${base}/preview`,
        { email: 'x' },
        { cookie, omitOrigin: true },
      )
      assert.equal(preview.status, 403)
    })

    it('previews a French email with the saved marker: text, UCS-2, segments, culprit', async () => {
      const res = await postForm(h.app, `${base}/preview`, { email: FRENCH_EMAIL }, { cookie })
      assert.equal(res.status, 200)
      const html = await res.text()
      assert.match(html, /<h1 class="page-title">Préférences</)
      // The pasted email stays in the textarea.
      assert.ok(decoded(html).includes('Service client Acme'))
      const box = decoded(resultBox(html))
      assert.ok(
        box.includes(
          '<pre class="sms-text">Bonjour,\n\nVotre commande est pr<mark>ê</mark>te : passez à l\'accueil après 14h.</pre>',
        ),
        box,
      )
      assert.doesNotMatch(box, /Jeanne Martin|Service client|Paul Durand|a écrit/)
      assert.match(box, /data-encoding="UCS-2"/)
      assert.match(box, /data-segments="1" data-per-segment="70">1 SMS de 70 unités UCS-2 au plus/)
      assert.match(box, /<mark>ê \(U\+00EA\)<\/mark>, position 32/)
      assert.doesNotMatch(box, /class="warning"/)
    })

    it('returns only the result box to the live preview script', async () => {
      const res = await postForm(
        h.app,
        `${base}/preview`,
        { email: 'Rendez-vous à 14h, salle B.' },
        { cookie, headers: { 'x-requested-with': 'fetch', accept: 'text/html' } },
      )
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
      const html = await res.text()
      assert.match(html, /^<section id="sms-preview-result"/)
      assert.doesNotMatch(html, /<html|<h1>|<form/)
      assert.match(html, /<pre class="sms-text">Rendez-vous à 14h, salle B.<\/pre>/)
      assert.match(html, /data-encoding="GSM-7"/)
      assert.match(html, /1 SMS de 160 unités GSM au plus/)
    })

    it('gives the live preview the very box the page shows, units and all', async () => {
      // The script computes nothing: it swaps in the server's box, so no second copy of the
      // GSM tables can disagree with lib/sms. Both answers must carry the same figures.
      for (const email of [
        'Rendez-vous à 14h, salle B.',
        `ê${'a'.repeat(64)}😀😀😀`,
        `${'a'.repeat(152)}€${'a'.repeat(152)}`,
        FRENCH_150,
      ]) {
        const page = await postForm(h.app, `${base}/preview`, { email }, { cookie })
        const live = await postForm(
          h.app,
          `${base}/preview`,
          { email },
          { cookie, headers: { 'x-requested-with': 'fetch' } },
        )
        const fragment = await live.text()
        assert.equal(resultBox(await page.text()), fragment)
        assert.match(fragment, /data-units="\d+"/)
      }
    })

    it('warns when the text needs more SMS than the saved cap', async () => {
      const res = await postForm(
        h.app,
        `${base}/preview`,
        { email: 'Une phrase de test assez longue. '.repeat(20) },
        { cookie, headers: { 'x-requested-with': 'fetch' } },
      )
      const html = decoded(await res.text())
      assert.match(html, /data-segments="5" data-per-segment="153">5 SMS de 153 unités GSM au plus/)
      assert.match(
        html,
        /class="warning" role="alert">Ce texte demande 5 SMS et le compte en autorise 3 au plus/,
      )
    })

    it('says when nothing is left to send', async () => {
      const res = await postForm(
        h.app,
        `${base}/preview`,
        { email: 'Jeanne Martin\nService client' },
        { cookie, headers: { 'x-requested-with': 'fetch', 'accept-language': 'en' } },
      )
      assert.match(decoded(await res.text()), /Nothing is left to send/)
    })

    it('escapes hostile text in the preview and in the textarea', async () => {
      const email = '<script>alert(1)</script> prêt <img src=x onerror=alert(2)>'
      const res = await postForm(h.app, `${base}/preview`, { email }, { cookie })
      const html = await res.text()
      assert.doesNotMatch(html, /<script>alert|<img src=x/)
      assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))
      assert.ok(resultBox(html).includes('&lt;img src=x onerror=alert(2)&gt;'))
      const fragment = await postForm(
        h.app,
        `${base}/preview`,
        { email },
        { cookie, headers: { 'x-requested-with': 'fetch' } },
      )
      const text = await fragment.text()
      assert.doesNotMatch(text, /<script>alert|<img src=x/)
      assert.ok(text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'))
    })

    it('refuses to preview an oversized paste without processing it', async () => {
      const res = await postForm(
        h.app,
        `${base}/preview`,
        { email: 'a'.repeat(50_001) },
        { cookie, headers: { 'x-requested-with': 'fetch' } },
      )
      assert.match(decoded(await res.text()), /trop long pour l'aperçu/)
    })

    it('sends a GET of the preview address back to the page', async () => {
      const res = await get(h.app, `${base}/preview`, cookie)
      assert.equal(res.status, 302)
      assert.equal(res.headers.get('location'), base)
    })

    it('serves the live preview script it links to', async () => {
      const res = await get(h.app, '/assets/preview.js')
      assert.equal(res.status, 200)
      const served = await res.text()
      const onDisk = fs.readFileSync(path.join(__dirname, '../../admin/assets/preview.js'), 'utf8')
      assert.equal(served, onDisk)
      assert.match(served, /X-Requested-With': 'fetch'/)
      assert.match(served, /sms-preview-result/)
    })
  })
}
