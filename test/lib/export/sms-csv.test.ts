import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { PassThrough, Writable } from 'node:stream'
import { createAccount } from '../../../lib/db/accounts'
import type { Db } from '../../../lib/db/connection'
import { readExportPage } from '../../../lib/db/outbound'
import { EXPORT_HEADER, exportRange, writeSmsCsv } from '../../../lib/export/sms-csv'
import { timeZone } from '../../../lib/time/zone'
import { parseCsv } from '../../support/csv'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const HOUR = 3_600_000

async function exportToString(db: Db, opts: Parameters<typeof writeSmsCsv>[2]) {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  const count = await writeSmsCsv(db, out, opts)
  out.end()
  return { count, text: Buffer.concat(chunks).toString('utf8') }
}

for (const kind of databaseKinds()) {
  describe(`lib/export/sms-csv (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let acme: number
    let other: number
    let serial = 0

    async function sms(accountId: number, createdAt: number, extra: Record<string, unknown> = {}) {
      const n = ++serial
      const [id] = await t.db('outbound_sms').insert({
        account_id: accountId,
        sender_email: 'alice@acme.example',
        recipient: '+33612345678',
        body: `SMS ${n}`,
        encoding: 'gsm7',
        segments: 1,
        status: 'delivered',
        next_attempt_at: createdAt,
        dedupe_key: `k${n}`,
        mx_transaction: `txn-${n}`,
        created_at: createdAt,
        updated_at: createdAt,
        ...extra,
      })
      return Number(id)
    }

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      other = (await createAccount(t.db, { ref: 'other', name: 'Other' })).id
    })

    after(async () => t?.drop())

    beforeEach(async () => {
      await t.db('outbound_sms').del()
    })

    it('writes a header and one line per SMS with every column a mail admin needs', async () => {
      const created = Date.UTC(2026, 6, 14, 8, 0, 0)
      const id = await sms(acme, created, {
        body: '=HYPERLINK("http://x.example") , "quoted"\nsecond line €',
        encoding: 'ucs2',
        segments: 2,
        status: 'undeliverable',
        sent_at: created + 2000,
        final_at: created + 60_000,
        error_code: 11,
        last_error: 'carrier: absent subscriber',
      })
      await sms(other, created)
      const { count, text } = await exportToString(t.db, {
        range: { accountId: acme, from: null, to: null },
        clock: timeZone('Europe/Paris'),
      })
      assert.equal(count, 1)
      const [header, line, ...rest] = parseCsv(text)
      assert.deepEqual(header, [...EXPORT_HEADER])
      assert.deepEqual(rest, [])
      const cell = Object.fromEntries(header.map((h, i) => [h, line[i]]))
      assert.deepEqual(cell, {
        id: String(id),
        created: '2026-07-14T10:00:00+02:00',
        sender: 'alice@acme.example',
        recipient: '+33612345678',
        status: 'failed',
        detail: 'undeliverable',
        encoding: 'ucs2',
        segments: '2',
        // Formula guard: the text cannot run in a spreadsheet.
        text: `'=HYPERLINK("http://x.example") , "quoted"\nsecond line €`,
        sent: '2026-07-14T10:00:02+02:00',
        final: '2026-07-14T10:01:00+02:00',
        error_code: '11',
        error: 'carrier: absent subscriber',
        trace: `txn-${serial - 1}`,
        purged: '',
      })
    })

    it('leaves purged cells blank and says what was purged', async () => {
      await sms(acme, Date.UTC(2026, 0, 1), { body: '', purged: 1 })
      await sms(acme, Date.UTC(2026, 0, 2), {
        body: '',
        recipient: '',
        sender_email: '',
        purged: 3,
      })
      const { text } = await exportToString(t.db, {
        range: { accountId: acme, from: null, to: null },
        clock: timeZone('UTC'),
      })
      const [, a, b] = parseCsv(text)
      assert.deepEqual(
        [a[2], a[3], a[8], a[14]],
        ['alice@acme.example', '+33612345678', '', 'text'],
      )
      assert.deepEqual([b[2], b[3], b[8], b[14]], ['', '', '', 'text+addresses'])
      assert.equal(a[1], '2026-01-01T00:00:00Z')
    })

    it('takes --from and --to as whole days in the given zone, both included', async () => {
      // Around midnight in Paris (UTC+1 in winter): 22:59:59 and 23:00 UTC are two local days.
      const before = await sms(acme, Date.UTC(2026, 0, 9, 22, 59, 59, 999))
      const first = await sms(acme, Date.UTC(2026, 0, 9, 23, 0, 0))
      const last = await sms(acme, Date.UTC(2026, 0, 10, 22, 59, 59, 999))
      const after = await sms(acme, Date.UTC(2026, 0, 10, 23, 0, 0))
      const ids = async (zone: string | undefined) => {
        const r = exportRange('2026-01-10', '2026-01-10', zone)
        const { text } = await exportToString(t.db, {
          range: { accountId: acme, from: r.from, to: r.to },
          clock: r.clock,
        })
        return parseCsv(text)
          .slice(1)
          .map((l) => Number(l[0]))
      }
      assert.deepEqual(await ids('Europe/Paris'), [first, last])
      // In UTC (the default), the same day is another window.
      assert.deepEqual(await ids(undefined), [last, after])
      assert.ok(before > 0)
    })

    it('pages by (created, id) without losing or repeating SMS created at the same instant', async () => {
      const ids: number[] = []
      const base = Date.UTC(2026, 1, 1)
      // Created out of id order, several per instant, as several MX nodes write them.
      for (const offset of [5, 1, 1, 1, 3, 1, 5, 0, 3, 3, 1])
        ids.push(await sms(acme, base + offset))
      const expected = ids
        .map((id, i) => ({ id, at: [5, 1, 1, 1, 3, 1, 5, 0, 3, 3, 1][i] }))
        .sort((a, b) => a.at - b.at || a.id - b.id)
        .map((x) => x.id)
      for (const pageSize of [1, 2, 3, 100]) {
        const { count, text } = await exportToString(t.db, {
          range: { accountId: acme, from: null, to: null },
          clock: timeZone('UTC'),
          pageSize,
        })
        assert.equal(count, ids.length, `page size ${pageSize}`)
        assert.deepEqual(
          parseCsv(text)
            .slice(1)
            .map((l) => Number(l[0])),
          expected,
          `page size ${pageSize}`,
        )
      }
    })

    it('waits for a slow reader instead of buffering the export', async () => {
      for (let i = 0; i < 300; i++)
        await sms(acme, Date.UTC(2026, 2, 1) + i * HOUR, { body: 'x'.repeat(100) })
      let written = 0
      let waits = 0
      const slow = new Writable({
        highWaterMark: 1024,
        write(chunk: Buffer, _enc, done) {
          written += chunk.length
          setTimeout(done, 1)
        },
      })
      slow.on('drain', () => waits++)
      const count = await writeSmsCsv(t.db, slow, {
        range: { accountId: acme, from: null, to: null },
        clock: timeZone('UTC'),
        pageSize: 50,
      })
      assert.equal(count, 300)
      assert.ok(waits >= 5, `drained ${waits} times`)
      assert.ok(written > 300 * 100)
    })

    it('writes a UTF-8 byte order mark first only when asked', async () => {
      const opts = {
        range: { accountId: acme, from: null, to: null },
        clock: timeZone('UTC'),
      }
      assert.ok((await exportToString(t.db, { ...opts, bom: true })).text.startsWith('\ufeffid,'))
      assert.ok((await exportToString(t.db, opts)).text.startsWith('id,'))
    })

    if (kind === 'mysql') {
      it('reads a page through (account_id, created_at) on MariaDB, with no sort', async () => {
        let captured: { sql: string; bindings: unknown[] } | null = null
        const listener = (q: { sql: string; bindings: unknown[] }) => {
          if (/from `outbound_sms` FORCE INDEX/i.test(q.sql)) captured = q
        }
        t.db.on('query', listener)
        try {
          await readExportPage(
            t.db,
            { accountId: acme, from: Date.UTC(2026, 0, 1), to: Date.UTC(2027, 0, 1) },
            { createdAt: Date.UTC(2026, 5, 1), id: 10 },
            1000,
          )
        } finally {
          t.db.off('query', listener)
        }
        assert.ok(captured)
        const { sql, bindings } = captured as { sql: string; bindings: unknown[] }
        const [[p]] = await t.db.raw(`EXPLAIN ${sql}`, bindings as Knex.RawBinding[])
        assert.equal(p.key, 'outbound_sms_account_created_at')
        assert.equal(p.type, 'range')
        assert.doesNotMatch(String(p.Extra), /filesort/)
      })
    }
  })
}
