import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { DAY_MS } from '../../../lib/retention/purge'
import { RetentionPurgeJob, type RetentionPurgeJobOptions } from '../../../lib/retention/purge-job'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

async function waitFor(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

for (const kind of databaseKinds()) {
  describe(`lib/retention/purge-job (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let accountId: number

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
    })

    after(async () => t?.drop())

    async function oldDelivered(n: number): Promise<void> {
      const at = Date.now() - 40 * DAY_MS
      const rows = Array.from({ length: n }, (_, i) => ({
        account_id: accountId,
        sender_email: 'alice@acme.example',
        recipient: '+33612345678',
        body: 'old text',
        encoding: 'gsm7',
        segments: 1,
        status: 'delivered',
        next_attempt_at: at,
        dedupe_key: `job-${kind}-${Date.now()}-${Math.random()}-${i}`,
        created_at: at,
        updated_at: at,
        final_at: at,
      }))
      await t.db('outbound_sms').insert(rows)
    }

    const left = async () =>
      Number((await t.db('outbound_sms').where('purged', 0).count({ n: '*' }))[0].n)

    /** A job on the test database that purges text after 30 days and starts at once. */
    const purgeJob = (options: Partial<RetentionPurgeJobOptions>) =>
      new RetentionPurgeJob({
        db: t.db,
        policy: { textDays: 30, addressesDays: 0 },
        intervalMs: 3_600_000,
        batchSize: 2,
        pauseMs: 0,
        firstDelayMs: 0,
        log: () => undefined,
        ...options,
      })

    it('purges on its own once started, and logs what it removed', async () => {
      await oldDelivered(7)
      const lines: string[] = []
      const purged = new Map<string, number>()
      const job = purgeJob({
        batchSize: 3,
        pauseMs: 1,
        log: (l) => lines.push(l),
        purgeObserver: { purged: (step, rows) => purged.set(step, (purged.get(step) ?? 0) + rows) },
      })
      job.start()
      try {
        await waitFor(() => job.stats.runs === 1)
      } finally {
        await job.stop()
      }
      assert.equal(await left(), 0)
      // What the metrics count: each step of the run, with its rows.
      assert.deepEqual(Object.fromEntries(purged), {
        outbound_text: 7,
        inbound_text: 0,
        unmatched_receipts: 0,
      })
      assert.equal(lines[0], 'retention.on text_days=30 addresses_days=forever every_min=60')
      assert.match(
        lines[1],
        /^retention\.purged outbound_text=7 inbound_text=0 unmatched_receipts=0 batches=3 interrupted=false duration_s=/,
      )
    })

    it('stops within a batch when the worker stops, leaving the rest for the next run', async () => {
      await oldDelivered(10)
      // A pause far longer than the test: only stop() can end it.
      const job = purgeJob({ pauseMs: 600_000 })
      job.start()
      await waitFor(async () => (await left()) === 8)
      const started = Date.now()
      await job.stop()
      assert.ok(Date.now() - started < 2000, 'stopped at once')
      assert.equal(await left(), 8)
    })

    it('does nothing at all when both retentions are 0', async () => {
      const lines: string[] = []
      const job = purgeJob({
        policy: { textDays: 0, addressesDays: 0 },
        intervalMs: 1000,
        log: (l) => lines.push(l),
      })
      job.start()
      await new Promise((r) => setTimeout(r, 100))
      await job.stop()
      assert.equal(job.stats.runs, 0)
      assert.deepEqual(lines, [])
      assert.equal(await left(), 8)
    })
  })
}
