import assert from 'node:assert/strict'
import { updateAccountLimits } from '../../lib/db/accounts'
import type { Db } from '../../lib/db/connection'
import { timeZoneOrUtc } from '../../lib/time/zone'
import { databaseKinds } from '../support/databases'
import {
  PASSWORD,
  decoded,
  get,
  login,
  postForm,
  type AdminHarness,
  createAdminHarness,
} from './harness'

let serial = 0

/** An SMS as the MX stores it, counted on the account's local day by the triggers. */
async function insertSms(
  db: Db,
  accountId: number,
  createdAt: number,
  fields: { sender?: string; segments?: number; status?: string; zone?: string } = {},
): Promise<void> {
  const n = ++serial
  await db('outbound_sms').insert({
    account_id: accountId,
    sender_id: null,
    sender_email: fields.sender ?? 'alice@acme.test',
    recipient: '+33611111111',
    body: `Message ${n}`,
    encoding: 'gsm7',
    segments: fields.segments ?? 1,
    status: fields.status ?? 'delivered',
    attempts: 1,
    next_attempt_at: createdAt,
    dedupe_key: `usage-${n}`,
    local_day: timeZoneOrUtc(fields.zone ?? 'UTC').dayOf(createdAt),
    created_at: createdAt,
    updated_at: createdAt,
  })
}

/** The page's text without the whitespace between tags. */
const text = async (res: Response) => decoded((await res.text()).replace(/>\s+</g, '><'))

for (const kind of databaseKinds()) {
  describe(`admin usage (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string

    before(async () => {
      h = await createAdminHarness(kind)
    })

    after(() => h.drop())

    beforeEach(async () => {
      await h.reset()
      cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      base = `/a/${h.accounts.acme.id}/usage`
    })

    it('counts SMS and segments of the month, per day and per user, whatever their status', async () => {
      const acme = h.accounts.acme.id
      // The harness's clock is 27 November 2026; two October SMS for the monthly chart.
      const day = (d: number, hour = 10) => Date.UTC(2026, 10, d, hour)
      await insertSms(h.db, acme, day(3), { segments: 2 })
      await insertSms(h.db, acme, day(3), { segments: 1, status: 'failed' })
      await insertSms(h.db, acme, day(20), { sender: 'bob@acme.test', segments: 3 })
      await insertSms(h.db, acme, day(27, 8), { sender: 'bob@acme.test', status: 'queued' })
      await insertSms(h.db, acme, Date.UTC(2026, 9, 15), { segments: 4 })
      await insertSms(h.db, acme, Date.UTC(2026, 9, 16), { segments: 1 })
      await insertSms(h.db, h.accounts.globex.id, day(3), { segments: 50 })
      const res = await get(h.app, base, cookie)
      assert.equal(res.status, 200)
      const page = await text(res)
      assert.match(page, /<h1 class="page-title">Consommation</)
      assert.match(
        page,
        /Total de novembre 2026<\/h2><dl class="usage-totals"><div><dt>SMS<\/dt><dd>4<\/dd><\/div><div><dt>Segments<\/dt><dd>7<\/dd>/,
      )
      // The days of November, each with its figure in the table.
      assert.match(page, /<th scope="row">2026-11-03<\/th><td class="num">3<\/td>/)
      assert.match(page, /<th scope="row">2026-11-20<\/th><td class="num">3<\/td>/)
      assert.match(page, /<th scope="row">2026-11-30<\/th><td class="num">0<\/td>/)
      // Twelve months, October's included.
      assert.equal([...page.matchAll(/<rect class="bar"/g)].length, 12 + 30)
      assert.match(page, /<th scope="row">octobre 2026<\/th><td class="num">5<\/td>/)
      assert.match(page, /<th scope="row">décembre 2025<\/th><td class="num">0<\/td>/)
      // Users, the largest first, with their share of the segments.
      const users = page.slice(page.indexOf('<table class="usage-senders'))
      assert.match(
        users,
        /bob@acme\.test<\/td><td class="num" data-label="SMS">2<\/td><td class="num" data-label="Segments">4<\/td><td class="num" data-label="Part des segments">57 %<\/td>.*alice@acme\.test<\/td><td class="num" data-label="SMS">2<\/td><td class="num" data-label="Segments">3<\/td>/,
      )
      // Globex's 50 segments on 3 November count for Globex only.
      assert.doesNotMatch(page, /<td class="num">5[0-9]<\/td>/)
    })

    it('reads today afresh, and past days from its cache without losing a change', async () => {
      const acme = h.accounts.acme.id
      await insertSms(h.db, acme, Date.UTC(2026, 10, 3, 10), { segments: 2 })
      const first = await text(await get(h.app, base, cookie))
      assert.match(first, /<dt>Segments<\/dt><dd>2<\/dd>/)
      // A receipt for the past day's SMS changes its status, not its day's usage; a new SMS
      // today is counted at once.
      await h.db('outbound_sms').where({ account_id: acme }).update({ status: 'failed' })
      await insertSms(h.db, acme, h.clock.now - 60_000, { segments: 3 })
      const second = await text(await get(h.app, base, cookie))
      assert.match(second, /<dt>SMS<\/dt><dd>2<\/dd><\/div><div><dt>Segments<\/dt><dd>5<\/dd>/)
      assert.match(second, /<th scope="row">2026-11-03<\/th><td class="num">2<\/td>/)
      assert.match(second, /<th scope="row">2026-11-27<\/th><td class="num">3<\/td>/)
    })

    it('shows another month, and refuses one that is not a month or has not begun', async () => {
      await insertSms(h.db, h.accounts.acme.id, Date.UTC(2026, 9, 15), { segments: 4 })
      const october = await text(await get(h.app, `${base}?month=2026-10`, cookie))
      assert.match(
        october,
        /Total de octobre 2026<\/h2><dl class="usage-totals"><div><dt>SMS<\/dt><dd>1<\/dd>/,
      )
      assert.match(october, /value="2026-10"/)
      for (const [month, message] of [
        ['2026-13', '« 2026-13 » n’est pas un mois'],
        ['novembre', '« novembre » n’est pas un mois'],
        ['2026-12', 'Ce mois n’a pas encore commencé.'],
        // Years the day numbers cannot hold: refused, never a 500.
        ['0001-01', '« 0001-01 » n’est pas un mois'],
        ['0100-01', '« 0100-01 » n’est pas un mois'],
      ]) {
        const res = await get(h.app, `${base}?month=${encodeURIComponent(month)}`, cookie)
        assert.equal(res.status, 400, month)
        assert.ok((await text(res)).includes(message), month)
      }
    })

    it('counts on the account’s own days: 23:30 UTC on 31 October is November in Paris', async () => {
      await h.db('accounts').where({ id: h.accounts.acme.id }).update({ time_zone: 'Europe/Paris' })
      const lateOctober = Date.UTC(2026, 9, 31, 23, 30)
      await insertSms(h.db, h.accounts.acme.id, lateOctober, { zone: 'Europe/Paris', segments: 2 })
      const again = await login(h.app, 'alice@acme.test', PASSWORD)
      const page = await text(await get(h.app, base, again))
      assert.match(page, /<th scope="row">2026-11-01<\/th><td class="num">2<\/td>/)
      assert.match(page, /<th scope="row">octobre 2026<\/th><td class="num">0<\/td>/)
      assert.match(page, /fuseau horaire du compte : Europe\/Paris/)
    })

    it('shows the monthly quota and how much of it is used, test SMS included', async () => {
      await updateAccountLimits(h.db, h.accounts.acme.id, { segmentsPerMonth: 10 })
      const form = await (await get(h.app, `/a/${h.accounts.acme.id}/test-sms`, cookie)).text()
      const formId = /name="form_id" value="([\w-]+)"/.exec(form)?.[1] as string
      const sent = await postForm(
        h.app,
        `/a/${h.accounts.acme.id}/test-sms`,
        { form_id: formId, number: '+33612345678', text: 'Compté comme les autres' },
        { cookie },
      )
      assert.equal(sent.status, 303)
      const page = await text(await get(h.app, base, cookie))
      assert.match(page, /1 segments sur 10 \(10 %\)/)
      assert.match(page, /<meter min="0" max="10" value="1">/)
      assert.match(page, /Quota mensuel : 10 segments/)
      assert.match(page, /<line class="limit"/)
      assert.match(page, /<dt>SMS<\/dt><dd>1<\/dd>/)
    })

    it('is the account’s own: another account’s usage is a 404', async () => {
      assert.equal((await get(h.app, `/a/${h.accounts.globex.id}/usage`, cookie)).status, 404)
      const english = await text(await get(h.app, base, cookie, { 'accept-language': 'en' }))
      assert.match(english, /<h1 class="page-title">Usage</)
      assert.match(english, /No SMS this month\./)
    })
  })
}
