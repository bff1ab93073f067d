import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import { dedupeKeyFor, insertEmails } from '../../../lib/db/outbound'
import {
  TABLE_FIGURES_MAX_SHARE,
  TABLE_FIGURES_TTL_MS,
  workerMetrics,
} from '../../../lib/ops/worker-metrics'
import { seedSendingAccount } from '../../support/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const zero = () => ({ sent: 0, retried: 0, failed: 0, expired: 0, unknown: 0 })

async function queueOne(t: TestDatabase, accountId: number, i: number, now: number) {
  await insertEmails(
    t.db,
    [
      [
        {
          accountId,
          senderId: null,
          senderEmail: 'alice@example.com',
          recipient: `+3361234560${i}`,
          body: `SMS ${i}`,
          encoding: 'gsm7',
          segments: 1,
          sourceMessageId: null,
          dedupeKey: dedupeKeyFor(`m${i}`, `+3361234560${i}`, null),
          mxTransaction: `tx${i}`,
          timeZone: 'UTC',
        },
      ],
    ],
    now,
  )
}

describe('lib/ops/worker-metrics', () => {
  for (const kind of databaseKinds()) {
    describe(kind, () => {
      let t: TestDatabase
      let accountId: number
      beforeEach(async () => {
        t = await createTestDatabase(kind)
        const { account } = await seedSendingAccount(t.db, { ref: 'acme', name: 'Acme' }, [
          'alice@example.com',
        ])
        accountId = account.id
      })
      afterEach(() => t.drop())

      /** The queue depth a scrape at `at` shows, each statement taking `readMs`. */
      function depthGauge(clock: { now: number }, readMs: number) {
        const registry = new Registry()
        // Each statement of a read moves the clock on: a read "takes" readMs or more.
        t.db.on('query', () => (clock.now += readMs))
        workerMetrics(registry, { db: t.db, totals: { sms: zero }, clock: () => clock.now })
        return async (at: number): Promise<number> => {
          clock.now = at
          const metric = await registry.getSingleMetric('mail2sms_queue_depth')?.get()
          return metric?.values[0]?.value ?? NaN
        }
      }

      it('reads the queue again after the usual interval when the read is quick', async () => {
        const clock = { now: 0 }
        const depthAt = depthGauge(clock, 2)
        await queueOne(t, accountId, 1, -1000)
        assert.equal(await depthAt(0), 1)
        await queueOne(t, accountId, 2, -1000)
        assert.equal(await depthAt(TABLE_FIGURES_TTL_MS - 100), 1, 'within the interval: kept')
        assert.equal(await depthAt(TABLE_FIGURES_TTL_MS + 100), 2, 'after it: read again')
      })

      it('reads a slow queue less often, for a bounded share of the database', async () => {
        const clock = { now: 0 }
        const readMs = 1000
        const depthAt = depthGauge(clock, readMs)
        await queueOne(t, accountId, 1, -1000)
        assert.equal(await depthAt(0), 1)
        await queueOne(t, accountId, 2, -1000)
        const serves = readMs / TABLE_FIGURES_MAX_SHARE
        assert.ok(serves > TABLE_FIGURES_TTL_MS * 2)
        assert.equal(await depthAt(TABLE_FIGURES_TTL_MS * 2), 1, 'past the usual interval: kept')
        assert.equal(await depthAt(serves - 100), 1)
        // One statement today; a few would only stretch the interval.
        assert.equal(await depthAt(serves * 3), 2, 'read again')
      })
    })
  }
})
