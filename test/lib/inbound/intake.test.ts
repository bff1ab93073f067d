import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { isOptedOut } from '../../../lib/db/opt-outs'
import { readCacheVersion } from '../../../lib/db/versions'
import {
  DEDUPE_WINDOW_MS,
  normaliseAddress,
  receiveInboundSms,
  type InboundSmsInput,
} from '../../../lib/inbound/intake'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

describe('lib/inbound/intake normaliseAddress', () => {
  it('reads international digits with or without + or 00', () => {
    assert.equal(normaliseAddress('33612345678', 1), '+33612345678')
    assert.equal(normaliseAddress('33612345678'), '+33612345678')
    assert.equal(normaliseAddress('+33 6 12 34 56 78'), '+33612345678')
    assert.equal(normaliseAddress('0033612345678', 0), '+33612345678')
  })

  it('reads national digits with the country given', () => {
    assert.equal(normaliseAddress('0612345678', 0, 'FR'), '+33612345678')
    assert.equal(normaliseAddress('612345678', 2, 'FR'), '+33612345678')
    assert.equal(normaliseAddress('07700900123', undefined, 'GB'), '+447700900123')
  })

  it('leaves an alphanumeric sender as it is', () => {
    assert.equal(normaliseAddress('Acme Bank', 5), 'Acme Bank')
  })
})

for (const kind of databaseKinds()) {
  describe(`lib/inbound/intake receiveInboundSms (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let clock = Date.UTC(2026, 10, 27, 12, 0, 0)
    const lines: string[] = []
    const log = (line: string) => lines.push(line)

    const sms = (fields: Partial<InboundSmsInput>): InboundSmsInput => ({
      from: '33612345678',
      fromTon: 1,
      to: '33700000001',
      toTon: 1,
      text: 'Bonjour',
      encoding: 'gsm7',
      parts: 1,
      source: 'smpp',
      receivedAt: (clock += DEDUPE_WINDOW_MS * 3),
      ...fields,
    })
    const row = async (id: number) => t.db('inbound_sms').where({ id }).first()

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (
        await createAccount(t.db, { ref: 'acme', name: 'Acme', virtualNumber: '+33700000001' })
      ).id
      await createAccount(t.db, { ref: 'other', name: 'Other', virtualNumber: '+33700000002' })
    })

    after(() => t?.drop())

    it('routes by virtual number and stores E.164 numbers, due for the dispatcher', async () => {
      const input = sms({ text: 'Rappelez-moi' })
      const result = await receiveInboundSms(t.db, input, log)
      assert.deepEqual(result, { id: result.id, status: 'received', accountId: acme })
      const stored = await row(result.id)
      assert.equal(stored.from_number, '+33612345678')
      assert.equal(stored.to_number, '+33700000001')
      assert.equal(stored.body, 'Rappelez-moi')
      assert.equal(stored.status, 'received')
      assert.equal(Number(stored.next_attempt_at), input.receivedAt)
      assert.equal(Number(stored.account_id), acme)
    })

    it('routes a national destination number through the account country', async () => {
      const result = await receiveInboundSms(
        t.db,
        sms({ to: '0700000001', toTon: 2, from: '0612345678', fromTon: 2, text: 'national' }),
      )
      assert.equal(result.accountId, acme)
      assert.equal((await row(result.id)).from_number, '+33612345678')
    })

    it('stores an SMS to an unknown number as unrouted, never due, and logs it', async () => {
      lines.length = 0
      const result = await receiveInboundSms(t.db, sms({ to: '33700000099' }), log)
      assert.equal(result.status, 'unrouted')
      assert.equal(result.accountId, null)
      const stored = await row(result.id)
      assert.equal(stored.account_id, null)
      assert.equal(stored.next_attempt_at, null)
      assert.match(lines.join('\n'), /to=\+33700000099 account=none/)
    })

    it('stores a redelivery of the same SMS once', async () => {
      const input = sms({ text: 'redelivered' })
      const first = await receiveInboundSms(t.db, input)
      const again = await receiveInboundSms(t.db, { ...input, receivedAt: input.receivedAt + 5 })
      assert.equal(again.id, first.id)
      const together = sms({ text: 'at once' })
      const both = await Promise.all([
        receiveInboundSms(t.db, together),
        receiveInboundSms(t.db, together),
      ])
      assert.equal(both[0].id, both[1].id)
      assert.equal(
        await t
          .db('inbound_sms')
          .where({ body: 'at once' })
          .count({ n: '*' })
          .first()
          .then((r) => Number(r?.n)),
        1,
      )
    })

    it('stores the same words sent again later as a new SMS', async () => {
      const first = await receiveInboundSms(t.db, sms({ text: 'ok' }))
      const later = await receiveInboundSms(t.db, sms({ text: 'ok' }))
      assert.notEqual(later.id, first.id)
    })

    it('dedupes on the carrier id when there is one', async () => {
      const first = await receiveInboundSms(t.db, sms({ carrierId: 'abc-1', source: 'webhook' }))
      const again = await receiveInboundSms(
        t.db,
        sms({ carrierId: 'abc-1', source: 'webhook', text: 'other text' }),
      )
      assert.equal(again.id, first.id)
    })

    it('records STOP as an opt-out, not mailed, and START removes it', async () => {
      const version = await readCacheVersion(t.db, 'directory')
      const stop = await receiveInboundSms(t.db, sms({ from: '33611111111', text: 'Arrêt !' }))
      assert.equal(stop.status, 'opt_out')
      assert.equal((await row(stop.id)).next_attempt_at, null)
      assert.equal(await isOptedOut(t.db, acme, '+33611111111'), true)
      assert.ok((await readCacheVersion(t.db, 'directory')) > version)
      const start = await receiveInboundSms(t.db, sms({ from: '33611111111', text: 'start' }))
      assert.equal(start.status, 'opt_in')
      assert.equal(await isOptedOut(t.db, acme, '+33611111111'), false)
    })

    it('forwards a sentence that contains stop, and START from a number still opted in', async () => {
      const sentence = await receiveInboundSms(
        t.db,
        sms({ from: '33622222222', text: 'stop calling me at 6pm' }),
      )
      assert.equal(sentence.status, 'received')
      assert.equal(await isOptedOut(t.db, acme, '+33622222222'), false)
      const yes = await receiveInboundSms(t.db, sms({ from: '33622222222', text: 'Yes' }))
      assert.equal(yes.status, 'received')
    })

    it('does not record an opt-out for a number no account owns', async () => {
      const result = await receiveInboundSms(t.db, sms({ to: '33700000098', text: 'STOP' }))
      assert.equal(result.status, 'unrouted')
      assert.equal(await t.db('opt_outs').where({ number: '+33612345678' }).first(), undefined)
    })
  })
}
