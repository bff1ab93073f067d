import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { createAccount } from '../../../lib/db/accounts'
import { releaseInboundKey, releasedKey } from '../../../lib/db/inbound'
import { isOptedOut } from '../../../lib/db/opt-outs'
import { readCacheVersion } from '../../../lib/db/versions'
import {
  DEDUPE_WINDOW_MS,
  normaliseAddress,
  receiveInboundSms,
  type InboundSmsInput,
} from '../../../lib/inbound/intake'
import { MO_KEY_HOLD_MS } from '../../../lib/inbound/redelivery'
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

  it('leaves a short code or an all-digit sender name as it is, not some foreign number', () => {
    assert.equal(normaliseAddress('36180', 0, 'FR'), '36180')
    assert.equal(normaliseAddress('36180', 1), '36180')
    assert.equal(normaliseAddress('38200', 6, 'FR'), '38200')
    assert.equal(normaliseAddress('33612345678', 5), '33612345678')
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

    it('stores a redelivery once when a dedupe bucket boundary falls between the two', async () => {
      const boundary = (Math.floor(clock / DEDUPE_WINDOW_MS) + 5) * DEDUPE_WINDOW_MS
      clock = boundary + DEDUPE_WINDOW_MS * 3
      const first = await receiveInboundSms(
        t.db,
        sms({ text: 'across the boundary', receivedAt: boundary - 1000 }),
      )
      const again = await receiveInboundSms(
        t.db,
        sms({ text: 'across the boundary', receivedAt: boundary + 1000 }),
      )
      assert.equal(again.id, first.id)
      const muchLater = await receiveInboundSms(
        t.db,
        sms({ text: 'across the boundary', receivedAt: boundary + DEDUPE_WINDOW_MS + 2000 }),
      )
      assert.notEqual(muchLater.id, first.id, 'outside the window it is a new SMS')
    })

    it('gives a webhook SMS to the authenticated account, even if another has its number', async () => {
      const first = await createAccount(t.db, {
        ref: 'twin-a',
        name: 'Twin A',
        virtualNumber: '+33700000077',
      })
      // Accounts are now refused a number another has; rows from before that check may share one.
      const second = await createAccount(t.db, { ref: 'twin-b', name: 'Twin B' })
      await t.db('accounts').where({ id: second.id }).update({ virtual_number: '+33700000077' })
      const result = await receiveInboundSms(
        t.db,
        sms({ to: '+33700000077', source: 'webhook', text: 'pour B', accountId: second.id }),
      )
      assert.equal(result.accountId, second.id)
      assert.notEqual(result.accountId, first.id)
      const inactive = await receiveInboundSms(
        t.db,
        sms({ to: '+33700000001', source: 'webhook', text: 'not B', accountId: second.id }),
      )
      assert.equal(inactive.status, 'unrouted', "another account's number is not B's")
      const fromA = await receiveInboundSms(
        t.db,
        sms({ to: '+33700000077', source: 'webhook', carrierId: 'same-id', accountId: first.id }),
      )
      const fromB = await receiveInboundSms(
        t.db,
        sms({ to: '+33700000077', source: 'webhook', carrierId: 'same-id', accountId: second.id }),
      )
      assert.notEqual(fromB.id, fromA.id, "B's SMS is not taken for a redelivery of A's")
      assert.equal(fromA.accountId, first.id)
      assert.equal(fromB.accountId, second.id)
    })

    it('stores the same words sent again later as a new SMS', async () => {
      const first = await receiveInboundSms(t.db, sms({ text: 'ok' }))
      const later = await receiveInboundSms(t.db, sms({ text: 'ok' }))
      assert.notEqual(later.id, first.id)
    })

    it('takes an SMPP delivery for a redelivery only while its key is held', async () => {
      const held = sms({ text: 'ok', heldKey: 'k'.repeat(64) })
      const first = await receiveInboundSms(t.db, held)
      assert.equal(first.heldKey, held.heldKey)
      const again = await receiveInboundSms(t.db, { ...held, receivedAt: held.receivedAt + 1000 })
      assert.equal(again.id, first.id, 'the SMSC did not have our acknowledgement: same SMS')
      assert.equal(await releaseInboundKey(t.db, first.id, held.heldKey!), true)
      assert.equal((await row(first.id)).dedupe_key, releasedKey(first.id))
      const next = await receiveInboundSms(t.db, { ...held, receivedAt: held.receivedAt + 2000 })
      assert.notEqual(next.id, first.id, 'acknowledged: the same words again are a new SMS')
      const dayLater = await receiveInboundSms(t.db, {
        ...held,
        receivedAt: held.receivedAt + 2000 + MO_KEY_HOLD_MS,
      })
      assert.notEqual(dayLater.id, next.id, 'a key held a day is no longer a redelivery')
      assert.equal((await row(next.id)).dedupe_key, releasedKey(next.id))
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

    if (kind === 'sqlite') {
      it('acts on START when another process writes between its read and its delete', async () => {
        await receiveInboundSms(t.db, sms({ from: '33622222222', text: 'STOP' }))
        assert.equal(await isOptedOut(t.db, acme, '+33622222222'), true)
        const other = new Database(t.config.sqliteFile)
        let armed = true
        const writeFromElsewhere = (_response: unknown, query: { sql: string }) => {
          if (armed && /from `opt_outs` where/.test(query.sql)) {
            armed = false
            try {
              other.exec("update cache_versions set version = version + 1 where name = 'directory'")
            } catch (err) {
              // Refused while this transaction holds the lock: another process would wait.
              assert.match((err as Error).message, /database is locked/)
            }
          }
        }
        t.db.on('query-response', writeFromElsewhere)
        try {
          const start = await receiveInboundSms(t.db, sms({ from: '33622222222', text: 'START' }))
          assert.equal(armed, false, 'the other process tried to write')
          assert.equal(start.status, 'opt_in')
          assert.equal(await isOptedOut(t.db, acme, '+33622222222'), false)
        } finally {
          t.db.off('query-response', writeFromElsewhere)
          other.close()
        }
      })
    }

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
