import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import type { DeliveryReceipt } from '../../../lib/smpp/receipt'
import { applyReceipts } from '../../../lib/worker/receipts'
import { claimDueSms, expireStale, recordUnsent } from '../../../lib/db/outbound'
import { recordSent } from '../../../lib/worker/store'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const receipt = (messageId: string, state: DeliveryReceipt['state']): DeliveryReceipt => ({
  messageId,
  state,
  error: '001',
  doneAt: null,
  raw: `id:${messageId} stat:${state}`,
})

/** The worker's records of a final failure make the sender's notice due, in the same update. */
for (const kind of databaseKinds()) {
  describe(`lib/worker failure outcomes make notices due (${kind})`, () => {
    let t: TestDatabase
    let accountId: number
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
    })

    after(async () => t?.drop())

    async function claimedSms(): Promise<number> {
      const now = Date.now()
      n += 1
      await t.db('outbound_sms').insert({
        account_id: accountId,
        sender_email: 'a@acme.example',
        recipient: `+3361000${String(n).padStart(4, '0')}`,
        body: 'x',
        encoding: 'gsm7',
        segments: 1,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `nm-${n}`,
        created_at: now,
        updated_at: now,
      })
      const [sms] = await claimDueSms(t.db, { owner: 'w1', limit: 1, leaseMs: 60_000, now })
      return sms.id
    }

    const notice = async (id: number) => {
      const r = await t.db('outbound_sms').where({ id }).first()
      return {
        status: r.status,
        notice: r.notice_status,
        at: r.notice_next_at === null ? null : Number(r.notice_next_at),
      }
    }

    it('a permanent submit error: failed, notice due now', async () => {
      const id = await claimedSms()
      await recordUnsent(
        t.db,
        'w1',
        [{ id, error: 'ESME_RINVDSTADR: x', code: 0x0b, retryAt: null, finalStatus: 'failed' }],
        1234,
      )
      assert.deepEqual(await notice(id), { status: 'failed', notice: 'due', at: 1234 })
    })

    it('a retry owes no notice yet; expiry after retries does', async () => {
      const id = await claimedSms()
      await recordUnsent(
        t.db,
        'w1',
        [{ id, error: 'throttled', code: 0x58, retryAt: 1, finalStatus: 'failed' }],
        1000,
      )
      assert.deepEqual(await notice(id), { status: 'queued', notice: null, at: null })
      await claimDueSms(t.db, { owner: 'w1', limit: 10, leaseMs: 60_000, now: Date.now() })
      await recordUnsent(
        t.db,
        'w1',
        [{ id, error: 'expired: throttled', code: 0x58, retryAt: null, finalStatus: 'expired' }],
        2000,
      )
      assert.deepEqual(await notice(id), { status: 'expired', notice: 'due', at: 2000 })
    })

    it('an SMS too old to send: expired, notice due', async () => {
      const id = await claimedSms()
      await expireStale(t.db, 'w1', [id], 3000)
      assert.deepEqual(await notice(id), { status: 'expired', notice: 'due', at: 3000 })
    })

    it('an undeliverable or expired receipt makes the notice due; a delivered one does not', async () => {
      const [bad, late, good] = [await claimedSms(), await claimedSms(), await claimedSms()]
      await recordSent(
        t.db,
        'w1',
        [
          { id: bad, messageIds: [`b${n}`] },
          { id: late, messageIds: [`c${n}`] },
          { id: good, messageIds: [`d${n}`] },
        ],
        Date.now(),
      )
      await applyReceipts(
        t.db,
        [
          receipt(`b${n}`, 'undeliverable'),
          receipt(`c${n}`, 'expired'),
          receipt(`d${n}`, 'delivered'),
        ],
        'per_part',
        4000,
      )
      assert.deepEqual(await notice(bad), { status: 'undeliverable', notice: 'due', at: 4000 })
      assert.deepEqual(await notice(late), { status: 'expired', notice: 'due', at: 4000 })
      assert.equal((await notice(good)).notice, null)
    })
  })
}
