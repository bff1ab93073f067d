import assert from 'node:assert/strict'
import type { SmppConfig } from '../../lib/config'
import { createAccount } from '../../lib/db/accounts'
import { openDb, type Db } from '../../lib/db/connection'
import { setReceiving, startInboundWorker, type InboundWorker } from '../inbound/harness'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { CarrierSmsc } from '../support/smsc/carrier'
import { SmtpSink } from '../support/smtp-sink'
import { eventually, testSmppConfig } from '../worker/harness'

/** The account's virtual number, as the SMSC writes it (international, no '+'). */
const ACME_NUMBER = '33700000001'
const ESME_RX_T_APPN = 0x64
const LATIN1_TEXT = 'Réponse déjà reçue'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const kind of databaseKinds()) {
  describe(`MO through the worker from the carrier-like SMSC (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let smsc: CarrierSmsc
    let sink: SmtpSink
    let running: { worker: InboundWorker; db: Db } | null = null
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, {
        ref: 'acme',
        name: 'Acme',
        virtualNumber: `+${ACME_NUMBER}`,
      })
      await setReceiving(t.db, acme.id, { forwardAddresses: ['office@acme.example'] })
      sink = new SmtpSink()
      await sink.start()
    })

    beforeEach(async () => {
      smsc = await CarrierSmsc.start()
    })

    afterEach(async () => {
      if (running !== null) {
        const { worker, db } = running
        running = null
        await worker.stop()
        await db.destroy()
      }
      await smsc.close()
    })

    after(async () => {
      await sink?.stop()
      await t?.drop()
    })

    /**
     * The worker process (SMS out, MO in, mails out) on a database handle of its own with one
     * connection: a transaction the test holds on it stalls every store, as a slow database
     * would.
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
      await smsc.until(() => smsc.binds > binds && smsc.openSessions > 0)
      return db
    }

    /** E.164 digits of a phone no other test uses. */
    const nextPhone = () => `336${String(40_000_000 + (kind === 'sqlite' ? 0 : 5000) + ++n)}`
    const inboundFrom = (phone: string) => t.db('inbound_sms').where({ from_number: `+${phone}` })
    const mailsFrom = (phone: string) =>
      sink.mails.filter((m) => m.parsed.subject === `SMS de +${phone}`)
    const forwarded = (phone: string, count: number) =>
      eventually(
        () => inboundFrom(phone),
        (rows) => rows.length === count && rows.every((r) => r.status === 'forwarded'),
      )

    it('stores and mails "OK" sent twice within seconds twice', async () => {
      await startWorker()
      const phone = nextPhone()
      const ok = { from: phone, to: ACME_NUMBER, text: 'OK' }
      assert.deepEqual(await smsc.sendMo(ok), [0])
      assert.deepEqual(await smsc.sendMo(ok), [0])
      const rows = await forwarded(phone, 2)
      assert.deepEqual(
        rows.map((r) => r.body),
        ['OK', 'OK'],
      )
      await eventually(
        async () => mailsFrom(phone).length,
        (count) => count === 2,
      )
    })

    it('stores once an MO redelivered after a 0x64 answer (store too slow)', async () => {
      const db = await startWorker({ moAckTimeoutMs: 300 })
      const phone = nextPhone()
      const held = await db.transaction()
      try {
        const first = await smsc.sendMo({ from: phone, to: ACME_NUMBER, text: 'Je confirme' })
        assert.deepEqual(first, [ESME_RX_T_APPN])
      } finally {
        // The stalled store goes on and commits after its late answer.
        await held.commit()
      }
      await forwarded(phone, 1)
      assert.deepEqual(await smsc.redeliverLastMo(), [0])
      await sleep(300)
      const rows = await inboundFrom(phone)
      assert.equal(rows.length, 1)
      assert.equal(rows[0].body, 'Je confirme')
      assert.equal(mailsFrom(phone).length, 1)
    })

    it('stores once an MO whose session dropped before the answer, redelivered on the next', async () => {
      const db = await startWorker()
      const phone = nextPhone()
      const binds = smsc.binds
      const held = await db.transaction()
      try {
        const first = smsc.sendMo({ from: phone, to: ACME_NUMBER, text: 'Coupé en route' })
        await sleep(150)
        smsc.dropSessions()
        await assert.rejects(first, /session closed before the response/)
        await smsc.until(() => smsc.binds > binds && smsc.openSessions > 0)
      } finally {
        // Stored now, but its status 0 has no session left to go on.
        await held.commit()
      }
      await forwarded(phone, 1)
      assert.deepEqual(await smsc.redeliverLastMo(), [0])
      await sleep(300)
      assert.equal((await inboundFrom(phone)).length, 1)
      assert.equal(mailsFrom(phone).length, 1)
    })

    it('reads DCS 0 from a Latin-1 SMSC intact with default_alphabet=latin1', async () => {
      smsc.setQuirks({ defaultAlphabet: 'latin1' })
      await startWorker({ smpp: { defaultAlphabet: 'latin1' } })
      const phone = nextPhone()
      assert.deepEqual(await smsc.sendMo({ from: phone, to: ACME_NUMBER, text: LATIN1_TEXT }), [0])
      const [row] = await forwarded(phone, 1)
      assert.equal(row.body, LATIN1_TEXT)
      assert.equal(row.encoding, 'latin1')
      await eventually(
        async () => mailsFrom(phone).map((m) => m.parsed.text ?? ''),
        (texts) => texts.length === 1 && texts[0].includes(LATIN1_TEXT),
      )
    })

    it('garbles the same MO with default_alphabet=gsm: the setting is what reads it right', async () => {
      smsc.setQuirks({ defaultAlphabet: 'latin1' })
      await startWorker({ smpp: { defaultAlphabet: 'gsm' } })
      const phone = nextPhone()
      assert.deepEqual(await smsc.sendMo({ from: phone, to: ACME_NUMBER, text: LATIN1_TEXT }), [0])
      const [row] = await forwarded(phone, 1)
      assert.notEqual(row.body, LATIN1_TEXT)
      assert.notEqual(row.encoding, 'latin1')
      // The ASCII letters survive; the accented ones do not.
      assert.match(row.body, /^R.ponse d.j. re.ue$/u)
    })
  })
}
