import assert from 'node:assert/strict'
import type { Db } from '../../lib/db/connection'
import { smsLogCsv } from '../../lib/export/log-csv'
import { timeZone } from '../../lib/time/zone'
import { databaseKinds } from '../support/databases'
import { parseCsv } from '../support/csv'
import { PASSWORD, get, login, type AdminHarness, createAdminHarness } from './harness'

let serial = 0

async function insertSms(
  db: Db,
  accountId: number,
  createdAt: number,
  fields: { recipient?: string; sender?: string; status?: string; body?: string } = {},
): Promise<number> {
  const n = ++serial
  const [id] = await db('outbound_sms').insert({
    account_id: accountId,
    sender_id: null,
    sender_email: fields.sender ?? 'alice@acme.test',
    recipient: fields.recipient ?? '+33611111111',
    body: fields.body ?? `Message ${n}`,
    encoding: 'gsm7',
    segments: 1,
    status: fields.status ?? 'delivered',
    attempts: 1,
    next_attempt_at: createdAt,
    dedupe_key: `export-${n}`,
    created_at: createdAt,
    updated_at: createdAt,
  })
  return Number(id)
}

for (const kind of databaseKinds()) {
  describe(`admin SMS log export (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    const acmeIds: number[] = []
    const HOUR = 3_600_000

    before(async () => {
      h = await createAdminHarness(kind)
      cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      base = `/a/${h.accounts.acme.id}/messages/export.csv`
      const now = h.clock.now
      for (let i = 0; i < 30; i++) {
        acmeIds.push(
          await insertSms(h.db, h.accounts.acme.id, now - (30 - i) * HOUR, {
            recipient: i % 3 === 0 ? '+33622225678' : '+33611111111',
            sender: i % 2 === 0 ? 'alice@acme.test' : 'bob.martin@acme.test',
            status: i % 5 === 0 ? 'undeliverable' : 'delivered',
            body: i === 7 ? '=HYPERLINK("http://evil.test")' : `Message, "quoted"\nline ${i}`,
          }),
        )
        await insertSms(h.db, h.accounts.globex.id, now - (30 - i) * HOUR, {
          body: 'globex secret',
        })
      }
    })

    after(() => h.drop())

    async function download(query = '') {
      const res = await get(h.app, `${base}${query}`, cookie)
      const bytes = new Uint8Array(await res.arrayBuffer())
      return { res, text: new TextDecoder().decode(bytes), bytes }
    }

    it('streams every SMS of the log as CSV, newest first, with a BOM', async () => {
      const { res, text, bytes } = await download()
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8')
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="sms-acme.csv"')
      assert.deepEqual([...bytes.slice(0, 3)], [0xef, 0xbb, 0xbf])
      const [header, ...rows] = parseCsv(text.replace(/^\ufeff/, ''))
      assert.equal(header[0], 'id')
      assert.ok(header.includes('recipient') && header.includes('text'))
      assert.deepEqual(
        rows.map((r) => Number(r[0])),
        [...acmeIds].reverse(),
      )
      assert.doesNotMatch(text, /globex secret/)
      const col = (name: string) => header.indexOf(name)
      const quoted = rows.find((r) => Number(r[0]) === acmeIds[3]) as string[]
      assert.equal(quoted[col('text')], 'Message, "quoted"\nline 3')
      // A cell a spreadsheet would run as a formula is defused.
      const formula = rows.find((r) => Number(r[0]) === acmeIds[7]) as string[]
      assert.ok(!formula[col('text')].startsWith('='), formula[col('text')])
    })

    it('applies the log’s filters: status, part of an address, part of a number', async () => {
      const ids = async (query: string) => {
        const { text } = await download(query)
        return parseCsv(text.replace(/^\ufeff/, ''))
          .slice(1)
          .map((r) => Number(r[0]))
      }
      const failed = await ids('?status=failed')
      assert.deepEqual(failed, acmeIds.filter((_, i) => i % 5 === 0).reverse())
      const bob = await ids('?sender=bob.martin%40acme.test')
      assert.deepEqual(bob, acmeIds.filter((_, i) => i % 2 === 1).reverse())
      const whole = await ids('?number=%2B33622225678')
      assert.deepEqual(whole, acmeIds.filter((_, i) => i % 3 === 0).reverse())
    })

    it('answers a filter the page refuses with 400, and another account with 404', async () => {
      const bad = await download('?status=perdu')
      assert.equal(bad.res.status, 400)
      assert.match(bad.text, /Le journal n’a pas été filtré/)
      const other = await get(h.app, `/a/${h.accounts.globex.id}/messages/export.csv`, cookie)
      assert.equal(other.status, 404)
      const anonymous = await get(h.app, base)
      assert.equal(anonymous.status, 302)
      assert.match(anonymous.headers.get('location') ?? '', /^\/login/)
    })

    it('exports every match of a partial search, across windows that find none', async () => {
      // Budget 3: most windows of three SMS hold no "5678" (one SMS in three has it) or one.
      const stream = smsLogCsv(
        h.db,
        h.accounts.acme.id,
        { numberContains: '5678', senderContains: 'bo' },
        { clock: timeZone('UTC'), pageSize: 2, searchBudget: 3 },
      )
      let csv = ''
      const reader = stream.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        csv += new TextDecoder().decode(value)
      }
      const ids = parseCsv(csv)
        .slice(1)
        .map((r) => Number(r[0]))
      // i % 3 === 0 has the number, i % 2 === 1 is bob: i = 3, 9, 15, 21, 27.
      assert.deepEqual(
        ids,
        [27, 21, 15, 9, 3].map((i) => acmeIds[i]),
      )
    })

    it('reads one page ahead of what the client has taken', async () => {
      const statements: string[] = []
      const record = (q: { sql: string }) => {
        if (/from [`"]?outbound_sms[`"]?/i.test(q.sql)) statements.push(q.sql)
      }
      h.db.on('query', record)
      try {
        const stream = smsLogCsv(
          h.db,
          h.accounts.acme.id,
          {},
          { clock: timeZone('UTC'), pageSize: 5 },
        )
        const reader = stream.getReader()
        await reader.read() // the header
        await reader.read() // the first page
        // Give a stream that reads ahead the time to do it.
        await new Promise((resolve) => setTimeout(resolve, 50))
        const afterOnePage = statements.length
        assert.ok(afterOnePage >= 1 && afterOnePage <= 2, `${afterOnePage} reads`)
        let rest = ''
        for (;;) {
          const { done, value } = await reader.read()
          if (done) break
          rest += new TextDecoder().decode(value)
        }
        // The other five pages of 30 SMS, five at a time.
        assert.equal(parseCsv(rest).length, 25)
        assert.ok(statements.length >= 6, `${statements.length} reads for six pages`)
      } finally {
        h.db.removeListener('query', record)
      }
    })
  })
}
