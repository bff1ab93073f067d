import assert from 'node:assert/strict'
import { dedupeKeyFor, insertEmails } from '../../lib/db/outbound'
import type { SmsWorker } from '../../lib/worker/worker'
import { seedSendingAccount } from '../support/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { SmscSimulator, STATUS } from '../support/smsc/simulator'
import { eventually, startTestWorker, testSmppConfig, testWorkerConfig } from './harness'

/** A GSM text of three segments (153 septets each with the UDH). */
const LONG = (tag: string) => `${tag} ${'x'.repeat(400)}`

for (const kind of databaseKinds()) {
  describe(`worker: long SMS retried part by part (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let smsc: SmscSimulator
    let worker: SmsWorker | null = null
    let accountId: number

    before(async () => {
      t = await createTestDatabase(kind)
      const { account } = await seedSendingAccount(t.db, { ref: 'parts', senderName: 'Parts' }, [
        'a@parts.example',
      ])
      accountId = account.id
    })

    beforeEach(async () => {
      smsc = await SmscSimulator.start({
        systemId: 'mail2sms',
        password: 'secret',
        receiptPerSegment: true,
        receiptDelayMs: 10,
      })
    })

    afterEach(async () => {
      await worker?.stop(500)
      worker = null
      await smsc.close()
    })
    after(() => t?.drop())

    async function queue(text: string, to: string): Promise<number> {
      const [{ ids }] = await insertEmails(t.db, [
        [
          {
            accountId,
            senderId: null,
            senderEmail: 'a@parts.example',
            recipient: to,
            body: text,
            encoding: 'gsm7',
            segments: 3,
            sourceMessageId: null,
            dedupeKey: dedupeKeyFor(text, to, null),
            mxTransaction: `${text.slice(0, 8)}.${to}`,
            timeZone: 'UTC',
          },
        ],
      ])
      return ids[0]
    }

    const row = (id: number) => () => t.db('outbound_sms').where({ id }).first()

    it('sends only the part that was lost with the link, under the same reference', async () => {
      const id = await queue(LONG('lost'), '+33611000001')
      // Parts 1 and 2 are taken; the link drops on part 3.
      smsc.dropConnectionsAfter(3)
      worker = startTestWorker(t.db, testSmppConfig(smsc.port, { window: 1 }), testWorkerConfig())
      const done = await eventually(row(id), (r) => r.status === 'delivered')
      assert.equal(Number(done.attempts), 2)
      const accepted = smsc.received.filter((s) => s.status === 0)
      const seqnums = accepted.map((s) => s.shortMessage[5])
      assert.deepEqual(seqnums, [1, 2, 3], 'each part accepted exactly once')
      const refs = new Set(smsc.received.map((s) => s.shortMessage[3]))
      assert.equal(refs.size, 1, 'one reference across both tries')
      const parts = await t.db('outbound_sms_parts').where({ sms_id: id }).orderBy('part_no')
      assert.deepEqual(
        parts.map((p) => `${p.part_no}:${p.state}`),
        ['1:delivered', '2:delivered', '3:delivered'],
      )
    })

    it('sends the parts taken when the rest expire, and ends partial once they are delivered', async () => {
      const id = await queue(LONG('expiring'), '+33611000003')
      // Parts 1 and 2 are taken; the link drops on part 3, and its retry would come past the age.
      smsc.dropConnectionsAfter(3)
      worker = startTestWorker(
        t.db,
        testSmppConfig(smsc.port, { window: 1 }),
        testWorkerConfig({ maxAgeMs: 2000, retryInitialMs: 10_000, retryMaxMs: 10_000 }),
      )
      const done = await eventually(row(id), (r) => r.status === 'partial')
      assert.match(String(done.last_error), /delivered parts 1, 2 of 3/)
      assert.equal(done.notice_status, 'due')
      const parts = await t.db('outbound_sms_parts').where({ sms_id: id }).orderBy('part_no')
      assert.deepEqual(
        parts.map((p) => `${p.part_no}:${p.state}`),
        ['1:delivered', '2:delivered', '3:expired'],
      )
    })

    it('fails an SMS only when every part was refused for good', async () => {
      const id = await queue(LONG('refused'), '+33611000002')
      smsc.failNext(3, STATUS.INVALID_DEST_ADDR)
      worker = startTestWorker(t.db, testSmppConfig(smsc.port, { window: 1 }), testWorkerConfig())
      const done = await eventually(row(id), (r) => r.status === 'failed')
      assert.match(String(done.last_error), /ESME_RINVDSTADR/)
      assert.equal(smsc.received.length, 3, 'no part submitted twice')
      const parts = await t.db('outbound_sms_parts').where({ sms_id: id })
      assert.deepEqual(
        parts.map((p) => p.state),
        ['refused', 'refused', 'refused'],
      )
    })
  })
}
