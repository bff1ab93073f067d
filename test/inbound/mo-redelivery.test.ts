import assert from 'node:assert/strict'
import type { SmppConfig } from '../../lib/config'
import { createAccount } from '../../lib/db/accounts'
import { openDb, type Db } from '../../lib/db/connection'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { SmscSimulator } from '../support/smsc/simulator'
import { SmtpSink } from '../support/smtp-sink'
import { eventually, testSmppConfig } from '../worker/harness'
import { setReceiving, startInboundWorker, type InboundWorker } from './harness'

const ACME_NUMBER = '+33700000001'
const ESME_RX_T_APPN = 0x64

for (const kind of databaseKinds()) {
  describe(`inbound SMS: a redelivery is told from the same words sent again (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let smsc: SmscSimulator
    let sink: SmtpSink
    let running: { worker: InboundWorker; db: Db } | null = null
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, {
        ref: 'acme',
        name: 'Acme',
        virtualNumber: ACME_NUMBER,
      })
      await setReceiving(t.db, acme.id, { forwardAddresses: ['office@acme.example'] })
      sink = new SmtpSink()
      await sink.start()
      smsc = await SmscSimulator.start({ systemId: 'mail2sms', password: 'secret' })
    })

    afterEach(async () => {
      if (running === null) return
      const { worker, db } = running
      running = null
      await worker.stop()
      await db.destroy()
    })

    after(async () => {
      await smsc?.close()
      await sink?.stop()
      await t?.drop()
    })

    /**
     * The worker process on a database handle of its own, with one connection: a transaction
     * the test holds on it stalls every store, as a slow database would.
     */
    async function startWorker(
      options: { moAckTimeoutMs?: number; smpp?: Partial<SmppConfig> } = {},
    ): Promise<Db> {
      const db = openDb({ ...t.config, poolMax: 1 })
      const binds = smsc.binds
      const worker = startInboundWorker(db, testSmppConfig(smsc.port, options.smpp), sink, {
        moAckTimeoutMs: options.moAckTimeoutMs ?? 5000,
      })
      running = { worker, db }
      await smsc.until(() => smsc.binds > binds && smsc.activeSessions > 0)
      return db
    }

    const nextMobile = () => `+336${String(30_000_000 + kind.length * 1000 + ++n)}`
    const inboundFrom = (from: string) => t.db('inbound_sms').where({ from_number: from })
    const moResponses = (from: string) =>
      smsc.deliverResponses.filter((r) => r.kind === 'mo' && r.sourceAddr === from.slice(1))
    const mailsFrom = (from: string) =>
      sink.mails.filter((m) => m.parsed.subject === `SMS de ${from}`)
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

    it('mails "OK" sent twice within seconds twice, one after the other or together', async () => {
      await startWorker()
      const oneByOne = nextMobile()
      const together = nextMobile()
      const ok = { to: ACME_NUMBER, text: 'OK', encoding: 'gsm7' } as const
      assert.deepEqual(await smsc.injectMo({ ...ok, from: oneByOne }), [0])
      assert.deepEqual(await smsc.injectMo({ ...ok, from: oneByOne }), [0])
      // Both deliver_sm on the wire before either answer: the second is no redelivery.
      assert.deepEqual(
        await Promise.all([
          smsc.injectMo({ ...ok, from: together }),
          smsc.injectMo({ ...ok, from: together }),
        ]),
        [[0], [0]],
      )
      for (const from of [oneByOne, together]) {
        const rows = await eventually(
          () => inboundFrom(from),
          (list) => list.length === 2 && list.every((r) => r.status === 'forwarded'),
        )
        assert.deepEqual(
          rows.map((r) => r.body),
          ['OK', 'OK'],
        )
        assert.equal(mailsFrom(from).length, 2)
      }
    })

    it('stores once an MO the SMSC redelivers after a 0x64 (store too slow)', async () => {
      const db = await startWorker({ moAckTimeoutMs: 300 })
      const from = nextMobile()
      const held = await db.transaction()
      let statuses: Promise<number[]>
      try {
        statuses = smsc.injectMo(
          { from, to: ACME_NUMBER, text: 'Je confirme', encoding: 'gsm7' },
          { redeliver: { afterMs: 800, attempts: 3 } },
        )
        await smsc.until(() => moResponses(from).length === 1)
        assert.equal(moResponses(from)[0].commandStatus, ESME_RX_T_APPN)
      } finally {
        // The stalled store goes on and commits after its late answer.
        await held.commit()
      }
      assert.deepEqual(await statuses, [0])
      assert.equal(moResponses(from).length, 2)
      await eventually(
        () => inboundFrom(from),
        (rows) => rows.length === 1 && rows[0].status === 'forwarded',
      )
      await sleep(300)
      assert.equal((await inboundFrom(from)).length, 1)
      assert.equal(mailsFrom(from).length, 1)
      assert.match((await inboundFrom(from))[0].dedupe_key, /^released:/)
    })

    it('stores once an MO whose session dropped before the answer, redelivered on the next', async () => {
      const db = await startWorker()
      const from = nextMobile()
      const sessionsBefore = smsc.binds
      const held = await db.transaction()
      let statuses: Promise<number[]>
      try {
        statuses = smsc.injectMo(
          { from, to: ACME_NUMBER, text: 'Coupé en route', encoding: 'gsm7' },
          { redeliver: { afterMs: 600, attempts: 5 } },
        )
        await sleep(200)
        assert.deepEqual(moResponses(from), [], 'answered while the store was stalled')
        smsc.dropSessions()
        await smsc.until(() => smsc.binds > sessionsBefore && smsc.activeSessions > 0)
      } finally {
        // Stored now, but its status 0 has no session left to go on.
        await held.commit()
      }
      assert.deepEqual(await statuses, [0])
      assert.equal(moResponses(from).length, 1, 'one answer: on the second session')
      await eventually(
        () => inboundFrom(from),
        (rows) => rows.length === 1 && rows[0].status === 'forwarded',
      )
      await sleep(300)
      assert.equal((await inboundFrom(from)).length, 1)
      assert.equal(mailsFrom(from).length, 1)
    })

    it('mails the same long text sent twice twice, each under its own reference', async () => {
      await startWorker()
      const from = nextMobile()
      const long = {
        from,
        to: ACME_NUMBER,
        text: 'Bonjour, je serai là demain à 9 h pour la livraison des colis. '.repeat(4).trim(),
        encoding: 'gsm7',
        split: { method: 'udh', parts: 2 },
      } as const
      assert.deepEqual(await smsc.injectMo(long), [0, 0])
      assert.deepEqual(await smsc.injectMo(long), [0, 0])
      const rows = await eventually(
        () => inboundFrom(from),
        (list) => list.length === 2 && list.every((r) => r.status === 'forwarded'),
      )
      assert.ok(rows.every((r) => r.body === long.text && Number(r.parts) === 2))
      assert.equal(mailsFrom(from).length, 2)
    })

    it('reads data_coding 0 as Latin-1 with default_alphabet=latin1', async () => {
      await startWorker({ smpp: { defaultAlphabet: 'latin1' } })
      const from = nextMobile()
      const text = 'Réponse déjà reçue, à très bientôt'
      assert.deepEqual(
        await smsc.injectMo({ from, to: ACME_NUMBER, text, encoding: 'latin1', dataCoding: 0 }),
        [0],
      )
      const [row] = await eventually(
        () => inboundFrom(from),
        (list) => list.length === 1 && list[0].status === 'forwarded',
      )
      assert.equal(row.body, text)
      assert.equal(row.encoding, 'latin1')
      assert.match(mailsFrom(from)[0].parsed.text ?? '', /Réponse déjà reçue, à très bientôt/)
    })
  })
}
