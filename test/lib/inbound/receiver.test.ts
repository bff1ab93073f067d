import assert from 'node:assert/strict'
import { openDb, type Db } from '../../../lib/db/connection'
import { createAccount } from '../../../lib/db/accounts'
import { MoReceiver } from '../../../lib/inbound/receiver'
import type { MoMessage } from '../../../lib/smpp/client'
import { encodeGsm7 } from '../../../lib/sms/gsm7'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const mo = (text: string, extra: Partial<MoMessage> = {}): MoMessage => ({
  from: '33612345678',
  fromTon: 1,
  to: '33700000001',
  toTon: 1,
  dataCoding: 0,
  esmClass: 0,
  shortMessage: encodeGsm7(text),
  tlvs: new Map(),
  acknowledged: Promise.resolve(true),
  ...extra,
})

const part = (ref: number, seq: number, text: string, from = '33612345678') =>
  mo(text, {
    from,
    esmClass: 0x40,
    shortMessage: Buffer.concat([Buffer.from([5, 0, 3, ref, 2, seq]), encodeGsm7(text)]),
  })

for (const kind of databaseKinds()) {
  describe(`lib/inbound/receiver (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    /** The receiver's own handle on the database, closed to play a database outage. */
    let own: Db

    before(async () => {
      t = await createTestDatabase(kind)
      await createAccount(t.db, { ref: 'acme', name: 'Acme', virtualNumber: '+33700000001' })
    })

    beforeEach(() => {
      own = openDb(t.config)
    })

    afterEach(() => own.destroy())

    after(() => t?.drop())

    it('resolves true once the SMS is committed', async () => {
      const receiver = new MoReceiver({ db: own })
      receiver.start()
      const stored = await receiver.receive(mo('bien arrivé'))
      assert.equal(stored, true)
      // Read on another connection: the row is there as soon as the promise resolves.
      assert.equal((await t.db('inbound_sms').where({ body: 'bien arrivé' })).length, 1)
      await receiver.stop()
      assert.deepEqual(receiver.stats, { received: 1, stored: 1, failed: 0, refused: 0 })
    })

    it('resolves false while the database is unreachable, and stores the redelivery once', async () => {
      const lines: string[] = []
      const receiver = new MoReceiver({ db: own, log: (l) => lines.push(l) })
      await own.destroy()
      receiver.start()
      assert.equal(await receiver.receive(mo('pendant la panne')), false)
      assert.ok(lines.some((l) => /inbound store failed from=33612345678 .*redeliver/.test(l)))
      own.initialize()
      assert.equal(await receiver.receive(mo('pendant la panne')), true)
      assert.equal((await t.db('inbound_sms').where({ body: 'pendant la panne' })).length, 1)
      await receiver.stop()
      assert.equal(receiver.stats.failed, 1)
      assert.equal(receiver.stats.stored, 1)
    })

    it('refuses what comes once it is stopping, storing nothing', async () => {
      const receiver = new MoReceiver({ db: own })
      receiver.start()
      await receiver.stop()
      assert.equal(await receiver.receive(mo('trop tard')), false)
      assert.equal((await t.db('inbound_sms').where({ body: 'trop tard' })).length, 0)
      assert.equal(receiver.stats.refused, 1)
    })

    it('waits, when stopping, for the SMS being stored', async () => {
      const receiver = new MoReceiver({ db: own })
      receiver.start()
      const storing = receiver.receive(mo('juste à temps', { from: '33688888888' }))
      await receiver.stop(5000)
      assert.equal(receiver.stats.stored, 1)
      assert.equal(await storing, true)
    })

    it('stores a part received twice (same octets) once', async () => {
      const receiver = new MoReceiver({ db: own })
      receiver.start()
      assert.equal(await receiver.receive(part(0x44, 1, 'deux fois ')), true)
      assert.equal(await receiver.receive(part(0x44, 1, 'deux fois ')), true)
      const mine = await t.db('inbound_sms_parts').where({ from_addr: '33612345678', ref: 0x44 })
      assert.equal(mine.length, 1)
      assert.equal(await receiver.receive(part(0x44, 2, 'puis la fin')), true)
      const rows = await t.db('inbound_sms').where({ body: 'deux fois puis la fin' })
      assert.equal(rows.length, 1)
      await receiver.stop()
    })

    it('stores a long SMS whose parts came before a restart when the last one comes after', async () => {
      const first = new MoReceiver({ db: own })
      first.start()
      assert.equal(await first.receive(part(0x33, 1, 'avant ')), true)
      await first.stop()
      const second = new MoReceiver({ db: own })
      second.start()
      assert.equal(await second.receive(part(0x33, 2, 'et après')), true)
      assert.equal((await t.db('inbound_sms').where({ body: 'avant et après' })).length, 1)
      await second.stop()
    })
  })
}
