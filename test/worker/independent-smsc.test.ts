import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { insertEmails } from '../../lib/db/outbound'
import { encodeGsm7 } from '../../lib/sms/gsm7'
import { encodeUcs2 } from '../../lib/sms/ucs2'
import type { SmsWorker } from '../../lib/worker/worker'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startNetSmppSmsc, type NetSmppSmsc } from '../support/smsc/net-smpp'
import { eventually, startTestWorker, testSmppConfig } from './harness'

/** Our worker against an SMSC written with Net::SMPP (Perl), an implementation not our own. */
describe('worker against an independent SMSC (Net::SMPP)', function () {
  this.timeout(60_000)
  let t: TestDatabase
  let smsc: NetSmppSmsc
  let worker: SmsWorker
  let accountId: number

  before(async () => {
    t = await createTestDatabase('sqlite')
    accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })).id
    smsc = await startNetSmppSmsc({ systemId: 'mail2sms', password: 'secret' })
    worker = startTestWorker(t.db, testSmppConfig(smsc.port))
  })

  after(async () => {
    await worker?.stop(1000)
    await smsc?.close()
    await t?.drop()
  })

  async function queue(
    recipient: string,
    body: string,
    encoding: 'gsm7' | 'ucs2',
  ): Promise<number> {
    const [r] = await insertEmails(t.db, [
      [
        {
          accountId,
          senderId: null,
          senderEmail: 'alice@acme.example',
          recipient,
          body,
          encoding,
          segments: 1,
          sourceMessageId: null,
          dedupeKey: `k-${recipient}`,
          mxTransaction: `txn-${recipient}`,
          timeZone: 'UTC',
        },
      ],
    ])
    return r.ids[0]
  }

  it('submits GSM-7 and UCS-2 bytes it accepts, and records its decimal-id receipts', async () => {
    const gsm = await queue('+33612000001', 'Hello {all} 5€', 'gsm7')
    const ucs = await queue('+33612000002', 'Réunion à 15h, ça coûte peu', 'ucs2')
    const rows = await eventually(
      () => t.db('outbound_sms').whereIn('id', [gsm, ucs]).orderBy('id'),
      (rs) => rs.every((r) => r.status === 'delivered'),
    )
    assert.equal(rows.length, 2)
    const byDest = new Map(smsc.submits.map((s) => [s.destination_addr, s]))
    const first = byDest.get('33612000001')!
    assert.equal(first.data_coding, 0)
    assert.equal(first.short_message_hex, encodeGsm7('Hello {all} 5€').toString('hex'))
    assert.equal(first.source_addr, 'Acme')
    assert.equal(first.source_addr_ton, 5)
    const second = byDest.get('33612000002')!
    assert.equal(second.data_coding, 8)
    assert.equal(
      second.short_message_hex,
      encodeUcs2('Réunion à 15h, ça coûte peu').toString('hex'),
    )
    const parts = await t.db('outbound_sms_parts').whereIn('sms_id', [gsm, ucs])
    assert.deepEqual(parts.map((p) => p.smsc_message_id).sort(), [first.id, second.id].sort())
  })
})
