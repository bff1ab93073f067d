import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { addSender } from '../../lib/db/senders'
import { encodeGsm7 } from '../../lib/sms/gsm7'
import { encodeUcs2 } from '../../lib/sms/ucs2'
import { DailyRollupJob } from '../../lib/worker/daily-rollup-job'
import type { SmsWorker } from '../../lib/worker/worker'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import {
  countsFromSms,
  countsKept,
  deltaCount,
  rollupRows,
  totalsFromSms,
  totalsRows,
} from '../support/daily-counts'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { SmscSimulator, STATUS } from '../support/smsc/simulator'
import { buildMessage, sendMail } from '../support/smtp-client'
import { eventually, startTestWorker, testSmppConfig, testWorkerConfig } from './harness'

for (const kind of databaseKinds()) {
  describe(`worker: email to SMSC, end to end (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx
    let smsc: SmscSimulator
    let worker: SmsWorker
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, {
        ref: 'acme',
        name: 'Acme',
        senderName: 'Acme',
        segmentCap: 4,
      })
      const noName = await createAccount(t.db, {
        ref: 'plain',
        name: 'Plain',
        virtualNumber: '+33700000001',
      })
      await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
      await addSender(t.db, noName.id, 'alice@acme.example', { status: 'accepted' })
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      await addAllowedIp(t.db, noName.id, '127.0.0.1')
      smsc = await SmscSimulator.start({
        systemId: 'mail2sms',
        password: 'secret',
        receiptPerSegment: true,
        receiptDelayMs: 20,
      })
      mx = await startMx({ database: t.config })
      worker = startTestWorker(t.db, testSmppConfig(smsc.port))
    })

    after(async () => {
      await worker?.stop(1000)
      await mx?.stop()
      await smsc?.close()
      await t?.drop()
    })

    /** A fresh number per test, so the SMSC's records of each test stay apart. */
    const nextNumber = () => `0612${String(++n).padStart(6, '0')}`
    const e164 = (national: string) => `+33${national.slice(1)}`

    async function email(body: string, to: string, account = ''): Promise<number> {
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`${to}${account ? `+${account}` : ''}@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'alice@acme.example', to: 'x', body }),
      })
      assert.equal(r.data?.code, 250, r.data?.text)
      return Number(/SMS (\d+)/.exec(r.data!.text)![1])
    }

    const statusOf = (id: number) => async () =>
      (await t.db('outbound_sms').where({ id }).first()) as Record<string, unknown>

    it('sends GSM-7 bytes from the sender name, and the receipt makes it delivered', async () => {
      const to = nextNumber()
      const id = await email('Meeting at 3pm {room 2} costs 5€', to)
      const row = await eventually(statusOf(id), (r) => r.status === 'delivered')
      const [submit] = smsc.received.filter((s) => s.destAddr === e164(to).slice(1))
      assert.equal(submit.dataCoding, 0x00)
      assert.deepEqual(submit.shortMessage, encodeGsm7('Meeting at 3pm {room 2} costs 5€'))
      assert.equal(submit.sourceAddr, 'Acme')
      assert.equal(submit.sourceTon, 5)
      assert.equal(submit.registeredDelivery & 1, 1)
      assert.ok(Number(row.final_at) >= Number(row.sent_at))
    })

    it('sends UCS-2 from the virtual number when the account has no sender name', async () => {
      const to = nextNumber()
      const text = 'Ça coûte très peu 😀'
      const id = await email(text, to, 'plain')
      await eventually(statusOf(id), (r) => r.status === 'delivered')
      const [submit] = smsc.received.filter((s) => s.destAddr === e164(to).slice(1))
      assert.equal(submit.dataCoding, 0x08)
      assert.deepEqual(submit.shortMessage, encodeUcs2(text))
      assert.equal(submit.sourceAddr, '33700000001')
      assert.equal(submit.sourceTon, 1)
    })

    it('leaves the sender to the carrier when the account has neither name nor number', async () => {
      const bare = await createAccount(t.db, { ref: 'bare', name: 'Bare' })
      await addSender(t.db, bare.id, 'alice@acme.example', { status: 'accepted' })
      await addAllowedIp(t.db, bare.id, '127.0.0.1')
      const to = nextNumber()
      const id = await email('from whoever the carrier says', to, 'bare')
      await eventually(statusOf(id), (r) => r.status === 'delivered')
      const [submit] = smsc.received.filter((s) => s.destAddr === e164(to).slice(1))
      assert.equal(submit.sourceAddr, '')
      assert.equal(submit.sourceTon, 0)
    })

    it('sends a 3-part message with UDH and settles it when all three parts are delivered', async () => {
      const to = nextNumber()
      const text =
        Array.from({ length: 40 }, (_, i) => `word${i}`)
          .join(' ')
          .repeat(1) +
        ' ' +
        'x'.repeat(100)
      const id = await email(text, to)
      const row = await eventually(statusOf(id), (r) => r.status === 'delivered')
      assert.equal(Number(row.parts), 3)
      const [message] = smsc.messagesTo(e164(to).slice(1))
      assert.equal(message.parts, 3)
      assert.equal(message.text, text)
      const parts = await t.db('outbound_sms_parts').where({ sms_id: id }).orderBy('part_no')
      assert.deepEqual(
        parts.map((p) => p.state),
        ['delivered', 'delivered', 'delivered'],
      )
    })

    it('marks an SMS undeliverable when its receipt says so', async () => {
      const to = nextNumber()
      smsc.setReceiptRule((dest) => (dest === e164(to).slice(1) ? 'UNDELIV' : 'DELIVRD'))
      const id = await email('to a switched-off phone', to)
      const row = await eventually(statusOf(id), (r) => r.status === 'undeliverable')
      assert.match(String(row.last_error), /undeliverable/)
      smsc.setReceiptRule(() => 'DELIVRD')
    })

    it('sends a throttled SMS again after a pause, within the same try', async () => {
      smsc.throttleNext(1)
      const to = nextNumber()
      const id = await email('after a pause', to)
      const row = await eventually(statusOf(id), (r) => r.status === 'delivered')
      assert.equal(Number(row.attempts), 1, 'the client requeued it: no round trip to the queue')
      const statuses = smsc.received
        .filter((s) => s.destAddr === e164(to).slice(1))
        .map((s) => s.status)
      assert.deepEqual(statuses, [STATUS.THROTTLED, 0])
    })

    it('fails an SMS on a permanent error, keeping the SMPP status', async () => {
      smsc.failNext(1, 0x0b)
      const to = nextNumber()
      const id = await email('to a bad destination', to)
      const row = await eventually(statusOf(id), (r) => r.status === 'failed')
      assert.equal(Number(row.error_code), 0x0b)
      assert.match(String(row.last_error), /ESME_RINVDSTADR/)
      assert.equal(Number(row.attempts), 1)
    })

    it('loses nothing when the SMSC drops the link mid-window', async () => {
      smsc.delayResponses(30)
      const bindsBefore = smsc.binds
      smsc.dropConnectionsAfter(4)
      const numbers = Array.from({ length: 12 }, () => nextNumber())
      const ids: number[] = []
      for (const to of numbers) ids.push(await email(`burst ${to}`, to))
      const rows = await eventually(
        () => t.db('outbound_sms').whereIn('id', ids),
        (rs) => rs.every((r) => r.status === 'delivered'),
      )
      assert.equal(rows.length, 12)
      assert.ok(smsc.binds > bindsBefore, 'the link was never dropped and bound again')
      for (const to of numbers) {
        assert.ok(smsc.messagesTo(e164(to).slice(1)).length >= 1, `nothing reached ${to}`)
      }
      smsc.delayResponses(0)
    })

    // After the tests above: SMS stored by the MX, sent, delivered, undeliverable, retried after
    // throttling, refused, sent again after a dropped link, each change made by the worker.
    it('kept the daily counts equal to the SMS through all of the above, folded or not', async () => {
      const [{ n }] = await t.db('outbound_sms').count({ n: '*' })
      assert.ok(Number(n) >= 15, `only ${n} SMS`)
      assert.ok((await deltaCount(t.db)) > Number(n), 'the status changes left no delta')
      assert.deepEqual(await countsKept(t.db), await countsFromSms(t.db))
      const fold = new DailyRollupJob({ db: t.db, intervalMs: 10, batchSize: 7, log: () => {} })
      fold.start()
      try {
        await eventually(
          () => deltaCount(t.db),
          (left) => left === 0,
        )
      } finally {
        await fold.stop()
      }
      assert.ok(fold.stats.folded > Number(n))
      assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
      assert.deepEqual(await totalsRows(t.db), await totalsFromSms(t.db))
    })
  })
}

describe('worker: several workers on one MySQL', function () {
  this.timeout(120_000)
  it('two workers share 1,000 SMS and send each exactly once', async () => {
    const t = await createTestDatabase('mysql')
    const smsc = await SmscSimulator.start({
      systemId: 'mail2sms',
      password: 'secret',
      receiptDelayMs: 5,
    })
    const workers: SmsWorker[] = []
    try {
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })
      const now = Date.now()
      const rows = Array.from({ length: 1000 }, (_, i) => ({
        account_id: acme.id,
        sender_email: 'alice@acme.example',
        recipient: `+336${String(i).padStart(8, '0')}`,
        body: `bulk ${i}`,
        encoding: 'gsm7',
        segments: 1,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `k${i}`,
        created_at: now,
        updated_at: now,
      }))
      for (let i = 0; i < rows.length; i += 250)
        await t.db('outbound_sms').insert(rows.slice(i, i + 250))
      // Two folds of the SMS counts run beside the workers, as every worker runs one.
      const folds = [0, 1].map(
        () => new DailyRollupJob({ db: t.db, intervalMs: 20, batchSize: 100, log: () => {} }),
      )
      for (const fold of folds) fold.start()
      for (let i = 0; i < 2; i++) {
        workers.push(
          startTestWorker(t.db, testSmppConfig(smsc.port), testWorkerConfig({ batchSize: 40 })),
        )
      }
      await eventually(
        () => t.db('outbound_sms').whereNot({ status: 'delivered' }).count({ n: '*' }),
        ([r]) => Number(r.n) === 0,
        60_000,
      )
      await eventually(
        () => deltaCount(t.db),
        (left) => left === 0,
        30_000,
      )
      await Promise.all(folds.map((fold) => fold.stop()))
      assert.ok(folds.every((fold) => fold.stats.folded > 0))
      // Every SMS delivered, counted once, under the one status it ended in.
      assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
      assert.equal((await rollupRows(t.db)).length, 1)
      assert.deepEqual(await totalsRows(t.db), await totalsFromSms(t.db))
      const perDest = new Map<string, number>()
      for (const s of smsc.received) perDest.set(s.destAddr, (perDest.get(s.destAddr) ?? 0) + 1)
      assert.equal(perDest.size, 1000)
      assert.deepEqual([...new Set(perDest.values())], [1])
      // Both took part: the work was shared, not done by one.
      assert.ok(
        workers.every((w) => w.stats.sent > 0),
        workers.map((w) => w.stats.sent).join(', '),
      )
    } finally {
      await Promise.all(workers.map((w) => w.stop(1000)))
      await smsc.close()
      await t.drop()
    }
  })
})
