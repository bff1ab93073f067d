import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { dedupeKeyFor, type NewSms } from '../../../lib/db/outbound'
import { OutboxWriter } from '../../../lib/db/outbox-writer'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/outbox-writer (${kind})`, () => {
    let t: TestDatabase
    let accountId: number

    const email = (n: number, recipients: number, extra: Partial<NewSms> = {}): NewSms[] =>
      Array.from({ length: recipients }, (_, r) => {
        const recipient = `+336${String(n * 10 + r).padStart(8, '0')}`
        return {
          accountId,
          senderId: null,
          senderEmail: 'alice@acme.example',
          recipient,
          body: `email ${n} to ${recipient}`,
          encoding: 'gsm7' as const,
          segments: 1,
          sourceMessageId: `<${n}@client.example>`,
          dedupeKey: dedupeKeyFor(`mid:${n}`, recipient, null),
          mxTransaction: `txn-${kind}-${n}-${Math.random()}`,
          timeZone: 'UTC',
          ...extra,
        }
      })

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
    })

    after(async () => t?.drop())

    it('writes concurrent emails together, each learning its own ids', async () => {
      const writer = new OutboxWriter(t.db, { maxInFlight: 1 })
      const emails = Array.from({ length: 40 }, (_, n) => email(n, 1 + (n % 3)))
      const results = await Promise.all(emails.map((e) => writer.write(e)))
      // Handed over in one turn of the event loop: one statement for them all (80 rows).
      assert.equal(writer.stats.flushes, 1, `${writer.stats.flushes} statements for 40 emails`)
      for (const [i, result] of results.entries()) {
        assert.equal(result.duplicates, 0)
        const rows = await t.db('outbound_sms').whereIn('id', result.ids).orderBy('id')
        assert.deepEqual(rows.map((r) => r.body).sort(), emails[i].map((e) => e.body).sort())
      }
    })

    it('tells a retried email, in the same batch as new ones, that it is already queued', async () => {
      const writer = new OutboxWriter(t.db, { maxInFlight: 1 })
      const retried = email(0, 1)
      const [again, fresh] = await Promise.all([writer.write(retried), writer.write(email(100, 2))])
      assert.equal(again.duplicates, 1)
      assert.equal(fresh.duplicates, 0)
    })

    it('fails only the bad email of a batch', async () => {
      const writer = new OutboxWriter(t.db, { maxInFlight: 1 })
      const good = [email(200, 1), email(201, 2), email(202, 1)]
      const bad = email(203, 1, { body: null as unknown as string })
      const outcomes = await Promise.allSettled([...good, bad].map((e) => writer.write(e)))
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
      )
      const stored = await t.db('outbound_sms').whereIn(
        'recipient',
        [...good, bad].flat().map((s) => s.recipient),
      )
      assert.equal(stored.length, 4)
    })
  })
}
