import assert from 'node:assert/strict'
import type { SmppConfig, WorkerConfig } from '../../lib/config'
import { createAccount } from '../../lib/db/accounts'
import { SmppTransport } from '../../lib/worker/transport'
import { SmsWorker } from '../../lib/worker/worker'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { SmscSimulator, type SmscSimulatorOptions } from '../support/smsc/simulator'
import { eventually, testSmppConfig, testWorkerConfig } from './harness'

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }
/** Two GSM-7 segments. */
const LONG_TEXT = 'Long message. '.repeat(15)

for (const kind of databaseKinds()) {
  describe(`worker: every SMS reaches a final status, against the SMSC simulator (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let accountId: number
    let smsc: SmscSimulator | undefined
    let worker: SmsWorker | undefined
    let lines: string[]
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })).id
    })

    beforeEach(() => {
      lines = []
    })

    afterEach(async () => {
      await worker?.stop(1000)
      await smsc?.close()
      worker = undefined
      smsc = undefined
    })

    after(async () => t?.drop())

    async function start(
      smscOptions: Partial<SmscSimulatorOptions>,
      smpp: Partial<SmppConfig>,
      config: Partial<WorkerConfig> = {},
    ): Promise<SmsWorker> {
      smsc = await SmscSimulator.start({ systemId: 'mail2sms', password: 'secret', ...smscOptions })
      const smppConfig = testSmppConfig(smsc.port, smpp)
      worker = new SmsWorker({
        db: t.db,
        transport: new SmppTransport(smppConfig, quiet),
        config: testWorkerConfig(config),
        receipts: smppConfig.receipts,
        receiptIdFormat: smppConfig.receiptIdFormat,
        receiptPartWaitMs: smppConfig.receiptPartWaitMs,
        receiptUpkeepMs: 50,
        defaultSource: '',
        log: (l) => lines.push(l),
      })
      worker.start()
      return worker
    }

    async function queue(body: string, segments: number): Promise<number> {
      const now = Date.now()
      const [id] = await t.db('outbound_sms').insert({
        account_id: accountId,
        sender_email: 'alice@acme.example',
        recipient: `+3361${String(++n).padStart(7, '0')}`,
        body,
        encoding: 'gsm7',
        segments,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `u-${kind}-${n}`,
        mx_transaction: `u-txn-${kind}-${n}`,
        created_at: now,
        updated_at: now,
      })
      return Number(id)
    }

    const row = (id: number) => async () =>
      (await t.db('outbound_sms').where({ id }).first()) as Record<string, unknown>

    it('receipts=auto with one receipt per long SMS: settled after the wait, then at once', async () => {
      const w = await start(
        { receiptPerSegment: false, receiptDelayMs: 10 },
        {
          receipts: 'auto',
          receiptPartWaitMs: 600,
        },
      )
      const first = [
        await queue(LONG_TEXT, 2),
        await queue(LONG_TEXT, 2),
        await queue(LONG_TEXT, 2),
      ]
      for (const id of first) await eventually(row(id), (r) => r.status === 'delivered', 10_000)
      assert.deepEqual(
        lines.filter((l) => l.startsWith('receipts mode=')),
        ['receipts mode=per_message reason="3 long SMS got a receipt for one part only"'],
      )
      // Their one receipt was logged without final=: the wait's end is each SMS's last line.
      const rows = await t.db('outbound_sms').whereIn('id', first).select('id', 'mx_transaction')
      assert.deepEqual(
        lines.filter((l) => l.startsWith('sms.settled ')).sort(),
        rows
          .map(
            (r) =>
              `sms.settled trace=${r.mx_transaction} sms=${r.id} final=delivered reason="receipt for one part only"`,
          )
          .sort(),
      )
      const parts = await t.db('outbound_sms_parts').whereIn('sms_id', first).select('state')
      assert.deepEqual(new Set(parts.map((p) => p.state)), new Set(['delivered']))
      assert.equal(parts.length, 6)
      // Now one receipt settles an SMS: no wait of receipt_part_wait_ms.
      const started = Date.now()
      const next = await queue(LONG_TEXT, 2)
      await eventually(row(next), (r) => r.status === 'delivered', 10_000)
      const took = Date.now() - started
      assert.ok(took < 500, `took ${took} ms`)
      assert.equal(w.stats.unmatchedReceipts, 0)
    })

    it('receipts=auto with one receipt per segment stays per part', async () => {
      await start(
        { receiptPerSegment: true, receiptDelayMs: 10 },
        {
          receipts: 'auto',
          receiptPartWaitMs: 60_000,
        },
      )
      const id = await queue(LONG_TEXT, 2)
      await eventually(row(id), (r) => r.status === 'delivered', 10_000)
      assert.deepEqual(
        lines.filter((l) => l.startsWith('receipts mode=')),
        [],
      )
    })

    it('no final receipt within receipt_timeout_ms: unknown, counted and logged', async () => {
      const w = await start({}, { receipts: 'per_part' }, { receiptTimeoutMs: 400, leaseMs: 400 })
      smsc!.setReceiptRule(() => null)
      const id = await queue('nobody reports on me', 1)
      const settled = await eventually(row(id), (r) => r.status === 'unknown', 10_000)
      assert.equal(settled.notice_status, null)
      assert.ok(Number(settled.final_at) >= Number(settled.sent_at) + 400)
      // The count follows the commit by a moment.
      await eventually(
        async () => w.stats.unknown,
        (count) => count === 1,
      )
      const logged = lines.filter((l) => l.startsWith('WARN sms.unknown '))
      assert.deepEqual(logged, [
        `WARN sms.unknown trace=u-txn-${kind}-${n} sms=${id} status=unknown error="no final receipt in 400 ms"`,
      ])
    })

    it('a receipt that matches nothing is logged once, counted, kept and matched late', async () => {
      const w = await start({ receiptDelayMs: 400 }, { receipts: 'per_part' })
      const id = await queue('matched late', 1)
      await eventually(row(id), (r) => r.status === 'sent', 10_000)
      // As if the record of the submit were not there yet when the receipt comes.
      const parts = await t.db('outbound_sms_parts').where({ sms_id: id })
      await t.db('outbound_sms_parts').where({ sms_id: id }).delete()
      await eventually(
        async () => w.stats.unmatchedReceipts,
        (count) => count === 1,
        10_000,
      )
      const messageId = String(parts[0].smsc_message_id)
      const recipient = String((await row(id)()).recipient).slice(1)
      assert.deepEqual(
        lines.filter((l) => l.startsWith('receipt.unmatched')),
        [`receipt.unmatched message_id=${messageId} handset=${recipient} state=delivered`],
      )
      const [kept] = await t.db('delivery_events').where({ smsc_message_id: messageId })
      assert.equal(kept.sms_id, null)
      await t.db('outbound_sms_parts').insert(parts.map(({ id: _id, ...p }) => p))
      await eventually(row(id), (r) => r.status === 'delivered', 10_000)
      // Matched late, it settles the SMS: its line says so, under the SMS's trace.
      // The line follows the commit by a moment: the status can be read before it is written.
      const trace = String((await row(id)()).mx_transaction)
      const expected = `sms.receipt trace=${trace} sms=${id} message_id=${messageId} state=delivered late=yes final=delivered`
      const seen = await eventually(
        async () => lines.includes(expected),
        (found) => found,
        5_000,
      ).catch(() => false)
      assert.ok(seen, lines.join('\n'))
      assert.equal(lines.filter((l) => l.startsWith('receipt.unmatched')).length, 1)
    })
  })
}
