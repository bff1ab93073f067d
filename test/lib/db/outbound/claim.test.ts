import assert from 'node:assert/strict'
import { createAccount } from '../../../../lib/db/accounts'
import {
  claimDueSms,
  dedupeKeyFor,
  insertEmails,
  recordUnsent,
  type NewSms,
} from '../../../../lib/db/outbound'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'

const NOW = Date.UTC(2026, 11, 6, 9, 0, 0)
const LEASE_MS = 60_000

for (const kind of databaseKinds()) {
  describe(`lib/db/outbound/claim (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let named: number
    let numbered: number
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      named = (await createAccount(t.db, { ref: 'named', name: 'Named', senderName: 'Acme' })).id
      numbered = (
        await createAccount(t.db, {
          ref: 'numbered',
          name: 'Numbered',
          virtualNumber: '+33700000042',
        })
      ).id
    })

    after(async () => t?.drop())

    beforeEach(async () => {
      await t.db('outbound_sms_parts').delete()
      await t.db('outbound_sms').delete()
    })

    async function queue(accountId: number, at = NOW): Promise<number> {
      const i = ++n
      const sms: NewSms = {
        accountId,
        senderId: null,
        senderEmail: 'alice@example.com',
        recipient: `+336${String(i).padStart(8, '0')}`,
        body: `body ${i}`,
        encoding: i % 2 ? 'gsm7' : 'ucs2',
        segments: 1 + (i % 2),
        sourceMessageId: null,
        dedupeKey: dedupeKeyFor(`claim-${i}`, String(i), null),
        mxTransaction: `txn-${i}`,
        timeZone: 'UTC',
      }
      const [result] = await insertEmails(t.db, [[sms]], at)
      return result.ids[0]
    }

    it('hands over each SMS with its own columns and its account’s sender, in id order', async () => {
      const a = await queue(named)
      const b = await queue(numbered)
      const claimed = await claimDueSms(t.db, {
        owner: 'w1',
        limit: 10,
        leaseMs: LEASE_MS,
        now: NOW,
      })
      assert.deepEqual(
        claimed.map((s) => ({ ...s, settledParts: [...s.settledParts] })),
        [
          {
            id: a,
            accountId: named,
            recipient: `+336${String(n - 1).padStart(8, '0')}`,
            body: `body ${n - 1}`,
            encoding: (n - 1) % 2 ? 'gsm7' : 'ucs2',
            segments: 1 + ((n - 1) % 2),
            parts: null,
            attempts: 1,
            createdAt: NOW,
            senderName: 'Acme',
            virtualNumber: null,
            settledParts: [],
            trace: `txn-${n - 1}`,
          },
          {
            id: b,
            accountId: numbered,
            recipient: `+336${String(n).padStart(8, '0')}`,
            body: `body ${n}`,
            encoding: n % 2 ? 'gsm7' : 'ucs2',
            segments: 1 + (n % 2),
            parts: null,
            attempts: 1,
            createdAt: NOW,
            senderName: null,
            virtualNumber: '+33700000042',
            settledParts: [],
            trace: `txn-${n}`,
          },
        ],
      )
      const rows = await t.db('outbound_sms').whereIn('id', [a, b]).orderBy('id')
      assert.deepEqual(
        rows.map((r) => [r.status, r.lease_owner, Number(r.attempts), Number(r.next_attempt_at)]),
        [
          ['sending', 'w1', 1, NOW + LEASE_MS],
          ['sending', 'w1', 1, NOW + LEASE_MS],
        ],
      )
    })

    it('takes back an SMS whose lease ran out, first, counting its try and its settled parts', async () => {
      const held = await queue(named)
      await claimDueSms(t.db, { owner: 'dead', limit: 1, leaseMs: LEASE_MS, now: NOW })
      // Its worker recorded part 1 taken before it died; a newer SMS is queued meanwhile.
      await recordUnsent(
        t.db,
        'dead',
        [
          {
            id: held,
            error: 'throttled',
            code: 0x58,
            retryAt: NOW,
            finalStatus: 'failed',
            parts: 2,
            newParts: [{ partNo: 1, messageId: 'm1', state: 'sent' }],
          },
        ],
        NOW,
      )
      await claimDueSms(t.db, { owner: 'dead', limit: 1, leaseMs: LEASE_MS, now: NOW })
      const fresh = await queue(numbered, NOW + 1)
      // Before the lease's end: nothing of the dead worker's comes back; the new one does.
      const early = await claimDueSms(t.db, {
        owner: 'w2',
        limit: 5,
        leaseMs: LEASE_MS,
        now: NOW + 10,
      })
      assert.deepEqual(
        early.map((s) => s.id),
        [fresh],
      )
      const late = await claimDueSms(t.db, {
        owner: 'w2',
        limit: 5,
        leaseMs: LEASE_MS,
        now: NOW + LEASE_MS,
      })
      assert.equal(late.length, 1)
      assert.equal(late[0].id, held)
      assert.equal(late[0].attempts, 3)
      assert.equal(late[0].parts, 2)
      assert.deepEqual([...late[0].settledParts], [[1, 'accepted']])
      const row = await t.db('outbound_sms').where({ id: held }).first()
      assert.equal(row.lease_owner, 'w2')
      assert.equal(Number(row.attempts), 3)
    })
  })
}
