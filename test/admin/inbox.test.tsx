import assert from 'node:assert/strict'
import { setTimeZone } from '../../lib/db/account-settings'
import { createAccount } from '../../lib/db/accounts'
import { grantAccount } from '../../lib/db/admins'
import type { Db } from '../../lib/db/connection'
import { PURGED_ADDRESSES, PURGED_TEXT } from '../../lib/db/purged'
import { KEPT_NO_DESTINATION, RELAY_REFUSED } from '../../lib/inbound/inbox-outcome'
import { PAGE_SIZE, dayStart } from '../../admin/routes/inbox'
import { timeZone } from '../../lib/time/zone'
import { databaseKinds } from '../support/databases'
import { decoded, get, openSection, type AdminHarness } from './harness'

interface Inbound {
  id: number
  from: string
  status: string
  receivedAt: number
  body: string
}

let serial = 0

async function insertInbound(
  db: Db,
  accountId: number,
  receivedAt: number,
  fields: {
    from?: string
    status?: string
    body?: string
    lastError?: string | null
    mailedTo?: string | null
    parts?: number
    missingParts?: number
    purged?: number
  } = {},
): Promise<Inbound> {
  const n = ++serial
  const row = {
    from: fields.from ?? '+33611111111',
    status: fields.status ?? 'forwarded',
    body: fields.body ?? `Réponse numéro ${n}`,
  }
  const [id] = await db('inbound_sms').insert({
    account_id: accountId,
    from_number: row.from,
    to_number: '+33700000001',
    body: row.body,
    encoding: 'gsm7',
    parts: fields.parts ?? 1,
    missing_parts: fields.missingParts ?? 0,
    source: 'smpp',
    dedupe_key: `admin-inbox-${n}`,
    status: row.status,
    last_error: fields.lastError ?? null,
    mailed_to: fields.mailedTo ?? null,
    received_at: receivedAt,
    purged: fields.purged ?? 0,
  })
  return { id: Number(id), receivedAt, ...row }
}

/** The SMS rows of a page, in the order shown. */
function shownIds(html: string): number[] {
  return [...html.matchAll(/<tr id="inbound-(\d+)"/g)].map((m) => Number(m[1]))
}

function nextLink(html: string): string | null {
  const m = /<a rel="next" href="([^"]+)"/.exec(html)
  return m ? m[1].replace(/&amp;/g, '&') : null
}

/** One row's markup, decoded. */
function rowOf(html: string, id: number): string {
  const text = decoded(html)
  const start = text.indexOf(`<tr id="inbound-${id}"`)
  assert.ok(start >= 0, `no row ${id}`)
  return text.slice(start, text.indexOf('</tr>', start))
}

const HOUR = 3_600_000
const NUMBERS = ['+33611111111', '+33622222222', '+447700900123']
const STATES = ['forwarded', 'replied', 'received', 'failed', 'kept', 'opt_out']

for (const kind of databaseKinds()) {
  describe(`admin inbox (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string
    const acme: Inbound[] = []
    let special: Record<string, Inbound>

    const page = async (query = '', headers: Record<string, string> = {}) => {
      const res = await get(h.app, `${base}${query}`, cookie, headers)
      return { status: res.status, html: (await res.text()).replace(/>\s+</g, '><') }
    }
    /** The newest of the hourly SMS in a state (not one of the special ones). */
    const newestIn = (status: string) =>
      acme
        .slice(0, 66)
        .reverse()
        .find((s) => s.status === status) as Inbound
    const expected = (keep: (s: Inbound) => boolean) =>
      acme
        .filter(keep)
        .sort((a, b) => b.receivedAt - a.receivedAt || b.id - a.id)
        .map((s) => s.id)

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'inbox'))
      const now = h.clock.now
      const db = h.db
      const id = h.accounts.acme.id
      // 66 SMS over the last three days, one an hour, every state and number in turn.
      for (let i = 0; i < 66; i++) {
        const status = STATES[i % STATES.length]
        acme.push(
          await insertInbound(db, id, now - (66 - i) * HOUR, {
            status,
            from: NUMBERS[i % NUMBERS.length],
            mailedTo: status === 'forwarded' ? 'office@acme.test, boss@acme.test' : null,
            lastError: status === 'failed' ? `${RELAY_REFUSED}550 5.1.1 <office@acme.test>` : null,
          }),
        )
        if (i % 10 === 0) {
          await insertInbound(db, h.accounts.globex.id, now - (66 - i) * HOUR, {
            body: `GLOBEX-ONLY ${i}`,
            from: NUMBERS[i % NUMBERS.length],
          })
        }
      }
      const at = (minutes: number) => now - minutes * 60_000
      special = {
        replied: await insertInbound(db, id, at(50), {
          status: 'replied',
          from: '+33699999901',
          mailedTo: 'carol@acme.test',
        }),
        kept: await insertInbound(db, id, at(40), {
          status: 'kept',
          from: '+33699999902',
          lastError: KEPT_NO_DESTINATION,
        }),
        retry: await insertInbound(db, id, at(30), {
          status: 'received',
          from: '+33699999903',
          lastError: `${RELAY_REFUSED}connect ECONNREFUSED 127.0.0.1:25`,
        }),
        incomplete: await insertInbound(db, id, at(20), {
          from: '+33699999904',
          parts: 2,
          missingParts: 1,
          body: 'Bonjour, je [&hellip;] <b>demain</b> [&hellip;]',
          mailedTo: 'office@acme.test',
        }),
        script: await insertInbound(db, id, at(10), {
          from: '+33699999905',
          body: '<script>alert("x")</script> & "quotes"',
          mailedTo: 'office@acme.test',
        }),
        purged: await insertInbound(db, id, at(70), {
          from: '',
          body: '',
          purged: PURGED_TEXT | PURGED_ADDRESSES,
          mailedTo: null,
        }),
      }
      acme.push(...Object.values(special))
    })

    after(async () => h?.drop())

    it('sends a visitor without a session to the login form', async () => {
      const res = await get(h.app, base)
      assert.equal(res.status, 302)
      assert.match(res.headers.get('location') ?? '', /^\/login\?next=/)
    })

    it('answers 404 for an account the admin does not administer', async () => {
      const res = await get(h.app, `${globexBase}?number=1`, cookie)
      assert.equal(res.status, 404)
      assert.doesNotMatch(await res.text(), /GLOBEX-ONLY/)
    })

    it('lists the received SMS newest first, in French, in the menu and breadcrumb', async () => {
      const { status, html } = await page()
      assert.equal(status, 200)
      const text = decoded(html)
      for (const label of [
        '<h1 class="page-title">SMS reçus<',
        '>Reçu le</th>',
        '>Numéro</th>',
        '>Texte</th>',
        '>Suite donnée</th>',
        '>Reçus à partir du</label>',
        '>Reçus jusqu’au</label>',
        '<option value="opt_out">Désinscription (STOP)</option>',
        '>Page suivante</a>',
        `<a href="${base}" aria-current="page">SMS reçus</a>`,
        '<span aria-current="page">SMS reçus</span>',
      ]) {
        assert.ok(text.includes(label), `missing ${label}`)
      }
      assert.deepEqual(shownIds(html), expected(() => true).slice(0, PAGE_SIZE))
      assert.doesNotMatch(html, /GLOBEX-ONLY/)
      // The date as the other pages write theirs.
      const newest = special.script
      assert.match(
        rowOf(html, newest.id),
        /<time datetime="2026-11-27T08:50:00.000Z">27 nov\. 2026, 08:50 UTC<\/time>/,
      )
    })

    it('says what became of each SMS, with the addresses it went to', async () => {
      const { html } = await page()
      const forwarded = newestIn('forwarded')
      assert.match(
        rowOf(html, forwarded.id),
        /<span class="status status-delivered">Transféré<\/span><span class="reason">par e-mail à office@acme\.test, boss@acme\.test<\/span>/,
      )
      assert.match(
        rowOf(html, special.replied.id),
        />Réponse directe<\/span><span class="reason">par e-mail à carol@acme\.test, qui avait écrit à ce numéro<\/span>/,
      )
      assert.match(
        rowOf(html, special.kept.id),
        />Non transmis<\/span><span class="reason">le compte n’avait ni adresse de transfert, ni utilisateur à qui répondre directement<\/span>/,
      )
      assert.match(
        rowOf(html, special.retry.id),
        />En attente<\/span><span class="reason">nouvel essai prévu : le serveur de messagerie a refusé l’e-mail — <span lang="en">connect ECONNREFUSED 127\.0\.0\.1:25<\/span><\/span>/,
      )
      const failed = newestIn('failed')
      assert.match(
        rowOf(html, failed.id),
        /status-failed">Échec<\/span><span class="reason">le serveur de messagerie a refusé l’e-mail — <span lang="en">550 5\.1\.1 <office@acme\.test><\/span>/,
      )
      const optOut = newestIn('opt_out')
      assert.ok(
        rowOf(html, optOut.id).includes(
          `>Désinscription (STOP)</span><span class="reason">Ce numéro ne reçoit plus de SMS de ce compte. <a href="/a/${h.accounts.acme.id}/opt-outs?number=${encodeURIComponent(optOut.from)}">Voir les désinscriptions</a>`,
        ),
      )
      assert.match(
        rowOf(html, newestIn('received').id),
        />En attente<\/span><span class="reason">sera envoyé/,
      )
      assert.match(
        rowOf(html, special.incomplete.id),
        /<span class="reason">Incomplet : 2 parties reçues sur 3 ; « \[…\] » marque ce qui manque\.<\/span>/,
      )
      assert.match(
        rowOf(html, special.purged.id),
        /Numéro effacé.*Texte effacé \(durée de conservation dépassée\)/,
      )
    })

    it('escapes what the SMS says', async () => {
      const { html } = await page()
      assert.ok(!html.includes('<script>'))
      assert.ok(!html.includes('<b>demain</b>'))
      assert.ok(
        html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;'),
      )
      assert.ok(html.includes('[&amp;hellip;] &lt;b&gt;demain&lt;/b&gt;'))
    })

    it('folds a long text behind its beginning, without writing any of it twice', async () => {
      const words = Array.from({ length: 60 }, (_, i) => `mot${i}`)
      const long = await insertInbound(h.db, h.accounts.acme.id, h.clock.now - 1000, {
        body: `${words.join(' ')} fin`,
        from: '+33699999906',
      })
      acme.push(long)
      const row = rowOf((await page()).html, long.id)
      assert.match(
        row,
        /<details class="log-text inbox-text"><summary>mot0 mot1 .*<span class="inbox-more"> … \(suite\)<\/span><\/summary><span>mot\d+ .* fin<\/span><\/details>/,
      )
      for (const word of [...words, 'fin']) {
        assert.equal(row.split(new RegExp(`\\b${word}\\b`)).length, 2, `${word} once`)
      }
      const short = rowOf((await page()).html, special.script.id)
      assert.doesNotMatch(short, /<details/)
    })

    it('speaks English too, without a French word', async () => {
      const { html } = await page('', { 'accept-language': 'en' })
      const text = decoded(html)
      for (const label of [
        '<h1 class="page-title">Received SMS<',
        '>Received</th>',
        '>Outcome</th>',
        '>Forwarded</span><span class="reason">by email to office@acme.test, boss@acme.test</span>',
        '>Opt-out (STOP)</span>',
        '>Not passed on</span>',
        '>Next page</a>',
        'Incomplete: 2 parts of 3 came',
      ]) {
        assert.ok(text.includes(label), `missing ${label}`)
      }
      assert.doesNotMatch(text, /Transféré|Suite donnée|Désinscription|reçu/)
    })

    it('pages through every SMS with "Page suivante", neither skipping nor repeating', async () => {
      const seen: number[] = []
      let query = ''
      for (let pages = 0; pages < 10; pages++) {
        const { status, html } = await page(query)
        assert.equal(status, 200)
        seen.push(...shownIds(html))
        const next = nextLink(html)
        if (!next) {
          if (pages > 0) assert.ok(html.includes('>Retour aux plus récents</a>'))
          break
        }
        query = next.slice(base.length)
        assert.match(query, /^\?before=\d+-\d+$/)
      }
      assert.deepEqual(
        seen,
        expected(() => true),
      )
    })

    it('filters by part of the number, by outcome and by dates, keeping them on the next page', async () => {
      const cases: Array<[string, (s: Inbound) => boolean]> = [
        ['?number=2222', (s) => s.from.includes('2222')],
        ['?number=%2B44', (s) => s.from.startsWith('+44')],
        ['?number=06+11+11+11+11', (s) => s.from === '+33611111111'],
        ['?number=0699', (s) => s.from.startsWith('+33699')],
        ['?outcome=pending', (s) => s.status === 'received'],
        ['?outcome=incomplete', (s) => s === special.incomplete],
        [
          '?outcome=failed&number=%2B336',
          (s) => s.status === 'failed' && s.from.startsWith('+336'),
        ],
        [
          '?from=2026-11-25&to=2026-11-25',
          (s) => s.receivedAt >= Date.UTC(2026, 10, 25) && s.receivedAt < Date.UTC(2026, 10, 26),
        ],
      ]
      for (const [query, keep] of cases) {
        const want = expected(keep)
        assert.ok(want.length >= 1, query)
        const seen: number[] = []
        let q = query
        for (let pages = 0; pages < 5 && q; pages++) {
          const { status, html } = await page(q)
          assert.equal(status, 200, query)
          seen.push(...shownIds(html))
          const next = nextLink(html)
          q = next ? next.slice(base.length) : ''
          if (next) assert.ok(next.includes(query.slice(1).split('&')[0]), next)
        }
        assert.deepEqual(seen, want, query)
      }
      const { html } = await page('?outcome=replied&from=2026-11-26')
      assert.ok(html.includes('<option value="replied" selected="">Réponse directe</option>'))
      assert.ok(html.includes('name="from" type="date" value="2026-11-26"'))
    })

    it('says so when nothing matches, and when there is nothing at all', async () => {
      assert.ok(
        decoded((await page('?number=987654')).html).includes(
          'Aucun SMS reçu ne correspond à ces filtres.',
        ),
      )
      const empty = await createAccount(h.db, { ref: 'empty', name: 'Empty' })
      await grantAccount(h.db, h.admins.alice.id, empty.id)
      const res = await get(h.app, `/a/${empty.id}/inbox`, cookie)
      const text = decoded(await res.text())
      assert.ok(text.includes('<p class="empty">Aucun SMS reçu pour l’instant.'))
      assert.ok(!text.includes('<table'))
    })

    it('refuses filters it cannot read, saying which, with a 400', async () => {
      const cases: Array<[string, RegExp]> = [
        ['?number=abc', /« abc » n’est pas un numéro ni une partie de numéro/],
        ['?outcome=everything', /Choisissez une suite donnée de la liste\./],
        ['?from=2026-02-30', /« 2026-02-30 » n’est pas une date au format AAAA-MM-JJ\./],
        ['?from=2026-11-27&to=2026-11-26', /Cette date est avant celle du début\./],
        ['?before=12', /Ce lien de page n’est pas valable/],
      ]
      for (const [query, message] of cases) {
        const { status, html } = await page(query)
        assert.equal(status, 400, query)
        assert.match(decoded(html), message, query)
        assert.equal(shownIds(html).length, 0, query)
      }
    })

    it('reads a typed day as that day of the account’s zone', () => {
      assert.equal(dayStart('2026-11-27'), Date.UTC(2026, 10, 27))
      assert.equal(dayStart('2026-13-01'), null)
      assert.equal(dayStart('27/11/2026'), null)
      const auckland = timeZone('Pacific/Auckland')
      assert.equal(dayStart('2026-11-27', auckland), Date.UTC(2026, 10, 26, 11))
      assert.equal(dayStart('2026-11-27', auckland, true), Date.UTC(2026, 10, 27, 11))
    })

    it('shows the dates and reads the days in the account’s time zone', async () => {
      await setTimeZone(h.db, h.accounts.acme.id, 'Pacific/Auckland')
      try {
        // 09:00 UTC on 27 November is 22:00 in Auckland; 12:00 UTC is already the 28th there.
        const evening = await insertInbound(h.db, h.accounts.acme.id, Date.UTC(2026, 10, 27, 9))
        const night = await insertInbound(h.db, h.accounts.acme.id, Date.UTC(2026, 10, 27, 12))
        const { html } = await page('?from=2026-11-28&to=2026-11-28')
        assert.deepEqual(shownIds(html), [night.id])
        const text = decoded(html).replace(/[\u00a0\u202f]/g, ' ')
        assert.match(text, /fuseau horaire du compte \(Pacific\/Auckland\)/)
        assert.match(
          rowOf(html, night.id).replace(/[\u00a0\u202f]/g, ' '),
          /28 nov\. 2026, 01:00 UTC\+13/,
        )
        const before = await page('?to=2026-11-27')
        assert.ok(shownIds(before.html).includes(evening.id))
        assert.ok(!shownIds(before.html).includes(night.id))
        await h.db('inbound_sms').whereIn('id', [evening.id, night.id]).delete()
      } finally {
        await setTimeZone(h.db, h.accounts.acme.id, 'UTC')
      }
    })
  })
}
