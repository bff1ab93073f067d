import assert from 'node:assert/strict'
import { createAccount } from '../../../../lib/db/accounts'
import {
  dedupeKeyFor,
  insertEmails,
  LEGACY_DATE_MARGIN_MS,
  LEGACY_RETRY_HORIZON_MS,
  legacyDedupeKeyFor,
  listSms,
  type EnqueueResult,
  type NewSms,
} from '../../../../lib/db/outbound'
import { assumeUpsertReturns, upsertReturns } from '../../../../lib/db/upsert-returning'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'

// MySQL's path (no RETURNING: the insert, then a read of the ids) runs on MariaDB too.
const variants = databaseKinds().flatMap(
  (kind): Array<{ kind: 'sqlite' | 'mysql'; label: string; returning: boolean | null }> =>
    kind === 'mysql'
      ? [
          { kind, label: kind, returning: null },
          { kind, label: `${kind}, without RETURNING`, returning: false },
        ]
      : [{ kind, label: kind, returning: null }],
)

for (const { kind, label, returning } of variants) {
  describe(`lib/db/outbound/enqueue insertEmails (${label})`, () => {
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
      dedupeKey: dedupeKeyFor(source, recipient, null),
      mxTransaction: `txn-${++n}`,
      timeZone: 'UTC',
      ...extra,
    })

    before(async () => {
      t = await createTestDatabase(kind)
      if (returning !== null) assumeUpsertReturns(t.db, returning)
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

for (const kind of databaseKinds()) {
  describe(`lib/db/outbound/enqueue insertEmails after the keys became time-ordered (${kind})`, () => {
    let t: TestDatabase
    let accountId: number
    /** The upgrade: an hour ago. */
    const upgradedAt = Date.now() - 3_600_000

    const sms = (source: string, recipient: string, writtenAt: number, txn: string): NewSms => ({
      accountId,
      senderId: null,
      senderEmail: 'alice@acme.example',
      recipient,
      body: 'hello',
      encoding: 'gsm7',
      segments: 1,
      sourceMessageId: null,
      dedupeKey: dedupeKeyFor(source, recipient, writtenAt),
      legacyDedupeKey: legacyDedupeKeyFor(source, recipient),
      mxTransaction: txn,
      timeZone: 'UTC',
    })

    /** The SMS as the previous version stored it: under its legacy key. */
    const storedBefore = async (source: string, recipient: string): Promise<number> => {
      const item = sms(source, recipient, 0, `old-${source}`)
      const [r] = await insertEmails(t.db, [
        [{ ...item, dedupeKey: item.legacyDedupeKey as string, legacyDedupeKey: undefined }],
      ])
      return r.ids[0]
    }

    const rowsTo = async (recipient: string) =>
      (await t.db('outbound_sms').where({ recipient })).length

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      await t.db('format_changes').update({ changed_at: upgradedAt })
    })

    after(async () => t?.drop())

    it('finds the SMS of an email written before the upgrade under its legacy key', async () => {
      const id = await storedBefore('mid:1', '+33600000011')
      const [again] = await insertEmails(t.db, [
        [sms('mid:1', '+33600000011', upgradedAt - 60_000, 'txn-1')],
      ])
      assert.deepEqual(again.ids, [id])
      assert.equal(again.duplicates, 1)
      assert.equal(await rowsTo('+33600000011'), 1)
    })

    it('up to a day after the upgrade (a clock ahead), and for undated mail', async () => {
      const id = await storedBefore('mid:2', '+33600000012')
      const written = upgradedAt + LEGACY_DATE_MARGIN_MS - 60_000
      const [again] = await insertEmails(t.db, [[sms('mid:2', '+33600000012', written, 'txn-2')]])
      assert.deepEqual(again.ids, [id])
      const undated = await storedBefore('mid:3', '+33600000013')
      const item = { ...sms('mid:3', '+33600000013', 0, 'txn-3') }
      item.dedupeKey = dedupeKeyFor('mid:3', '+33600000013', null)
      const [third] = await insertEmails(t.db, [[item]])
      assert.deepEqual(third.ids, [undated])
      assert.equal(await rowsTo('+33600000013'), 1)
    })

    it('stores the other SMS of an email, and a group of emails, beside those found', async () => {
      const id = await storedBefore('mid:4', '+33600000014')
      const written = upgradedAt - 60_000
      const [first, second] = await insertEmails(t.db, [
        [
          sms('mid:4', '+33600000014', written, 'txn-4'),
          sms('mid:4', '+33600000015', written, 'txn-4'),
        ],
        [sms('mid:5', '+33600000016', written, 'txn-5')],
      ])
      assert.equal(first.ids[0], id)
      assert.equal(first.duplicates, 1)
      assert.equal(second.duplicates, 0)
      const fresh = await t.db('outbound_sms').whereIn('id', [first.ids[1], second.ids[0]])
      assert.deepEqual(fresh.map((r) => r.recipient).sort(), ['+33600000015', '+33600000016'])
      // Sent again, the new SMS are found under their new keys.
      const [retry] = await insertEmails(t.db, [
        [
          sms('mid:4', '+33600000014', written, 'txn-6'),
          sms('mid:4', '+33600000015', written, 'txn-6'),
        ],
      ])
      assert.deepEqual(retry.ids, first.ids)
      assert.equal(retry.duplicates, 2)
    })

    it('no longer looks for mail written after the margin, nor past the horizon', async () => {
      // The documented bound: such an email, stored under a legacy key, is stored again.
      await storedBefore('mid:7', '+33600000017')
      const late = upgradedAt + LEGACY_DATE_MARGIN_MS + 60_000
      await insertEmails(t.db, [[sms('mid:7', '+33600000017', late, 'txn-7')]])
      assert.equal(await rowsTo('+33600000017'), 2)
      await storedBefore('mid:8', '+33600000018')
      const horizon = upgradedAt + LEGACY_RETRY_HORIZON_MS
      await insertEmails(
        t.db,
        [[sms('mid:8', '+33600000018', upgradedAt - 60_000, 'txn-8')]],
        horizon,
      )
      assert.equal(await rowsTo('+33600000018'), 2)
    })
  })
}
