import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import type { DeliveryReceipt } from '../../../lib/smpp/receipt'
import {
  applyReceipts,
  markUnknown,
  matchUnmatchedReceipts,
  settleFromParts,
  settleWaitedParts,
  type ReceiptIdFormat,
} from '../../../lib/worker/receipts'
import { claimDueSms } from '../../../lib/db/outbound'
import { recordSent } from '../../../lib/worker/store'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const PHONE = '+33612345678'

const receipt = (
  messageId: string,
  state: DeliveryReceipt['state'],
  handset?: string,
  handsetTon?: number,
): DeliveryReceipt => ({
  messageId,
  state,
  error: null,
  doneAt: null,
  raw: `id:${messageId} stat:${state}`,
  handset,
  handsetTon,
})

for (const kind of databaseKinds()) {
  describe(`lib/worker receipts: matching and settling (${kind})`, () => {
    let t: TestDatabase
    let accountId: number
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
    })

    after(async () => t?.drop())

    /** An SMS to `recipient` the SMSC accepted with these ids (one per part). */
    async function sentSms(messageIds: string[], recipient = PHONE, now = Date.now()) {
      await t.db('outbound_sms').insert({
        account_id: accountId,
        sender_email: 'a@acme.example',
        recipient,
        body: 'x',
        encoding: 'gsm7',
        segments: messageIds.length,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `m-${kind}-${++n}`,
        created_at: now,
        updated_at: now,
      })
      const [sms] = await claimDueSms(t.db, { owner: 'w1', limit: 1, leaseMs: 60_000, now })
      await recordSent(t.db, 'w1', [{ id: sms.id, messageIds }], now)
      return sms.id
    }

    const row = (id: number) => t.db('outbound_sms').where({ id }).first()
    const status = async (id: number) => (await row(id)).status
    const partStates = async (id: number) =>
      (await t.db('outbound_sms_parts').where({ sms_id: id }).orderBy('part_no')).map(
        (p) => p.state,
      )
    /** A hex id never used before, and the same number in decimal. */
    const freshId = () => {
      const hex = (0xab0000 + ++n * 7).toString(16)
      return { hex, decimal: String(parseInt(hex, 16)) }
    }

    const handsets: Array<[string, number | undefined]> = [
      ['33612345678', 1],
      ['+33612345678', 1],
      ['0612345678', 2],
      ['0612345678', 0],
      ['0612345678', undefined],
      ['0033612345678', 0],
    ]
    for (const [handset, ton] of handsets) {
      it(`matches a converted id when the handset is ${handset} (TON ${ton})`, async () => {
        const id = freshId()
        const sms = await sentSms([id.hex])
        const r = await applyReceipts(
          t.db,
          [receipt(id.decimal, 'delivered', handset, ton)],
          'per_part',
          Date.now(),
        )
        assert.deepEqual([r.matched, r.unmatched], [1, 0])
        assert.equal(await status(sms), 'delivered')
      })
    }

    it('does not take a converted id for a receipt about another phone', async () => {
      const id = freshId()
      const sms = await sentSms([id.hex])
      const r = await applyReceipts(
        t.db,
        [receipt(id.decimal, 'delivered', '0612345679', 2)],
        'per_part',
        Date.now(),
      )
      assert.equal(r.unmatched, 1)
      assert.equal(r.unmatchedReceipts[0].messageId, id.decimal)
      assert.equal(await status(sms), 'sent')
    })

    it("prefers a converted id to the phone's SMS over another SMS holding the id as given", async () => {
      const id = freshId()
      // Another SMS, to another phone, holds the decimal reading as its own id.
      const other = await sentSms([id.decimal], '+33611111111')
      const mine = await sentSms([id.hex])
      await applyReceipts(
        t.db,
        [receipt(id.decimal, 'delivered', '0612345678', 2)],
        'per_part',
        Date.now(),
      )
      assert.equal(await status(mine), 'delivered')
      assert.equal(await status(other), 'sent')
    })

    const formats: Array<[ReceiptIdFormat, boolean]> = [
      ['same', false],
      ['auto', false],
      ['decimal', true],
    ]
    for (const [format, matches] of formats) {
      it(`receipt_id_format=${format}: a converted id with another phone ${matches ? 'matches' : 'does not'}`, async () => {
        const id = freshId()
        const sms = await sentSms([id.hex])
        const r = await applyReceipts(
          t.db,
          [receipt(id.decimal, 'delivered', '33699999999', 1)],
          'per_part',
          Date.now(),
          format,
        )
        assert.equal(r.matched, matches ? 1 : 0)
        assert.equal(await status(sms), matches ? 'delivered' : 'sent')
      })
    }

    it('receipt_id_format=same never converts, even with the right phone', async () => {
      const id = freshId()
      const sms = await sentSms([id.hex])
      const r = await applyReceipts(
        t.db,
        [receipt(id.decimal, 'delivered', '33612345678', 1)],
        'per_part',
        Date.now(),
        'same',
      )
      assert.equal(r.unmatched, 1)
      assert.equal(await status(sms), 'sent')
    })

    it('one id for every part: its receipt settles all the parts', async () => {
      const older = await sentSms(['samex', 'samex'])
      const sms = await sentSms(['samex', 'samex', 'samex'])
      await applyReceipts(t.db, [receipt('samex', 'delivered')], 'per_part', Date.now())
      assert.deepEqual(await partStates(sms), ['delivered', 'delivered', 'delivered'])
      assert.equal(await status(sms), 'delivered')
      // Ids reused across SMS: the newest SMS holding the id is the one reported on.
      assert.equal(await status(older), 'sent')
    })

    it('an id reused by the carrier: the SMS still waiting for it wins over a newer settled one', async () => {
      const waiting = await sentSms(['reused1'])
      const settled = await sentSms(['reused1'], '+33611111112')
      await t.db('outbound_sms_parts').where({ sms_id: settled }).update({ state: 'delivered' })
      await t.db('outbound_sms').where({ id: settled }).update({ status: 'delivered' })
      await applyReceipts(t.db, [receipt('reused1', 'delivered')], 'per_part', Date.now())
      assert.equal(await status(waiting), 'delivered')
    })

    if (kind === 'mysql') {
      it('settles an SMS whose other part another transaction settled while this one waited', async () => {
        const sms = await sentSms(['race1', 'race2'])
        const now = Date.now()
        await t.db.transaction(async (trx) => {
          // This transaction's snapshot is taken here, before the other part is settled.
          await trx('outbound_sms_parts').where({ sms_id: sms }).select('id')
          await t
            .db('outbound_sms_parts')
            .where({ sms_id: sms, part_no: 1 })
            .update({ state: 'delivered', final_at: now })
          await trx('outbound_sms_parts')
            .where({ sms_id: sms, part_no: 2 })
            .update({ state: 'delivered', final_at: now })
          await settleFromParts(trx, [sms], now)
        })
        assert.equal(await status(sms), 'delivered')
      })
    }

    it('per_message: a delivered receipt with a part refused at submit makes it partial', async () => {
      const sms = await sentSms(['pm1', 'pm2'])
      await t.db('outbound_sms').where({ id: sms }).update({ parts: 3 })
      await t.db('outbound_sms_parts').insert({
        sms_id: sms,
        part_no: 3,
        smsc_message_id: '',
        state: 'refused',
        created_at: Date.now(),
      })
      await applyReceipts(t.db, [receipt('pm2', 'delivered')], 'per_message', 5000)
      const settled = await row(sms)
      assert.equal(settled.status, 'partial')
      assert.equal(settled.notice_status, 'due')
      assert.equal(settled.last_error, 'receipt: partial (delivered parts 1, 2 of 3)')
    })

    it('settles only once the SMS has all its part rows (settleFromParts)', async () => {
      const sms = await sentSms(['sf1', 'sf2'])
      await t.db('outbound_sms').where({ id: sms }).update({ parts: 3 })
      await applyReceipts(
        t.db,
        [receipt('sf1', 'delivered'), receipt('sf2', 'delivered')],
        'per_part',
        Date.now(),
      )
      assert.equal(await status(sms), 'sent')
      await t.db('outbound_sms_parts').insert({
        sms_id: sms,
        part_no: 3,
        smsc_message_id: '',
        state: 'refused',
        created_at: Date.now(),
      })
      const settled = await t.db.transaction((trx) => settleFromParts(trx, [sms], Date.now()))
      assert.deepEqual(settled, [sms])
      assert.equal(await status(sms), 'partial')
    })

    it('none delivered: undeliverable if a part was refused, else expired', async () => {
      const refused = await sentSms(['nd1'])
      await t.db('outbound_sms').where({ id: refused }).update({ parts: 2 })
      await t.db('outbound_sms_parts').insert({
        sms_id: refused,
        part_no: 2,
        smsc_message_id: '',
        state: 'refused',
        created_at: Date.now(),
      })
      const expired = await sentSms(['nd2', 'nd3'])
      await applyReceipts(
        t.db,
        [receipt('nd1', 'expired'), receipt('nd2', 'expired'), receipt('nd3', 'expired')],
        'per_part',
        Date.now(),
      )
      assert.equal(await status(refused), 'undeliverable')
      assert.equal(await status(expired), 'expired')
    })

    it('a receipt for parts of an SMS still queued waits for the SMS to be sent', async () => {
      const sms = await sentSms(['q1', 'q2'])
      await t.db('outbound_sms').where({ id: sms }).update({ status: 'queued' })
      await applyReceipts(
        t.db,
        [receipt('q1', 'delivered'), receipt('q2', 'delivered')],
        'per_part',
        Date.now(),
      )
      assert.deepEqual(await partStates(sms), ['delivered', 'delivered'])
      assert.equal(await status(sms), 'queued')
      await t.db('outbound_sms').where({ id: sms }).update({ status: 'sent' })
      await t.db.transaction((trx) => settleFromParts(trx, [sms], Date.now()))
      assert.equal(await status(sms), 'delivered')
    })

    it('a long SMS with a receipt for one part is settled from it after the wait', async () => {
      const failing = await sentSms(['wa1', 'wa2', 'wa3'])
      const fine = await sentSms(['wb1', 'wb2'])
      await applyReceipts(
        t.db,
        [receipt('wa3', 'undeliverable'), receipt('wb2', 'delivered')],
        'per_part',
        10_000,
      )
      assert.deepEqual(await settleWaitedParts(t.db, 9_999, 20_000, 500), [])
      assert.equal(await status(failing), 'sent')
      const settled = await settleWaitedParts(t.db, 10_000, 20_000, 500)
      assert.deepEqual(
        settled.map((s) => [s.id, s.outcome]),
        [
          [failing, 'undeliverable'],
          [fine, 'delivered'],
        ],
      )
      assert.deepEqual(await partStates(failing), [
        'undeliverable',
        'undeliverable',
        'undeliverable',
      ])
      assert.equal(await status(failing), 'undeliverable')
      assert.equal(await status(fine), 'delivered')
    })

    it('an SMS without a final receipt for too long becomes unknown, in batches', async () => {
      const now = Date.now()
      const old = [
        await sentSms(['u1'], PHONE, now - 10_000),
        await sentSms(['u2'], PHONE, now - 10_000),
      ]
      await t
        .db('outbound_sms')
        .whereIn('id', old)
        .update({ next_attempt_at: now - 1 })
      const recent = await sentSms(['u3'], PHONE, now - 1000)
      await t
        .db('outbound_sms')
        .where({ id: recent })
        .update({ next_attempt_at: now - 1 })
      const first = await markUnknown(t.db, now, 5000, 1)
      const second = await markUnknown(t.db, now, 5000, 1)
      assert.deepEqual(
        [...first, ...second].map((u) => u.id).sort((a, b) => a - b),
        old,
      )
      assert.deepEqual(await markUnknown(t.db, now, 5000, 500), [])
      const moved = await row(old[0])
      assert.deepEqual(
        [moved.status, Number(moved.final_at), moved.notice_status],
        ['unknown', now, null],
      )
      assert.equal(await status(recent), 'sent')
    })

    it('an unmatched receipt with a national handset is matched late, after a cursor', async () => {
      const id = freshId()
      const early = await applyReceipts(
        t.db,
        [receipt(id.decimal, 'delivered', '0612345678', 2)],
        'per_part',
        Date.now(),
      )
      assert.equal(early.unmatched, 1)
      const event = await t.db('delivery_events').where({ smsc_message_id: id.decimal }).first()
      assert.equal(Number(event.handset_ton), 2)
      const sms = await sentSms([id.hex])
      const since = Date.now() - 60_000
      const skipped = await matchUnmatchedReceipts(t.db, {
        since,
        afterId: Number(event.id),
        mode: 'per_part',
        now: Date.now(),
      })
      assert.deepEqual(skipped.matched, [])
      const late = await matchUnmatchedReceipts(t.db, { since, mode: 'per_part', now: Date.now() })
      // (Earlier tests' receipts for converted ids with the right phone match here too.)
      assert.deepEqual(
        late.matched.filter((m) => m.messageId === id.decimal),
        [{ messageId: id.decimal, smsId: sms, trace: null, state: 'delivered' }],
      )
      assert.equal(await status(sms), 'delivered')
    })
  })
}
