import assert from 'node:assert/strict'
import { dedupeKeyFor, insertEmails, readQueueFigures } from '../../../../lib/db/outbound'
import { seedSendingAccount } from '../../../support/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'

describe('lib/db/outbound/status-report', () => {
  for (const kind of databaseKinds()) {
    describe(kind, () => {
      let t: TestDatabase
      beforeEach(async () => {
        t = await createTestDatabase(kind)
      })
      afterEach(() => t.drop())

      /** One SMS in `status`, due (or leased, or awaiting its receipt) until `next`. */
      async function sms(accountId: number, i: number, status: string, next: number) {
        const recipient = `+336123456${String(i).padStart(2, '0')}`
        const [{ ids }] = await insertEmails(t.db, [
          [
            {
              accountId,
              senderId: null,
              senderEmail: 'alice@example.com',
              recipient,
              body: `SMS ${i}`,
              encoding: 'gsm7',
              segments: 1,
              sourceMessageId: null,
              dedupeKey: dedupeKeyFor(`m${i}`, recipient, null),
              mxTransaction: `tx${i}`,
              timeZone: 'UTC',
            },
          ],
        ])
        await t.db('outbound_sms').where({ id: ids[0] }).update({ status, next_attempt_at: next })
      }

      it('counts live SMS and the due queue in one read; sent SMS are not the queue', async () => {
        const { account } = await seedSendingAccount(t.db, { ref: 'acme', name: 'Acme' }, [
          'alice@example.com',
        ])
        const now = 1_000_000
        await sms(account.id, 1, 'queued', now - 300)
        await sms(account.id, 2, 'queued', now)
        await sms(account.id, 3, 'queued', now + 60_000) // a later retry
        await sms(account.id, 4, 'sending', now - 500) // its worker died: due again
        await sms(account.id, 5, 'sending', now + 30_000) // leased
        await sms(account.id, 6, 'sent', now - 900) // receipt deadline passed: not the queue
        await sms(account.id, 7, 'sent', now + 86_400_000)
        await sms(account.id, 8, 'delivered', now - 5000)
        assert.deepEqual(await readQueueFigures(t.db, now), {
          live: { queued: 3, sending: 2, sent: 2 },
          due: { depth: 3, oldestDueAt: now - 500 },
        })
      })

      it('reads an empty queue as empty', async () => {
        assert.deepEqual(await readQueueFigures(t.db, 1000), {
          live: { queued: 0, sending: 0, sent: 0 },
          due: { depth: 0, oldestDueAt: null },
        })
      })
    })
  }
})
