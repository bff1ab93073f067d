import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { createAccount } from '../../../lib/db/accounts'
import type { DeliveryReceipt } from '../../../lib/smpp/receipt'
import { applyReceipts, matchUnmatchedReceipts } from '../../../lib/worker/receipts'
import { claimDueSms, expireStale, recordUnsent, renewLeases } from '../../../lib/db/outbound'
import { recordSent } from '../../../lib/worker/store'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const ROOT = path.resolve(__dirname, '..', '..', '..')

const receipt = (messageId: string, state: DeliveryReceipt['state']): DeliveryReceipt => ({
  messageId,
  state,
  error: null,
  doneAt: null,
  raw: `id:${messageId} stat:${state}`,
})

for (const kind of databaseKinds()) {
  describe(`lib/worker receipts (${kind})`, () => {
    let t: TestDatabase
    let accountId: number
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
    })

    after(async () => t?.drop())

    /** Queues one SMS and claims it, as a worker would before submitting it. */
    async function claimedSms(): Promise<number> {
      const now = Date.now()
      await t.db('outbound_sms').insert({
        account_id: accountId,
        sender_email: 'a@acme.example',
        recipient: `+3361000000${++n}`,
        body: 'x',
        encoding: 'gsm7',
        segments: 1,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `r-${n}`,
        created_at: now,
        updated_at: now,
      })
      const [sms] = await claimDueSms(t.db, { owner: 'w1', limit: 1, leaseMs: 60_000, now })
      return sms.id
    }

    const status = async (id: number) => (await t.db('outbound_sms').where({ id }).first()).status
    const rematch = () =>
      matchUnmatchedReceipts(t.db, {
        since: Date.now() - 60_000,
        mode: 'per_part',
        now: Date.now(),
      })

    it('a long SMS whose last part is refused after the others were delivered: settled at its record, and told', async () => {
      const id = await claimedSms()
      await t.db('outbound_sms').where({ id }).update({ segments: 2 })
      // Try 1: part 1 taken, part 2 throttled; part 1's receipt comes while the SMS waits.
      await recordUnsent(
        t.db,
        'w1',
        [
          {
            id,
            error: 'throttled',
            code: 0x58,
            retryAt: Date.now(),
            finalStatus: 'failed',
            parts: 2,
            newParts: [{ partNo: 1, messageId: `lp${n}`, state: 'sent' }],
          },
        ],
        Date.now(),
      )
      await applyReceipts(t.db, [receipt(`lp${n}`, 'delivered')], 'per_part', Date.now())
      const [again] = await claimDueSms(t.db, {
        owner: 'w1',
        limit: 1,
        leaseMs: 60_000,
        now: Date.now(),
      })
      assert.equal(again.id, id)
      // Try 2: part 2 refused for good. Nothing is left to wait for.
      const told: Array<{ id: number; outcome: string }> = []
      const now = Date.now()
      await recordSent(
        t.db,
        'w1',
        [
          {
            id,
            parts: 2,
            newParts: [{ partNo: 2, messageId: '', state: 'refused' }],
            error: 'part 2 refused',
          },
        ],
        now,
        60_000,
        (settled) => told.push(...settled.map((s) => ({ id: s.id, outcome: s.outcome }))),
      )
      assert.equal(await status(id), 'partial')
      assert.deepEqual(told, [{ id, outcome: 'partial' }])
    })

    it('matches a decimal receipt to a hex submit id', async () => {
      const id = await claimedSms()
      await recordSent(t.db, 'w1', [{ id, messageIds: ['a1b2'] }], Date.now())
      const r = await applyReceipts(
        t.db,
        [receipt(String(0xa1b2), 'delivered')],
        'per_part',
        Date.now(),
      )
      assert.deepEqual([r.matched, r.unmatched], [1, 0])
      assert.equal(await status(id), 'delivered')
    })

    it('settles a receipt that arrived before the submit was recorded', async () => {
      const id = await claimedSms()
      const early = await applyReceipts(
        t.db,
        [receipt('77', 'undeliverable')],
        'per_part',
        Date.now(),
      )
      assert.deepEqual([early.matched, early.unmatched], [0, 1])
      await recordSent(t.db, 'w1', [{ id, messageIds: ['77'] }], Date.now())
      assert.equal(await status(id), 'sent')
      assert.equal((await rematch()).matched.length, 1)
      assert.equal(await status(id), 'undeliverable')
      const [event] = await t.db('delivery_events').where({ smsc_message_id: '77' })
      assert.equal(Number(event.sms_id), id)
    })

    it('does not let another reading of an id settle an older SMS to another phone', async () => {
      const older = await claimedSms()
      await recordSent(t.db, 'w1', [{ id: older, messageIds: ['1234'] }], Date.now())
      const newer = await claimedSms()
      const newerPhone = (await t.db('outbound_sms').where({ id: newer }).first()).recipient.slice(
        1,
      )
      // Decimal 4660 is hex 1234: without the handset check it would land on the older SMS.
      const early = await applyReceipts(
        t.db,
        [{ ...receipt('4660', 'undeliverable'), handset: newerPhone }],
        'per_part',
        Date.now(),
      )
      assert.deepEqual([early.matched, early.unmatched], [0, 1])
      assert.equal(await status(older), 'sent')
      await recordSent(t.db, 'w1', [{ id: newer, messageIds: ['4660'] }], Date.now())
      await rematch()
      assert.equal(await status(newer), 'undeliverable')
      assert.equal(await status(older), 'sent')
    })

    if (kind === 'sqlite') {
      it('waits for a writer in another process instead of failing with SQLITE_BUSY', async () => {
        const id = await claimedSms()
        await recordSent(t.db, 'w1', [{ id, messageIds: ['busy1'] }], Date.now())
        // Another process (as the MX would be) holds the write lock for 300 ms.
        const holder = spawn(
          process.execPath,
          [
            '-e',
            `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(t.config.sqliteFile)});
             db.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
             setTimeout(() => { db.exec('COMMIT'); db.close() }, 300)`,
          ],
          { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
        )
        await once(holder.stdout!, 'data')
        const r = await applyReceipts(t.db, [receipt('busy1', 'delivered')], 'per_part', Date.now())
        await once(holder, 'exit')
        assert.deepEqual([r.matched, r.unmatched], [1, 0])
        assert.equal(await status(id), 'delivered')
      })
    }

    it('per_part: delivered only when every part is', async () => {
      const id = await claimedSms()
      await recordSent(t.db, 'w1', [{ id, messageIds: ['p1', 'p2'] }], Date.now())
      await applyReceipts(
        t.db,
        [receipt('p1', 'delivered'), receipt('p2', 'enroute')],
        'per_part',
        Date.now(),
      )
      assert.equal(await status(id), 'sent')
      await applyReceipts(t.db, [receipt('p2', 'delivered')], 'per_part', Date.now())
      assert.equal(await status(id), 'delivered')
    })

    it('per_message: one receipt settles the whole SMS', async () => {
      const id = await claimedSms()
      await recordSent(t.db, 'w1', [{ id, messageIds: ['m1', 'm2', 'm3'] }], Date.now())
      await applyReceipts(t.db, [receipt('m3', 'expired')], 'per_message', Date.now())
      assert.equal(await status(id), 'expired')
    })

    it('does not move an SMS whose lease another worker took', async () => {
      const id = await claimedSms()
      await recordSent(t.db, 'w2', [{ id, messageIds: ['x9'] }], Date.now())
      assert.equal(await status(id), 'sending')
      const retry = { id, error: 'throttled', code: 0x58, finalStatus: 'failed' as const }
      await recordUnsent(t.db, 'w2', [{ ...retry, retryAt: Date.now() }], Date.now())
      await recordUnsent(t.db, 'w2', [{ ...retry, retryAt: null }], Date.now())
      await expireStale(t.db, 'w2', [id], Date.now())
      assert.equal(await renewLeases(t.db, 'w2', 60_000, Date.now()), 0)
      const row = await t.db('outbound_sms').where({ id }).first()
      assert.equal(row.status, 'sending')
      assert.equal(row.lease_owner, 'w1')
      assert.equal(row.notice_status, null)
    })
  })
}
