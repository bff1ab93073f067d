import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { openDb, type Db } from '../../lib/db/connection'
import { InboundMailDispatcher } from '../../lib/inbound/dispatcher'
import { MoReceiver } from '../../lib/inbound/receiver'
import { createMailer, type Mailer } from '../../lib/mail/mailer'
import { SmppTransport } from '../../lib/worker/transport'
import { SmsWorker } from '../../lib/worker/worker'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { SMS_DOMAIN } from '../support/mx'
import { SmscSimulator } from '../support/smsc/simulator'
import { SmtpSink } from '../support/smtp-sink'
import { eventually, testSmppConfig, testWorkerConfig } from '../worker/harness'
import { setReceiving } from './harness'

const ACME_NUMBER = '+33700000001'
const ESME_RX_T_APPN = 0x64
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

/** The worker process's SMPP side, MO storage and mail, on a database handle of its own. */
interface Stack {
  db: Db
  transport: SmppTransport
  worker: SmsWorker
  receiver: MoReceiver
  dispatcher: InboundMailDispatcher
  mailer: Mailer
}

for (const kind of databaseKinds()) {
  describe(`inbound SMS: acknowledged to the SMSC only once stored (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let smsc: SmscSimulator
    let sink: SmtpSink
    let stack: Stack | null = null
    let acmeId: number
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, {
        ref: 'acme',
        name: 'Acme',
        virtualNumber: ACME_NUMBER,
        senderName: 'Acme',
      })
      acmeId = acme.id
      await setReceiving(t.db, acme.id, { forwardAddresses: ['office@acme.example'] })
      sink = new SmtpSink()
      await sink.start()
      smsc = await SmscSimulator.start({
        systemId: 'mail2sms',
        password: 'secret',
        receiptDelayMs: 1500,
      })
    })

    afterEach(async () => {
      if (stack === null) return
      const { worker, receiver, dispatcher, mailer, db } = stack
      stack = null
      await receiver.stop(1000)
      await worker.stop(1000)
      await dispatcher.stop()
      await mailer.close()
      await db.destroy()
    })

    after(async () => {
      await smsc?.close()
      await sink?.stop()
      await t?.drop()
    })

    /**
     * Wired as worker/main.ts wires it. One pooled connection: a transaction held on it by the
     * test stalls every query of the worker, as a database that hangs would.
     */
    async function startStack(moAckTimeoutMs: number): Promise<Stack> {
      const db = openDb({ ...t.config, poolMax: 1 })
      const smpp = testSmppConfig(smsc.port)
      const transport = new SmppTransport(smpp, quiet, { moAckTimeoutMs })
      const mailer = createMailer(sink.mailerConfig())
      const worker = new SmsWorker({
        db,
        transport,
        config: testWorkerConfig(),
        receipts: smpp.receipts,
        defaultSource: smpp.defaultSource,
        log: () => undefined,
      })
      const receiver = new MoReceiver({ db })
      transport.on('mo', receiver.receive)
      const dispatcher = new InboundMailDispatcher({
        db,
        mailer,
        smsDomain: SMS_DOMAIN,
        directReplyWindowHours: 72,
        pollMs: 20,
        retryInitialMs: 100,
        retryMaxMs: 400,
        log: () => undefined,
      })
      receiver.start()
      worker.start()
      dispatcher.start()
      stack = { db, transport, worker, receiver, dispatcher, mailer }
      const sessions = smsc.binds
      await smsc.until(() => smsc.binds > sessions && smsc.activeSessions > 0)
      return stack
    }

    const nextMobile = () => `+336${String(20_000_000 + kind.length * 1000 + ++n)}`
    const inboundFrom = (from: string) => t.db('inbound_sms').where({ from_number: from })
    const moResponses = (from: string) =>
      smsc.deliverResponses.filter((r) => r.kind === 'mo' && r.sourceAddr === from.slice(1))
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

    it('answers an MO with 0 only once its row is committed', async () => {
      const { db } = await startStack(5000)
      const from = nextMobile()
      const rowsWhenAnswered: Promise<number>[] = []
      const onChange = () => {
        if (moResponses(from).length > rowsWhenAnswered.length) {
          rowsWhenAnswered.push(inboundFrom(from).then((rows) => rows.length))
        }
      }
      smsc.on('change', onChange)
      const held = await db.transaction()
      try {
        const statuses = smsc.injectMo({
          from,
          to: ACME_NUMBER,
          text: 'Bien reçu',
          encoding: 'ucs2',
        })
        await sleep(600)
        assert.deepEqual(moResponses(from), [], 'answered while the database was stalled')
        await held.commit()
        assert.deepEqual(await statuses, [0])
      } finally {
        if (!held.isCompleted()) await held.rollback()
        smsc.off('change', onChange)
      }
      assert.deepEqual(await Promise.all(rowsWhenAnswered), [1])
    })

    it('asks for a redelivery while the database is down, then stores and mails it once', async () => {
      const { db } = await startStack(5000)
      const from = nextMobile()
      await db.destroy()
      const statuses = smsc.injectMo(
        { from, to: ACME_NUMBER, text: 'Pendant la panne', encoding: 'gsm7' },
        { redeliver: { afterMs: 300, attempts: 50 } },
      )
      await smsc.until(() => moResponses(from).length >= 2)
      assert.ok(moResponses(from).every((r) => r.commandStatus === ESME_RX_T_APPN))
      assert.equal((await inboundFrom(from)).length, 0)
      db.initialize()
      assert.deepEqual(await statuses, [0])
      const [row] = await eventually(
        () => inboundFrom(from),
        (rows) => rows.length === 1 && rows[0].status === 'forwarded',
      )
      assert.equal(row.body, 'Pendant la panne')
      await sleep(300)
      assert.equal((await inboundFrom(from)).length, 1)
      const mails = sink.mails.filter((m) => m.parsed.text?.includes('Pendant la panne'))
      assert.equal(mails.length, 1)
    })

    it('still acknowledges a delivery receipt at once while the database is down', async () => {
      const { db } = await startStack(5000)
      const now = Date.now()
      const [id] = await t.db('outbound_sms').insert({
        account_id: acmeId,
        sender_email: 'alice@acme.example',
        recipient: nextMobile(),
        body: 'reçu ?',
        encoding: 'gsm7',
        segments: 1,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `mo-ack-receipt-${kind}`,
        created_at: now,
        updated_at: now,
      })
      const smsId = Number(id)
      await eventually(
        () => t.db('outbound_sms').where({ id: smsId }).first(),
        (row) => row?.status === 'sent',
      )
      const before = smsc.deliverResponses.filter((r) => r.kind === 'receipt').length
      await db.destroy()
      try {
        await smsc.until(
          () => smsc.deliverResponses.filter((r) => r.kind === 'receipt').length > before,
        )
        const receipts = smsc.deliverResponses.filter((r) => r.kind === 'receipt')
        assert.equal(receipts[receipts.length - 1].commandStatus, 0)
      } finally {
        db.initialize()
      }
    })

    it('stores once the parts it answered late, when the SMSC sends them again', async () => {
      const { db } = await startStack(300)
      const from = nextMobile()
      const single = nextMobile()
      const held = await db.transaction()
      let statuses: Promise<number[][]>
      try {
        statuses = Promise.all([
          smsc.injectMo(
            {
              from,
              to: ACME_NUMBER,
              text: 'Un long message en deux parties, répété par le SMSC',
              encoding: 'gsm7',
              split: { method: 'udh', parts: 2 },
            },
            { redeliver: { afterMs: 1000, attempts: 3 } },
          ),
          smsc.injectMo(
            { from: single, to: ACME_NUMBER, text: 'Court et répété', encoding: 'gsm7' },
            { redeliver: { afterMs: 1000, attempts: 3 } },
          ),
        ])
        await smsc.until(() => moResponses(from).length === 2 && moResponses(single).length === 1)
        assert.ok(
          [...moResponses(from), ...moResponses(single)].every(
            (r) => r.commandStatus === ESME_RX_T_APPN,
          ),
        )
      } finally {
        // The stalled stores go on and complete after their late answer.
        await held.commit()
      }
      assert.deepEqual(await statuses, [[0, 0], [0]])
      const sent = moResponses(from)
      assert.equal(sent.length, 4)
      const octets = (list: typeof sent) => list.map((r) => r.shortMessage?.toString('hex')).sort()
      assert.deepEqual(octets(sent.slice(2)), octets(sent.slice(0, 2)), 'redelivered as sent')
      const rows = await inboundFrom(from)
      assert.equal(rows.length, 1)
      assert.equal(rows[0].body, 'Un long message en deux parties, répété par le SMSC')
      assert.equal((await inboundFrom(single)).length, 1)
    })
  })
}
