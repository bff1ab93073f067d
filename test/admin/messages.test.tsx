import assert from 'node:assert/strict'
import type { Db } from '../../lib/db/connection'
import { setTimeZone } from '../../lib/db/account-settings'
import { DAY_MS, foldDailyDeltas, insertEmails } from '../../lib/db/outbound'
import { databaseKinds } from '../support/databases'
import {
  PASSWORD,
  createAdminHarness,
  decoded,
  get,
  login,
  openSection,
  type AdminHarness,
} from './harness'

const STATES = [
  'delivered',
  'sent',
  'queued',
  'failed',
  'delivered',
  'undeliverable',
  'expired',
  'partial',
  'unknown',
]
const FAILED_STATES = ['failed', 'undeliverable', 'expired', 'partial']
const NUMBERS = ['+33611111111', '+33622222222', '+33712345678']
const SENDERS = ['alice@acme.test', 'bob@acme.test', 'alice@acme.test']

interface Sms {
  id: number
  accountId: number
  recipient: string
  sender: string
  status: string
  body: string
  createdAt: number
}

/** The SMS rows of a page, in the order shown. */
function shownIds(html: string): number[] {
  return [...html.matchAll(/<tr id="sms-(\d+)"/g)].map((m) => Number(m[1]))
}

/** The href of the "Page suivante" / "Next page" link, decoded, or null. */
function nextLink(html: string): string | null {
  const m = /<a rel="next" href="([^"]+)"/.exec(html)
  return m ? m[1].replace(/&amp;/g, '&') : null
}

let serial = 0

async function insertSms(
  db: Db,
  accountId: number,
  createdAt: number,
  fields: Partial<Omit<Sms, 'id' | 'accountId'>> & { lastError?: string | null } = {},
): Promise<Sms> {
  const n = ++serial
  const sms = {
    recipient: '+33611111111',
    sender: 'alice@acme.test',
    status: 'delivered',
    body: `Message numéro ${n}`,
    ...fields,
  }
  const [id] = await db('outbound_sms').insert({
    account_id: accountId,
    sender_id: null,
    sender_email: sms.sender,
    recipient: sms.recipient,
    body: sms.body,
    encoding: 'gsm7',
    segments: 1 + (n % 2),
    status: sms.status,
    attempts: 1,
    next_attempt_at: createdAt,
    last_error: fields.lastError ?? null,
    dedupe_key: `admin-log-${n}`,
    created_at: createdAt,
    updated_at: createdAt,
  })
  return { id: Number(id), accountId, createdAt, ...sms }
}

for (const kind of databaseKinds()) {
  describe(`admin messages (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    const acmeSms: Sms[] = []

    /** The page, without the line breaks and indents between tags, which mean nothing here. */
    const page = async (query = '', headers: Record<string, string> = {}) => {
      const res = await get(h.app, `${base}${query}`, cookie, headers)
      return { status: res.status, html: (await res.text()).replace(/>\s+</g, '><') }
    }

    /** Acme's SMS a filter must show, newest first. */
    const expectedIds = (keep: (s: Sms) => boolean) =>
      acmeSms
        .filter(keep)
        .map((s) => s.id)
        .sort((a, b) => b - a)

    before(async () => {
      ;({ h, cookie, base } = await openSection(kind, 'messages'))
      const now = h.clock.now
      // 120 of acme's SMS over the last five days, one every hour; globex's in between.
      for (let i = 0; i < 120; i++) {
        const status = STATES[i % STATES.length]
        const failed = FAILED_STATES.includes(status)
        acmeSms.push(
          await insertSms(h.db, h.accounts.acme.id, now - (120 - i) * 3_600_000, {
            status,
            recipient: NUMBERS[i % NUMBERS.length],
            sender: SENDERS[i % SENDERS.length],
            lastError: failed ? `receipt: ${status} (error 0${i})` : null,
          }),
        )
        if (i % 10 === 0) {
          await insertSms(h.db, h.accounts.globex.id, now - (120 - i) * 3_600_000, {
            body: `GLOBEX-ONLY ${i}`,
            recipient: NUMBERS[i % NUMBERS.length],
            sender: 'alice@acme.test',
            status: 'failed',
          })
        }
      }
    })

    after(async () => h?.drop())

    it('sends a visitor without a session to the login form', async () => {
      const res = await get(h.app, base)
      assert.equal(res.status, 302)
      assert.match(res.headers.get('location') ?? '', /^\/login\?next=/)
    })

    it('answers 404 for an account the admin does not administer', async () => {
      const res = await get(h.app, `/a/${h.accounts.globex.id}/messages`, cookie)
      assert.equal(res.status, 404)
      assert.doesNotMatch(await res.text(), /GLOBEX-ONLY/)
    })

    it('lists the account’s SMS newest first, in French, with the guide’s frame', async () => {
      const { status, html } = await page()
      assert.equal(status, 200)
      const text = decoded(html)
      for (const label of [
        '<h1 class="page-title">Journal des SMS<',
        '>Date (UTC)</th>',
        '>Expéditeur</th>',
        '>Numéro</th>',
        '>Texte</th>',
        '>Segments</th>',
        '>Statut</th>',
        '>Filtrer</button>',
        '>Page suivante</a>',
        'aria-current="page">Journal des SMS',
      ]) {
        assert.ok(text.includes(label), `missing ${label}`)
      }
      assert.deepEqual(shownIds(html), expectedIds(() => true).slice(0, 50))
      const newest = acmeSms[acmeSms.length - 1]
      const row = decoded(html.slice(html.indexOf(`<tr id="sms-${newest.id}"`)))
      assert.match(
        row,
        /^<tr id="sms-\d+"><td class="mono nowrap" data-label="Date"><time datetime="2026-11-27T08:00:00Z">2026-11-27 08:00:00<\/time>/,
      )
      assert.ok(
        row.includes(
          `<td class="wrap-anywhere full" data-label="Expéditeur">${newest.sender}</td><td class="mono nowrap" data-label="Numéro">${newest.recipient}</td>`,
        ),
      )
      assert.ok(row.includes(newest.body))
      assert.doesNotMatch(html, /GLOBEX-ONLY/)
    })

    it('shows each status, and why an SMS failed', async () => {
      const text = decoded((await page()).html)
      for (const label of [
        '>Remis</span>',
        '>Envoyé</span>',
        '>En attente</span>',
        '>Échec</span>',
      ]) {
        assert.ok(text.includes(label), `missing ${label}`)
      }
      const undeliverable = [...acmeSms].reverse().find((s) => s.status === 'undeliverable') as Sms
      const row = text.slice(text.indexOf(`<tr id="sms-${undeliverable.id}"`))
      assert.match(
        row.slice(0, row.indexOf('</tr>')),
        /Échec<\/span><span class="reason"><br \/>non distribuable d’après l’opérateur — code d’erreur de l’opérateur : 0\d+<\/span>/,
      )
    })

    it('says which parts of a partly delivered SMS arrived, in French and in English', async () => {
      const partial = [...acmeSms].reverse().find((s) => s.status === 'partial') as Sms
      await h.db('outbound_sms').where({ id: partial.id }).update({
        parts: 3,
        error_code: 2,
        last_error: 'ESME_RINVCMDLEN: part 2/3 refused: ESME_RINVCMDLEN (0x00000002)',
      })
      const part = (no: number, state: string) => ({
        sms_id: partial.id,
        part_no: no,
        smsc_message_id: state === 'refused' ? '' : `p${partial.id}-${no}`,
        state,
        created_at: h.clock.now,
        final_at: h.clock.now,
      })
      await h
        .db('outbound_sms_parts')
        .insert([part(1, 'delivered'), part(2, 'refused'), part(3, 'delivered')])
      const rowOf = (html: string) => {
        const text = decoded(html)
        const row = text.slice(text.indexOf(`<tr id="sms-${partial.id}"`))
        return row.slice(0, row.indexOf('</tr>'))
      }
      assert.match(
        rowOf((await page()).html),
        /Échec<\/span><span class="reason"><br \/>remis en partie \(parties 1 et 3 sur 3\) \(code 2\) — réponse de l’opérateur : ESME_RINVCMDLEN<\/span>/,
      )
      assert.match(
        rowOf((await page('', { 'accept-language': 'en' })).html),
        /Failed<\/span><span class="reason"><br \/>partly delivered \(parts 1 and 3 of 3\) \(code 2\) — carrier’s answer: ESME_RINVCMDLEN<\/span>/,
      )
    })

    it('shows an SMS that never got a receipt as such, and filters on it', async () => {
      const unknownIds = expectedIds((s) => s.status === 'unknown')
      assert.ok(unknownIds.length >= 2)
      const fr = decoded((await page('?status=unknown')).html)
      assert.deepEqual(shownIds(fr), unknownIds)
      assert.ok(
        fr.includes('<option value="unknown" selected="">Sans accusé de réception</option>'),
      )
      assert.ok(
        fr.includes(
          '<span class="status status-unknown">Sans accusé de réception</span><span class="reason"><br />accepté par l’opérateur, qui n’a jamais confirmé la remise</span>',
        ),
      )
      assert.doesNotMatch(fr, /No receipt|never confirmed|partly delivered/)
      const en = decoded((await page('?status=unknown', { 'accept-language': 'en' })).html)
      assert.ok(en.includes('<option value="unknown" selected="">No receipt</option>'))
      assert.ok(en.includes('<br />accepted by the carrier, which never confirmed delivery</span>'))
      assert.doesNotMatch(en, /Sans accusé/)
    })

    it('speaks English too', async () => {
      const { html } = await page('', { 'accept-language': 'en' })
      for (const label of [
        '<h1 class="page-title">SMS log<',
        '>Sender</th>',
        '>Next page</a>',
        '>Delivered</span>',
      ]) {
        assert.ok(html.includes(label), `missing ${label}`)
      }
    })

    it('pages through the whole log with "Page suivante", neither skipping nor repeating', async () => {
      const seen: number[] = []
      let link: string | null = base
      let pages = 0
      while (link) {
        const res = await get(h.app, link, cookie)
        assert.equal(res.status, 200)
        const html = await res.text()
        seen.push(...shownIds(html))
        link = nextLink(html)
        pages++
        if (link) assert.ok(html.includes('>Retour aux plus récents</a>') || pages === 1)
      }
      assert.equal(pages, 3)
      assert.deepEqual(
        seen,
        expectedIds(() => true),
      )
    })

    it('filters by a number typed as it is dialled, or by the beginning of one', async () => {
      const whole = await page('?number=06+22+22+22+22')
      assert.equal(whole.status, 200)
      assert.deepEqual(
        shownIds(whole.html),
        expectedIds((s) => s.recipient === '+33622222222'),
      )
      const prefix = await page(`?number=${encodeURIComponent('+337')}`)
      assert.deepEqual(
        shownIds(prefix.html),
        expectedIds((s) => s.recipient.startsWith('+337')),
      )
      const dialled = await page('?number=0033712345678')
      assert.deepEqual(
        shownIds(dialled.html),
        expectedIds((s) => s.recipient === '+33712345678'),
      )
      assert.ok(decoded(whole.html).includes('value="06 22 22 22 22"'))
    })

    it('filters by sender and by status, and pages with the filters kept', async () => {
      const sender = await page('?sender=BOB%40acme.test')
      assert.deepEqual(
        shownIds(sender.html),
        expectedIds((s) => s.sender === 'bob@acme.test'),
      )
      // Queued and sending are both "En attente": one page, no link to another.
      const queued = await page('?status=queued')
      assert.deepEqual(
        shownIds(queued.html),
        expectedIds((s) => s.status === 'queued'),
      )
      assert.ok(queued.html.includes('<option value="queued" selected="">'))
      assert.equal(nextLink(queued.html), null)
      const alice = await page('?sender=alice%40acme.test&status=delivered')
      assert.deepEqual(
        shownIds(alice.html),
        expectedIds((s) => s.sender === 'alice@acme.test' && s.status === 'delivered'),
      )
      // 53 failed SMS (failed, undeliverable, expired, partial): two pages, the filter in the link.
      const seen: number[] = []
      let link: string | null = `${base}?status=failed`
      while (link) {
        assert.match(link, /\?status=failed(&|$)/)
        const html = await (await get(h.app, link, cookie)).text()
        seen.push(...shownIds(html))
        link = nextLink(html)
      }
      const failed = expectedIds((s) => FAILED_STATES.includes(s.status))
      assert.ok(failed.length > 50)
      assert.deepEqual(seen, failed)
    })

    it('finds part of a number or an address, and the SMS of a date range', async () => {
      const digits = await page('?number=2222')
      assert.deepEqual(
        shownIds(digits.html),
        expectedIds((s) => s.recipient.includes('2222')),
      )
      // "06 2" is the beginning of a French mobile number, written as it is dialled.
      const national = await page('?number=06+2')
      assert.deepEqual(
        shownIds(national.html),
        expectedIds((s) => s.recipient.startsWith('+336' + '2')),
      )
      const part = await page('?sender=BO')
      assert.deepEqual(
        shownIds(part.html),
        expectedIds((s) => s.sender.includes('bo')),
      )
      // 25 and 26 November, whole UTC days: 48 SMS, one every hour, on a page of 50.
      const days = await page('?from=2026-11-25&to=2026-11-26')
      const start = Date.UTC(2026, 10, 25)
      const end = Date.UTC(2026, 10, 27)
      const inRange = expectedIds((s) => s.createdAt >= start && s.createdAt < end)
      assert.equal(inRange.length, 48)
      assert.deepEqual(shownIds(days.html), inRange)
      assert.ok(days.html.includes('value="2026-11-25"'))
      // The download link carries the same filters, and no page position.
      const combined = await page('?number=2222&status=failed&from=2026-11-25')
      assert.ok(
        decoded(combined.html).includes(
          `href="${base}/export.csv?number=2222&status=failed&from=2026-11-25"`,
        ),
      )
    })

    it('never shows another account’s SMS, whatever the filter', async () => {
      for (const query of ['', '?status=failed', '?sender=alice%40acme.test', '?number=%2B33']) {
        const { html } = await page(query)
        assert.doesNotMatch(html, /GLOBEX-ONLY/, query)
      }
    })

    it('answers 400 with a message for filters it cannot read', async () => {
      const cases: Array<[string, string]> = [
        ['?number=abc', '« abc » n’est ni un numéro de téléphone'],
        ['?number=7', '« 7 » n’est ni un numéro de téléphone'],
        ['?sender=not+an+address', '« not an address » n’est ni une adresse e-mail'],
        ['?from=2026-13-01', '« 2026-13-01 » n’est pas une date'],
        ['?to=hier', '« hier » n’est pas une date'],
        ['?from=2026-11-26&to=2026-11-25', 'La date de fin est avant la date de début.'],
        ['?status=lost', 'Choisissez un statut de la liste.'],
        ['?before=abc', 'Ce lien de page n’est pas valable'],
        ['?before=-5', 'Ce lien de page n’est pas valable'],
        ['?before=99999999999999999999', 'Ce lien de page n’est pas valable'],
      ]
      for (const [query, message] of cases) {
        const { status, html } = await page(query)
        assert.equal(status, 400, query)
        assert.ok(decoded(html).includes(message), `${query}: ${message}`)
        assert.deepEqual(shownIds(html), [], query)
        assert.ok(html.includes('<h1 class="page-title">Journal des SMS<'), query)
      }
    })

    it('escapes what an SMS and a query carry', async () => {
      const hostile = '<script>alert("sms")</script><img src=x onerror=alert(1)>'
      const long = `${hostile} ${'x'.repeat(80)} "quoted" & <b>bold</b>`
      const first = await insertSms(h.db, h.accounts.acme.id, h.clock.now - 1000, {
        body: hostile,
        status: 'failed',
        lastError: '<i>carrier</i> said "no"',
      })
      const second = await insertSms(h.db, h.accounts.acme.id, h.clock.now - 500, { body: long })
      const { html } = await page()
      assert.deepEqual(shownIds(html).slice(0, 2), [second.id, first.id])
      assert.doesNotMatch(html, /<script>alert|<img src=x|<i>carrier|<b>bold/)
      assert.ok(html.includes('&lt;script&gt;alert(&quot;sms&quot;)&lt;/script&gt;'))
      assert.ok(html.includes('&lt;i&gt;carrier&lt;/i&gt; said &quot;no&quot;'))
      // The long text is folded, its beginning in the summary, whole in the <details>.
      assert.match(
        html,
        /<details class="log-text"><summary><span class="log-text-start">&lt;script&gt;/,
      )
      assert.ok(html.includes('&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;</span></details>'))
      const reflected = await page(`?number=${encodeURIComponent('"><script>x</script>')}`)
      assert.equal(reflected.status, 400)
      assert.doesNotMatch(reflected.html, /<script>x/)
      await h.db('outbound_sms').whereIn('id', [first.id, second.id]).delete()
    })

    it('shows a long text once, folded, without blank lines inside the fold', async () => {
      const body = `Bonjour,\nvotre colis est arrivé à l’accueil : ${'passez le prendre '.repeat(5)}avant 18h.`
      const sms = await insertSms(h.db, h.accounts.acme.id, h.clock.now - 100, { body })
      // As served: the cell keeps the SMS's line breaks, so whitespace between tags shows.
      const res = await get(h.app, base, cookie)
      const served = await res.text()
      const row = /<tr id="sms-(\d+)">(.*?)<\/tr>/gs
      const mine = [...served.matchAll(row)].find((m) => Number(m[1]) === sms.id)?.[2] ?? ''
      assert.equal(mine.split(body).length - 1, 1, `the text must appear once:\n${mine}`)
      const fold = /<details class="log-text">(.*?)<\/details>/s.exec(mine)?.[1] ?? ''
      assert.ok(fold.includes(body), 'the open fold holds the whole text')
      assert.doesNotMatch(fold, />\s+</, `line breaks between tags show as blank lines:\n${fold}`)
      assert.doesNotMatch(mine, /title=/)
      assert.ok(
        fold.startsWith(
          `<summary><span class="log-text-start">${[...body].slice(0, 69).join('')}…</span><span class="log-text-less">Afficher moins</span></summary>`,
        ),
        fold,
      )
      // Open, the stylesheet shows "Afficher moins" in place of the beginning of the text.
      const css = await (await get(h.app, '/assets/admin.css')).text()
      assert.match(css, /\.log-text\[open\] > summary \.log-text-start \{\s*display: none;/)
      await h.db('outbound_sms').where('id', sms.id).delete()
    })

    it('draws the last 30 days from the daily counts, up to date on every page', async () => {
      const other = await createAdminHarness(kind)
      try {
        const otherCookie = await login(other.app, 'alice@acme.test', PASSWORD)
        const path = `/a/${other.accounts.acme.id}/messages`
        const acme = other.accounts.acme.id
        const now = other.clock.now
        const dayOf = (ms: number) =>
          new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10)
        const ids: number[] = []
        for (const status of ['delivered', 'delivered', 'delivered', 'failed']) {
          ids.push((await insertSms(other.db, acme, now - 60_000, { status })).id)
        }
        await insertSms(other.db, acme, now - 3 * DAY_MS, {})
        await insertSms(other.db, other.accounts.globex.id, now - 60_000, { status: 'failed' })
        const chart = async () => {
          const res = await get(other.app, path, otherCookie)
          assert.equal(res.status, 200)
          const page = await res.text()
          // The chart is markup, not text: drawn apart, it must not be escaped again.
          assert.match(page, /<figure class="daily-chart"><svg /)
          assert.doesNotMatch(page, /&lt;(svg|rect|figure)/)
          const html = decoded(page).replace(/[\u00a0\u202f]/g, ' ')
          const bar = (day: string) =>
            new RegExp(`<title>(${day} : [^<]*)</title></rect>`).exec(html)?.[1]
          return {
            bars: [...html.matchAll(/<rect class="bar"/g)].length,
            today: bar(dayOf(now)),
            yesterday: bar(dayOf(now - DAY_MS)),
            desc: /<desc id="daily-chart-desc">([^<]*)<\/desc>/.exec(html)?.[1],
            note: /<p class="hint">(Chiffres par jour[^<]*)<\/p>/.exec(html)?.[1],
          }
        }
        const first = await chart()
        assert.equal(first.bars, 30)
        assert.equal(first.today, `${dayOf(now)} : 4 SMS, 3 remis, 1 en échec, 75 % remis`)
        assert.equal(first.yesterday, `${dayOf(now - DAY_MS)} : 0 SMS, 0 remis, 0 en échec`)
        assert.match(first.desc ?? '', /: 5 SMS, 80 % remis parmi ceux dont le résultat est connu/)
        assert.equal(
          first.note,
          'Chiffres par jour du fuseau horaire du compte (UTC), à jour à chaque affichage.',
        )

        // New SMS and a status change show on the next page: nothing is kept between pages.
        await insertSms(other.db, acme, now - 30_000, { status: 'delivered' })
        await insertSms(other.db, acme, now - DAY_MS, { status: 'failed' })
        await other.db('outbound_sms').where({ id: ids[3] }).update({ status: 'delivered' })
        const later = await chart()
        assert.equal(later.today, `${dayOf(now)} : 5 SMS, 5 remis, 0 en échec, 100 % remis`)
        assert.equal(
          later.yesterday,
          `${dayOf(now - DAY_MS)} : 1 SMS, 0 remis, 1 en échec, 0 % remis`,
        )
        // The figures are the counts', not a count of the log: folded, then the SMS deleted
        // (a trimmed log), they stay.
        while ((await foldDailyDeltas(other.db)) > 0);
        await other.db('outbound_sms').where({ account_id: acme }).delete()
        assert.deepEqual(await chart(), later)
      } finally {
        await other.drop()
      }
    })

    it('shows days and times in the account’s time zone', async () => {
      const other = await createAdminHarness(kind)
      try {
        const otherCookie = await login(other.app, 'alice@acme.test', PASSWORD)
        const acme = other.accounts.acme.id
        await setTimeZone(other.db, acme, 'Pacific/Auckland')
        // 09:00 UTC on 27 November is 22:00 in Auckland (UTC+13); 11:30 UTC is the 28th there.
        const now = other.clock.now
        const enqueue = async (at: number, key: string) =>
          insertEmails(
            other.db,
            [
              [
                {
                  accountId: acme,
                  senderId: null,
                  senderEmail: 'alice@acme.test',
                  recipient: '+33611111111',
                  body: `at ${key}`,
                  encoding: 'gsm7',
                  segments: 1,
                  sourceMessageId: null,
                  dedupeKey: key,
                  mxTransaction: key,
                  timeZone: 'Pacific/Auckland',
                },
              ],
            ],
            at,
          )
        await enqueue(now - 60_000, 'evening')
        await enqueue(now - 10 * 3_600_000 - 60_000, 'morning')
        other.clock.advance(2.5 * 3_600_000)
        await enqueue(other.clock.now, 'next-day')
        const res = await get(other.app, `/a/${acme}/messages`, otherCookie)
        const html = decoded(await res.text())
          .replace(/>\s+</g, '><')
          .replace(/[\u00a0\u202f]/g, ' ')
        assert.match(html, />Date \(Pacific\/Auckland\)<\/th>/)
        assert.match(
          html,
          /<time datetime="2026-11-27T21:59:00\+13:00">2026-11-27 21:59:00<\/time>/,
        )
        assert.match(
          html,
          /<time datetime="2026-11-28T00:30:00\+13:00">2026-11-28 00:30:00<\/time>/,
        )
        assert.match(html, /<title>2026-11-27 : 2 SMS, /)
        assert.match(html, /<title>2026-11-28 : 1 SMS, /)
        // The last bar is Auckland’s today, labelled with its date.
        assert.match(
          html,
          /<div class="chart-days" aria-hidden="true">.*<span>28 nov\.<\/span><\/div>/,
        )
        assert.match(html, /<th scope="col">Jour \(Pacific\/Auckland\)<\/th>/)
        assert.match(html, /fuseau horaire du compte \(Pacific\/Auckland\)/)
      } finally {
        await other.drop()
      }
    })
  })
}
