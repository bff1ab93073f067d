import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { MoReceiver } from '../../../lib/inbound/receiver'
import type { MoMessage } from '../../../lib/smpp/client'
import { encodeGsm7 } from '../../../lib/sms/gsm7'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'
import { eventually } from '../../worker/harness'

const mo = (text: string, extra: Partial<MoMessage> = {}): MoMessage => ({
  from: '33612345678',
  fromTon: 1,
  to: '33700000001',
  toTon: 1,
  dataCoding: 0,
  esmClass: 0,
  shortMessage: encodeGsm7(text),
  tlvs: new Map(),
  ...extra,
})

for (const kind of databaseKinds()) {
  describe(`lib/inbound/receiver (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase

    before(async () => {
      t = await createTestDatabase(kind)
      await createAccount(t.db, { ref: 'acme', name: 'Acme', virtualNumber: '+33700000001' })
    })

    after(() => t?.drop())

    it('keeps retrying an SMS the database refused, and stores it once it is back', async () => {
      const lines: string[] = []
      const receiver = new MoReceiver({
        db: t.db,
        log: (l) => lines.push(l),
        retryInitialMs: 20,
        retryMaxMs: 50,
      })
      receiver.start()
      await t.db.schema.renameTable('inbound_sms', 'inbound_sms_away')
      try {
        receiver.receive(mo('pendant la panne'))
        await eventually(
          async () => receiver.stats.retried,
          (n) => n >= 2,
        )
      } finally {
        await t.db.schema.renameTable('inbound_sms_away', 'inbound_sms')
      }
      const rows = await eventually(
        () => t.db('inbound_sms').where({ body: 'pendant la panne' }),
        (r) => r.length === 1,
      )
      assert.equal(rows[0].status, 'received')
      assert.ok(lines.some((l) => /inbound store failed from=33612345678 .* retry in/.test(l)))
      await receiver.stop(500)
      assert.equal(receiver.stats.stored, 1)
    })

    it('stores a long SMS whose parts came before a restart when the last one comes after', async () => {
      const part = (seq: number, text: string) =>
        mo(text, {
          esmClass: 0x40,
          shortMessage: Buffer.concat([Buffer.from([5, 0, 3, 0x33, 2, seq]), encodeGsm7(text)]),
        })
      const first = new MoReceiver({ db: t.db })
      first.start()
      first.receive(part(1, 'avant '))
      await eventually(
        async () => first.stats.stored,
        (n) => n === 1,
      )
      await first.stop()
      const second = new MoReceiver({ db: t.db })
      second.start()
      second.receive(part(2, 'et après'))
      await eventually(
        () => t.db('inbound_sms').where({ body: 'avant et après' }),
        (r) => r.length === 1,
      )
      await second.stop()
    })

    it('says which SMS it could not store before stopping', async () => {
      const lines: string[] = []
      const receiver = new MoReceiver({ db: t.db, log: (l) => lines.push(l), retryInitialMs: 20 })
      await t.db.schema.renameTable('inbound_sms', 'inbound_sms_away')
      try {
        receiver.receive(mo('perdu', { from: '33699999999' }))
        await eventually(
          async () => receiver.stats.retried,
          (n) => n >= 1,
        )
        await receiver.stop(200)
      } finally {
        await t.db.schema.renameTable('inbound_sms_away', 'inbound_sms')
      }
      const lost = lines.find((l) => l.startsWith('inbound LOST from=33699999999'))
      assert.ok(lost)
      const logged = JSON.parse(lost.slice(lost.indexOf('mo=') + 3))
      assert.equal(logged.shortMessage, encodeGsm7('perdu').toString('hex'))
      assert.equal(logged.dataCoding, 0)
    })

    it('goes on retrying while stopping, and stores an SMS the database takes within the grace', async () => {
      const lines: string[] = []
      const receiver = new MoReceiver({ db: t.db, log: (l) => lines.push(l), retryInitialMs: 20 })
      await t.db.schema.renameTable('inbound_sms', 'inbound_sms_away')
      let stopping: Promise<void>
      try {
        receiver.receive(mo('sauvé pendant la panne', { from: '33688888888' }))
        await eventually(
          async () => receiver.stats.retried,
          (n) => n >= 1,
        )
        stopping = receiver.stop(3000)
        await new Promise((r) => setTimeout(r, 400))
      } finally {
        await t.db.schema.renameTable('inbound_sms_away', 'inbound_sms')
      }
      await stopping
      assert.equal(receiver.stats.stored, 1)
      assert.equal((await t.db('inbound_sms').where({ body: 'sauvé pendant la panne' })).length, 1)
      assert.ok(!lines.some((l) => l.startsWith('inbound LOST')))
    })
  })
}
