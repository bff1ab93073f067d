import assert from 'node:assert/strict'
import { recordAuditEntry, type AuditRecord } from '../../lib/db/audit'
import { databaseKinds } from '../support/databases'
import { decoded, get, openSection, type AdminHarness } from './harness'

for (const kind of databaseKinds()) {
  describe(`admin audit (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const page = async (query = '', headers: Record<string, string> = {}) => {
      const res = await get(h.app, `${base}${query}`, cookie, headers)
      return { status: res.status, html: (await res.text()).replace(/>\s+</g, '><') }
    }
    const shownIds = (html: string) =>
      [...html.matchAll(/<tr id="audit-(\d+)"/g)].map((m) => Number(m[1]))
    const record = (fields: Partial<AuditRecord>) =>
      recordAuditEntry(h.db, {
        accountId: h.accounts.acme.id,
        adminId: h.admins.alice.id,
        adminEmail: 'alice@acme.test',
        action: 'opt_out.remove',
        subject: '+33612345678',
        clientIp: '203.0.113.9',
        at: h.clock.now,
        ...fields,
      })

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'audit'))
    })

    after(async () => h?.drop())

    it('says so when nothing was recorded yet', async () => {
      const { status, html } = await page()
      assert.equal(status, 200)
      const text = decoded(html)
      assert.ok(text.includes('<h1 class="page-title">Journal d’audit<'))
      assert.ok(text.includes('Les mots de passe et les secrets n’y figurent jamais'))
      assert.ok(
        text.includes(
          '<p class="empty">Aucune modification n’a encore été enregistrée pour ce compte.</p>',
        ),
      )
      assert.ok(text.includes('<span aria-current="page">Journal d’audit</span>'))
    })

    it('shows who changed what, when, from where, and the fields before → after, escaped', async () => {
      const removal = await record({
        before: { number: '+33612345678', keyword: 'STOP', optedOutAt: '2026-11-27T08:00:00.000Z' },
        after: { reason: 'asked by phone <script>x</script>' },
      })
      const secret = await record({
        action: 'gateway.tune',
        subject: 'webhook',
        adminEmail: 'bob@multi.test',
        adminId: h.admins.bob.id,
        before: {
          relayAddresses: ['a@acme.test'],
          relaySecret: 'old-value',
          relayOn: false,
        },
        after: {
          relayAddresses: ['a@acme.test', 'b@acme.test'],
          relaySecret: 'new-value',
          relayOn: true,
        },
        clientIp: null,
      })
      await record({ accountId: h.accounts.globex.id, subject: 'GLOBEX-ONLY' })
      const { html } = await page()
      assert.deepEqual(shownIds(html), [secret, removal])
      assert.doesNotMatch(html, /GLOBEX-ONLY|old-value|new-value|<script>x/)
      const text = decoded(html)
      const row = (id: number) => {
        const start = text.indexOf(`<tr id="audit-${id}"`)
        return text.slice(start, text.indexOf('</tr>', start))
      }
      assert.match(
        row(removal),
        /<time datetime="2026-11-27T09:00:00.000Z">27 nov\. 2026, 09:00 UTC<\/time><\/td><td[^>]*>alice@acme\.test<\/td><td[^>]*>Désinscription supprimée<\/td><td class="mono[^>]*>\+33612345678<\/td>/,
      )
      for (const change of [
        '<li><span class="audit-field">Numéro</span> : <del class="audit-before">+33612345678</del> → <span class="audit-empty">(vide)</span></li>',
        '<li><span class="audit-field">Désinscrit le</span> : <del class="audit-before">27 nov. 2026, 08:00 UTC</del>',
        '<li><span class="audit-field">Motif</span> : <span class="audit-empty">(vide)</span> → <ins class="audit-after">asked by phone <script>x</script></ins></li>',
      ]) {
        assert.ok(row(removal).includes(change), `missing ${change}`)
      }
      assert.ok(row(removal).includes('<td class="mono" data-label="Adresse IP">203.0.113.9</td>'))
      assert.ok(html.includes('asked by phone &lt;script&gt;x&lt;/script&gt;'))
      // An action without words of its own is shown by its name; unchanged fields are not.
      assert.ok(
        row(secret).includes('bob@multi.test</td><td data-label="Action">gateway.tune</td>'),
      )
      assert.ok(
        row(secret).includes(
          '<span class="audit-field">relayAddresses</span> : <del class="audit-before">a@acme.test</del> → <ins class="audit-after">a@acme.test, b@acme.test</ins>',
        ),
      )
      assert.ok(
        row(secret).includes(
          '<span class="audit-field">relaySecret</span> : <span class="audit-after">modifié (valeur non enregistrée)</span>',
        ),
      )
      assert.ok(
        row(secret).includes(
          '<del class="audit-before">non</del> → <ins class="audit-after">oui</ins>',
        ),
      )
      const en = decoded((await page('', { 'accept-language': 'en' })).html)
      for (const label of [
        '<h1 class="page-title">Audit log<',
        '>Opt-out removed</td>',
        '<span class="audit-field">Reason</span>: <span class="audit-empty">(empty)</span>',
        'changed (value not recorded)',
      ]) {
        assert.ok(en.includes(label), `missing ${label}`)
      }
      assert.doesNotMatch(en, /Désinscription|modifié|Motif/)
    })

    it('filters by action and by admin, offering those the log has', async () => {
      const { html } = await page()
      const text = decoded(html)
      assert.ok(text.includes('<option value="opt_out.remove">Désinscription supprimée</option>'))
      assert.ok(text.includes('<option value="gateway.tune">gateway.tune</option>'))
      assert.ok(text.includes('<option value="bob@multi.test">bob@multi.test</option>'))
      const byAction = await page('?action=opt_out.remove')
      assert.equal(shownIds(byAction.html).length, 1)
      assert.ok(
        decoded(byAction.html).includes(
          '<option value="opt_out.remove" selected="">Désinscription supprimée</option>',
        ),
      )
      const byAdmin = await page('?admin=bob%40multi.test')
      assert.equal(shownIds(byAdmin.html).length, 1)
      assert.ok(
        decoded(byAdmin.html).includes(
          '<td class="wrap-anywhere" data-label="Administrateur">bob@multi.test</td>',
        ),
      )
      const none = await page('?admin=bob%40multi.test&action=opt_out.remove')
      assert.ok(decoded(none.html).includes('Aucune entrée ne correspond à ces filtres.'))
    })

    it('pages newest first with "Page suivante", keeping the filter', async () => {
      const ids: number[] = []
      for (let i = 0; i < 53; i++) ids.push(await record({ action: 'ip.add', subject: `ip ${i}` }))
      const first = await page('?action=ip.add')
      assert.deepEqual(shownIds(first.html), [...ids].reverse().slice(0, 50))
      const next = /<a rel="next" href="([^"]+)"/.exec(first.html)?.[1].replace(/&amp;/g, '&')
      assert.equal(next, `${base}?action=ip.add&before=${ids[3]}`)
      const second = await page((next as string).slice(base.length))
      assert.deepEqual(shownIds(second.html), [ids[2], ids[1], ids[0]])
      assert.ok(!/rel="next"/.test(second.html))
      // Sixteen digits are no id a page link holds: a 400 like any bad link, not a 500.
      assert.equal((await page('?before=9999999999999999')).status, 400)
      const bad = await page('?before=x')
      assert.equal(bad.status, 400)
      assert.ok(decoded(bad.html).includes('Ce lien de page n’est pas valable'))
    })

    it('answers 404 for an account the admin does not administer', async () => {
      const res = await get(h.app, globexBase, cookie)
      assert.equal(res.status, 404)
      assert.doesNotMatch(await res.text(), /GLOBEX-ONLY/)
    })
  })
}
