import assert from 'node:assert/strict'
import { updateAccountLimits } from '../../lib/db/accounts'
import { addToCounters } from '../../lib/db/usage-counters'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import { decoded, follow, get, openSection, postForm, type AdminHarness } from './harness'

for (const kind of databaseKinds()) {
  describe(`admin sending limits (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const accountRow = () => h.db('accounts').where({ id: h.accounts.acme.id }).first()
    const setOperator = (yes: boolean) =>
      h.db('admins').where({ id: h.admins.alice.id }).update({ is_operator: yes })

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'limits'))
    })

    after(async () => h?.drop())

    it("shows an account admin the limits in force and today's use, read-only", async () => {
      await setOperator(false)
      await updateAccountLimits(h.db, h.accounts.acme.id, { segmentsPerDay: 200 })
      // The harness clock stands at 2026-11-27 09:00 UTC.
      await addToCounters(h.db, [
        {
          key: `seg:a:${h.accounts.acme.id}:2026-11-27`,
          amount: 50,
          expiresAt: Date.UTC(2026, 11, 1),
        },
        {
          key: `seg:a:${h.accounts.acme.id}:2026-11`,
          amount: 1234,
          expiresAt: Date.UTC(2026, 11, 2),
        },
      ])
      const res = await get(h.app, base, cookie)
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      assert.ok(html.includes(`<h1 class="page-title">Limites d'envoi<`))
      assert.match(
        html,
        /SMS par minute \(compte\)<\/th><td>300 SMS <small>\(par défaut\)<\/small>/,
      )
      assert.match(
        html,
        /Segments SMS par jour<\/th><td>200 segments <\/td><td>50 segments \(25 %\)/,
      )
      assert.match(
        html,
        /Segments SMS par mois<\/th><td>aucune limite <small>\(par défaut\)<\/small><\/td><td>1234 segments<\/td>/,
      )
      assert.match(html, /Destinations autorisées<\/th><td>FR <small>/)
      assert.ok(html.includes("Seul l'opérateur de la passerelle peut les modifier."))
      assert.ok(!html.includes('<form method="post" action="' + base + '"'))
      const refused = await postForm(h.app, base, { segmentsPerDay: '99999' }, { cookie })
      assert.equal(refused.status, 403)
      assert.equal(Number((await accountRow()).segments_per_day), 200)
    })

    it('lets an operator change them, back to the defaults with empty fields', async () => {
      await setOperator(true)
      const page = decoded(await (await get(h.app, base, cookie)).text())
      assert.ok(page.includes(`<form method="post" action="${base}" class="limits-form">`))
      const version = await readCacheVersion(h.db, 'directory')
      const res = await postForm(
        h.app,
        base,
        {
          smsPerMinute: '0',
          senderSmsPerMinute: '',
          segmentsPerDay: '1000',
          segmentsPerMonth: '20000',
          destinations: 'be, +881',
        },
        { cookie },
      )
      assert.equal(res.status, 303)
      const { res: after } = await follow(h.app, res, cookie)
      const html = decoded(await after.text())
      assert.ok(html.includes('Limites sauvegardées.'))
      assert.match(html, /Destinations autorisées<\/th><td>FR, \+881, BE <\/td>/)
      const row = await accountRow()
      assert.equal(Number(row.sms_per_minute), 0)
      assert.equal(row.sender_sms_per_minute, null)
      assert.equal(Number(row.segments_per_month), 20000)
      assert.equal(row.allowed_destinations, '+881,BE')
      assert.ok((await readCacheVersion(h.db, 'directory')) > version)
    })

    it('refuses a bad value in the page language and changes nothing', async () => {
      await setOperator(true)
      const bad = await postForm(
        h.app,
        base,
        { segmentsPerDay: 'beaucoup', destinations: '' },
        { cookie },
      )
      assert.equal(bad.status, 400)
      assert.match(
        decoded(await bad.text()),
        /« Segments SMS par jour » doit être un nombre entier/,
      )
      const country = await postForm(h.app, base, { destinations: 'Belgique' }, { cookie })
      assert.equal(country.status, 400)
      assert.match(decoded(await country.text()), /« Belgique » n'est ni un code pays/)
      assert.equal(Number((await accountRow()).segments_per_day), 1000)
    })

    it("never shows or changes another account's limits, and wants the form's origin", async () => {
      await setOperator(true)
      assert.equal((await get(h.app, globexBase, cookie)).status, 404)
      assert.equal(
        (await postForm(h.app, globexBase, { segmentsPerDay: '5' }, { cookie })).status,
        404,
      )
      const noOrigin = await postForm(
        h.app,
        base,
        { segmentsPerDay: '5' },
        { cookie, omitOrigin: true },
      )
      assert.equal(noOrigin.status, 403)
      assert.equal(Number((await accountRow()).segments_per_day), 1000)
    })
  })
}
