import assert from 'node:assert/strict'
import { createAccount } from '../../../../lib/db/accounts'
import {
  claimDueSms,
  dedupeKeyFor,
  insertEmails,
  lockSmsRows,
  markSmsSent,
  moveToDelivered,
  renewLeases,
  type NewSms,
} from '../../../../lib/db/outbound'
import * as batchedCounts from '../../../../migrations/20261206141100_count_batched_status_changes'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'
import {
  countsFromSms,
  countsKept,
  deltaCount,
  totalsFromSms,
  totalsKept,
} from '../../../support/daily-counts'

const NOW = Date.UTC(2026, 11, 6, 9, 0, 0)
const DAY = 86_400_000
const LEASE_MS = 60_000

for (const kind of databaseKinds()) {
  describe(`lib/db/outbound/status-moves (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let acme: number
    let globex: number
    let n = 0

    beforeEach(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
    })

    afterEach(async () => t?.drop())

    /** `count` SMS of `accountId`, queued at `at`, from two senders, of 1 to 3 segments. */
    async function queue(accountId: number, count: number, at = NOW): Promise<number[]> {
      const emails: NewSms[][] = [...Array(count)].map(() => {
        const i = ++n
        return [
          {
            accountId,
            senderId: null,
            senderEmail: i % 2 ? 'alice@acme.example' : 'bob@acme.example',
            recipient: `+336${String(i).padStart(8, '0')}`,
            body: `hello ${i}`,
            encoding: 'gsm7',
            segments: 1 + (i % 3),
            sourceMessageId: null,
            dedupeKey: dedupeKeyFor(`moves-${i}`, String(i), null),
            mxTransaction: `txn-${i}`,
            timeZone: 'UTC',
          },
        ]
      })
      return (await insertEmails(t.db, emails, at)).map((r) => r.ids[0])
    }

    async function assertExact(what: string): Promise<void> {
      assert.deepEqual(await countsKept(t.db), await countsFromSms(t.db), what)
      assert.deepEqual(await totalsKept(t.db), await totalsFromSms(t.db), what)
    }

    const statusOf = async (ids: number[]) =>
      (await t.db('outbound_sms').whereIn('id', ids).orderBy('id').pluck('status')).map(String)

    const sendAll = (owner: string, ids: number[], at: number) =>
      t.db.transaction((trx) =>
        markSmsSent(
          trx,
          owner,
          ids.map((id) => ({ id, parts: 1 })),
          at,
          LEASE_MS,
        ),
      )

    it('counts a batch sent and delivered with one delta per account, day, sender and status', async () => {
      const ids = [
        ...(await queue(acme, 8)),
        ...(await queue(acme, 4, NOW - DAY)),
        ...(await queue(globex, 6)),
      ]
      const claimed = await claimDueSms(t.db, {
        owner: 'w1',
        limit: 100,
        leaseMs: LEASE_MS,
        now: NOW,
      })
      assert.equal(claimed.length, ids.length)
      const stored = await deltaCount(t.db)
      await sendAll('w1', ids, NOW)
      await assertExact('sent')
      // 3 (account, day) pairs × 2 senders: on MySQL −1 'queued' and +1 'sent' for each group;
      // SQLite leaves the change to the trigger, two deltas per SMS.
      const afterSent = await deltaCount(t.db)
      assert.equal(afterSent - stored, kind === 'mysql' ? 2 * 6 : 2 * ids.length)
      await t.db.transaction(async (trx) =>
        moveToDelivered(trx, await lockSmsRows(trx, ids), NOW + 1000),
      )
      assert.deepEqual(
        await statusOf(ids),
        ids.map(() => 'delivered'),
      )
      await assertExact('delivered')
      assert.equal((await deltaCount(t.db)) - afterSent, 2 * 6)
    })

    it('moves and counts only the SMS still held under this lease', async () => {
      const ids = await queue(acme, 6)
      await claimDueSms(t.db, { owner: 'w1', limit: 6, leaseMs: LEASE_MS, now: NOW })
      // w1's lease on two of them ran out and w2 took them; w2 already recorded one as sent.
      await t.db('outbound_sms').whereIn('id', ids.slice(0, 2)).update({ lease_owner: 'w2' })
      await sendAll('w2', [ids[0]], NOW)
      await sendAll('w1', ids, NOW + 10)
      assert.deepEqual(await statusOf(ids), ['sent', 'sending', 'sent', 'sent', 'sent', 'sent'])
      const rows = await t.db('outbound_sms').whereIn('id', ids).orderBy('id')
      assert.deepEqual(
        rows.map((r) => (r.sent_at === null ? null : Number(r.sent_at))),
        [NOW, null, NOW + 10, NOW + 10, NOW + 10, NOW + 10],
        "w2's record stands; w1 moved only its own",
      )
      await assertExact('w1 and w2 sent')
      // Still w2's: renewing w1's leases finds none of them.
      assert.equal(await renewLeases(t.db, 'w1', LEASE_MS, NOW + 20), 0)
    })

    it('moves without counting an SMS that has no day yet, as the trigger does', async () => {
      const ids = await queue(acme, 3)
      await claimDueSms(t.db, { owner: 'w1', limit: 3, leaseMs: LEASE_MS, now: NOW })
      // A row stored before the counts existed: the counts' fill counts it later.
      await t.db('outbound_sms').where({ id: ids[0] }).update({ local_day: null })
      await t.db('sms_daily_delta').delete()
      await sendAll('w1', ids, NOW)
      await t.db.transaction(async (trx) =>
        moveToDelivered(trx, await lockSmsRows(trx, ids.slice(1)), NOW + 1000),
      )
      assert.deepEqual(await statusOf(ids), ['sent', 'delivered', 'delivered'])
      const kept = await t.db('sms_daily_delta').select('status', 'sms')
      const sum = (status: string) =>
        kept.filter((d) => d.status === status).reduce((s, d) => s + Number(d.sms), 0)
      assert.deepEqual(
        ['queued', 'sent', 'delivered'].map(sum),
        [-2, 0, 2],
        'the row without a day is not counted',
      )
    })

    it('leaves to the trigger every change that does not raise counted_changes', async () => {
      const ids = await queue(acme, 4)
      await claimDueSms(t.db, { owner: 'w1', limit: 4, leaseMs: LEASE_MS, now: NOW })
      await sendAll('w1', ids, NOW)
      const before = await deltaCount(t.db)
      // An admin's or a script's change: the trigger counts it, two deltas per SMS.
      await t.db('outbound_sms').whereIn('id', ids.slice(0, 2)).update({ status: 'unknown' })
      assert.equal((await deltaCount(t.db)) - before, 4)
      await assertExact('changed by hand')
      // A change that raises counted_changes is its statement's to count: the trigger adds none.
      await t
        .db('outbound_sms')
        .whereIn('id', ids.slice(2))
        .update({ status: 'delivered', counted_changes: t.db.raw('counted_changes + 1') })
      assert.equal((await deltaCount(t.db)) - before, 4)
    })

    it('its migration goes down to a trigger that counts every change, and up again', async () => {
      const ids = await queue(acme, 4)
      const raise = (some: number[], status: string) =>
        t
          .db('outbound_sms')
          .whereIn('id', some)
          .update({ status, counted_changes: t.db.raw('counted_changes + 1') })
      await batchedCounts.down(t.db)
      const before = await deltaCount(t.db)
      await raise(ids.slice(0, 2), 'sent')
      assert.equal((await deltaCount(t.db)) - before, 4, 'counted by the trigger again')
      await assertExact('down')
      await batchedCounts.up(t.db)
      await raise(ids.slice(2), 'sent')
      assert.equal((await deltaCount(t.db)) - before, 4, 'left to the statement')
    })
  })
}
