import assert from 'node:assert/strict'
import { createAccount } from '../../../../lib/db/accounts'
import {
  dedupeKeyFor,
  insertEmails,
  listSms,
  type EnqueueResult,
  type NewSms,
} from '../../../../lib/db/outbound'
import { upsertReturns } from '../../../../lib/db/upsert-returning'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/outbound/enqueue insertEmails (${kind})`, () => {
    let t: TestDatabase
    let accountId: number
    let n = 0

    /** One email's SMS, as the MX writes them: one SMTP transaction id for all its rows. */
    const enqueue = async (items: NewSms[]): Promise<EnqueueResult> => {
      const txn = `txn-${++n}`
      return (await insertEmails(t.db, [items.map((i) => ({ ...i, mxTransaction: txn }))]))[0]
    }

    const sms = (recipient: string, source: string, extra: Partial<NewSms> = {}): NewSms => ({
      accountId,
      senderId: null,
      senderEmail: 'alice@acme.example',
      recipient,
      body: `hello ${recipient}`,
      encoding: 'gsm7',
      segments: 1,
      sourceMessageId: `<${source}@client.example>`,
      dedupeKey: dedupeKeyFor(source, recipient),
      mxTransaction: `txn-${++n}`,
      timeZone: 'UTC',
      ...extra,
    })

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
    })

    after(async () => t?.drop())

    it('stores one new row and returns its id', async () => {
      const r = await enqueue([sms('+33600000001', 'm1')])
      assert.equal(r.duplicates, 0)
      const [row] = await listSms(t.db, { accountId })
      assert.deepEqual(r.ids, [row.id])
      assert.equal(row.recipient, '+33600000001')
      assert.equal(row.status, 'queued')
    })

    it('finds the earlier row when the same email comes again', async () => {
      const first = await enqueue([sms('+33600000002', 'm2')])
      const again = await enqueue([sms('+33600000002', 'm2')])
      assert.deepEqual(again.ids, first.ids)
      assert.equal(again.duplicates, 1)
      assert.equal((await t.db('outbound_sms').where({ recipient: '+33600000002' })).length, 1)
    })

    it('returns ids in the order given when new and known rows are mixed', async () => {
      const known = await enqueue([sms('+33600000004', 'm3')])
      const r = await enqueue([
        sms('+33600000003', 'm3'),
        sms('+33600000004', 'm3'),
        sms('+33600000005', 'm3'),
      ])
      assert.equal(r.duplicates, 1)
      assert.equal(r.ids[1], known.ids[0])
      const rows = await t.db('outbound_sms').whereIn('id', r.ids)
      const byId = new Map(rows.map((row) => [Number(row.id), row.recipient]))
      assert.deepEqual(
        r.ids.map((id) => byId.get(id)),
        ['+33600000003', '+33600000004', '+33600000005'],
      )
    })

    it('stores all rows of an email or none', async () => {
      const bad = sms('+33600000007', 'm4', { body: null as unknown as string })
      await assert.rejects(enqueue([sms('+33600000006', 'm4'), bad]))
      const rows = await t.db('outbound_sms').whereIn('recipient', ['+33600000006', '+33600000007'])
      assert.equal(rows.length, 0)
    })

    it('commits a group of emails, one of them a retry, in one statement with every id', async () => {
      const earlier = await enqueue([sms('+33600000008', 'm5')])
      const returns = await upsertReturns(t.db)
      const statements: string[] = []
      const listen = (q: { sql: string }) => statements.push(q.sql)
      t.db.on('query', listen)
      try {
        const [retry, fresh] = await insertEmails(t.db, [
          [{ ...sms('+33600000008', 'm5'), mxTransaction: 'txn-retry' }],
          [
            { ...sms('+33600000009', 'm6'), mxTransaction: 'txn-fresh' },
            { ...sms('+33600000010', 'm6'), mxTransaction: 'txn-fresh' },
          ],
        ])
        t.db.off('query', listen)
        assert.deepEqual(retry, { ids: earlier.ids, duplicates: 1 })
        assert.equal(fresh.duplicates, 0)
        const rows = await t.db('outbound_sms').whereIn('id', fresh.ids).orderBy('id')
        assert.deepEqual(
          rows.map((r) => r.recipient),
          ['+33600000009', '+33600000010'],
        )
        // MariaDB's insert returns the rows it skipped too: no second statement for the retry.
        // SQLite's returns only those it inserted, and looks the retry up.
        assert.equal(statements.length, kind === 'mysql' && returns ? 1 : 2, statements.join('\n'))
      } finally {
        t.db.off('query', listen)
      }
    })
  })
}
