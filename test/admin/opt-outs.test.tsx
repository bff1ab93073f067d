import assert from 'node:assert/strict'
import { addOptOut, isOptedOut } from '../../lib/db/opt-outs'
import { listAuditEntries } from '../../lib/db/audit'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import {
  BASE_ORIGIN,
  BASE_URL,
  PASSWORD,
  decoded,
  follow,
  get,
  login,
  openSection,
  postForm,
  type AdminHarness,
} from './harness'

const NUMBER = '+33612345678'

for (const kind of databaseKinds()) {
  describe(`admin opt-outs (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const html = async (path: string, headers: Record<string, string> = {}) => {
      const res = await get(h.app, path, cookie, headers)
      return { status: res.status, text: decoded((await res.text()).replace(/>\s+</g, '><')) }
    }
    const shownNumbers = (text: string) =>
      [...text.matchAll(/<tr><td class="mono">([^<]+)<\/td>/g)].map((m) => m[1])

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'opt-outs'))
    })

    beforeEach(async () => {
      await h.reset()
      cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      base = `/a/${h.accounts.acme.id}/opt-outs`
      globexBase = `/a/${h.accounts.globex.id}/opt-outs`
      await addOptOut(h.db, h.accounts.acme.id, NUMBER, 'STOP', h.clock.now - 3_600_000)
      await addOptOut(h.db, h.accounts.globex.id, '+33699999999', 'ARRET', h.clock.now)
    })

    after(async () => h?.drop())

    it('explains what an opt-out means and lists the account’s, in French and English', async () => {
      const fr = await html(base)
      assert.equal(fr.status, 200)
      for (const label of [
        '<h1 class="page-title">Désinscriptions (STOP)<',
        'La passerelle n’envoie plus aucun SMS de ce compte à ces numéros',
        'en envoyant START au numéro virtuel du compte',
        '>Mot-clé reçu</th>',
        '>Désinscrit le</th>',
        `<tr><td class="mono">${NUMBER}</td><td>STOP</td><td>27 nov. 2026, 08:00 UTC</td>`,
        `<a href="${base}/remove?number=%2B33612345678" aria-label="Supprimer la désinscription de ${NUMBER}">Supprimer…</a>`,
        '<span aria-current="page">Désinscriptions (STOP)</span>',
      ]) {
        assert.ok(fr.text.includes(label), `missing ${label}`)
      }
      assert.ok(!fr.text.includes('+33699999999'))
      const en = await html(base, { 'accept-language': 'en' })
      for (const label of [
        '<h1 class="page-title">Opt-outs (STOP)<',
        'texting START',
        '>Remove…</a>',
      ]) {
        assert.ok(en.text.includes(label), `missing ${label}`)
      }
      assert.doesNotMatch(en.text, /Désinscri|Supprimer/)
    })

    it('searches by part of the number and pages newest first', async () => {
      for (let i = 0; i < 55; i++) {
        const number = `+3361000${String(i).padStart(4, '0')}`
        await addOptOut(h.db, h.accounts.acme.id, number, 'STOP', h.clock.now - i * 60_000)
      }
      const first = await html(base)
      const numbers = shownNumbers(first.text)
      assert.equal(numbers.length, 50)
      assert.deepEqual(numbers.slice(0, 2), ['+33610000000', '+33610000001'])
      const next = /<a rel="next" href="([^"]+)"/.exec(first.text)?.[1] as string
      assert.ok(next)
      const second = await html(next)
      assert.deepEqual(shownNumbers(second.text), [
        '+33610000050',
        '+33610000051',
        '+33610000052',
        '+33610000053',
        '+33610000054',
        NUMBER,
      ])
      assert.ok(second.text.includes('>Retour aux plus récentes</a>'))
      // Digits anywhere: 5 is in i = 5, 15, 25, 35, 45, 50…54, and in NUMBER (the oldest).
      const withFive = [5, 15, 25, 35, 45, 50, 51, 52, 53, 54].map(
        (i) => `+3361000${String(i).padStart(4, '0')}`,
      )
      assert.deepEqual(shownNumbers((await html(`${base}?number=5`)).text), [...withFive, NUMBER])
      assert.deepEqual(shownNumbers((await html(`${base}?number=06+12+34+56+78`)).text), [NUMBER])
      const none = await html(`${base}?number=999`)
      assert.ok(none.text.includes('Aucune désinscription ne correspond à ce numéro.'))
      const bad = await html(`${base}?number=x1`)
      assert.equal(bad.status, 400)
      assert.ok(bad.text.includes('« x1 » n’est pas un numéro ni une partie de numéro'))
    })

    it('says so when no number opted out', async () => {
      await h.db('opt_outs').delete()
      const { text } = await html(base)
      assert.ok(
        text.includes('<p class="empty">Aucun numéro ne s’est désinscrit de ce compte.</p>'),
      )
    })

    it('asks for a reason on a page naming the number and the account before removing', async () => {
      const { status, text } = await html(`${base}/remove?number=%2B33612345678`)
      assert.equal(status, 200)
      for (const label of [
        '<h1 class="page-title">Supprimer une désinscription<',
        `Supprimer la désinscription de ${NUMBER} pour le compte Acme SA (acme) ?`,
        '<form method="post" action="' + base + '/remove">',
        `<input type="hidden" name="number" value="${NUMBER}"/>`,
        '<textarea id="reason" name="reason" required="" minlength="3" maxlength="500"',
        '>Supprimer la désinscription</button>',
        `<a href="${base}">Annuler</a>`,
      ]) {
        assert.ok(text.includes(label), `missing ${label}`)
      }
      // Looking changes nothing.
      assert.equal(await isOptedOut(h.db, h.accounts.acme.id, NUMBER), true)
    })

    it('removes it with a reason, records who, why and what in the audit log', async () => {
      const version = await readCacheVersion(h.db, 'directory')
      h.clock.advance(60_000)
      const res = await h.app.request(
        `${BASE_URL}${base}/remove`,
        {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            origin: BASE_ORIGIN,
            cookie,
          },
          body: new URLSearchParams({
            number: NUMBER,
            reason: '  La cliente l’a demandé par téléphone <b>le 27</b>  ',
          }).toString(),
        },
        { incoming: { socket: { remoteAddress: '203.0.113.9' } } },
      )
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      assert.equal(await isOptedOut(h.db, h.accounts.acme.id, NUMBER), false)
      // The MX's directory sees it at its next look.
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)
      const page = decoded(await (await follow(h.app, res, cookie)).res.text())
      assert.ok(page.includes(`${NUMBER} peut de nouveau recevoir les SMS de ce compte.`))
      const { rows } = await listAuditEntries(h.db, h.accounts.acme.id, {}, 10)
      assert.deepEqual(rows, [
        {
          id: rows[0].id,
          accountId: h.accounts.acme.id,
          adminId: h.admins.alice.id,
          adminEmail: 'alice@acme.test',
          action: 'opt_out.remove',
          subject: NUMBER,
          before: { number: NUMBER, keyword: 'STOP', optedOutAt: '2026-11-27T08:00:00.000Z' },
          after: { reason: 'La cliente l’a demandé par téléphone <b>le 27</b>' },
          clientIp: '203.0.113.9',
          createdAt: h.clock.now,
        },
      ])
    })

    it('keeps the opt-out when the reason is missing, too short or too long', async () => {
      for (const [reason, message] of [
        ['', 'Indiquez le motif en 3 caractères au moins.'],
        ['  ok ', 'Indiquez le motif en 3 caractères au moins.'],
        ['é'.repeat(501), 'Le motif fait au plus 500 caractères (501 saisis).'],
      ]) {
        const res = await postForm(h.app, `${base}/remove`, { number: NUMBER, reason }, { cookie })
        assert.equal(res.status, 400, reason)
        const text = decoded(await res.text())
        assert.ok(text.includes(message), message)
        assert.ok(text.includes('La désinscription n’a pas été supprimée'))
        assert.ok(text.includes(`value="${NUMBER}"`))
      }
      const exact = await postForm(
        h.app,
        `${base}/remove`,
        { number: NUMBER, reason: 'abc' },
        { cookie },
      )
      assert.equal(exact.status, 303)
      assert.equal(await isOptedOut(h.db, h.accounts.acme.id, NUMBER), false)
    })

    it('answers 404 for another account’s opt-out, its pages, and a number not opted out', async () => {
      const theirs = '+33699999999'
      const cases: Array<Promise<Response>> = [
        get(h.app, globexBase, cookie),
        get(h.app, `${globexBase}/remove?number=${encodeURIComponent(theirs)}`, cookie),
        get(h.app, `${base}/remove?number=${encodeURIComponent(theirs)}`, cookie),
        get(h.app, `${base}/remove?number=%2B33600000000`, cookie),
        postForm(h.app, `${globexBase}/remove`, { number: theirs, reason: 'abuse' }, { cookie }),
        postForm(h.app, `${base}/remove`, { number: theirs, reason: 'abuse' }, { cookie }),
      ]
      for (const res of await Promise.all(cases)) assert.equal(res.status, 404)
      assert.equal(await isOptedOut(h.db, h.accounts.globex.id, theirs), true)
      assert.equal((await h.db('audit_log').count({ n: '*' }))[0].n, 0)
    })

    it('refuses a removal posted from another site', async () => {
      const res = await postForm(
        h.app,
        `${base}/remove`,
        { number: NUMBER, reason: 'forged' },
        { cookie, omitOrigin: true },
      )
      assert.equal(res.status, 403)
      assert.equal(await isOptedOut(h.db, h.accounts.acme.id, NUMBER), true)
    })
  })
}
