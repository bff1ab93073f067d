import assert from 'node:assert/strict'
import type { SmscAlphabet } from '../../lib/sms'
import type { SmsWorker } from '../../lib/worker/worker'
import { dedupeKeyFor, insertEmails } from '../../lib/db/outbound'
import { seedSendingAccount, type SendingAccount } from '../support/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { CarrierSmsc, decodeUserData } from '../support/smsc/carrier'
import { encodeGsm7 } from '../support/smsc/gsm7'
import { eventually, startTestWorker, testSmppConfig } from '../worker/harness'

/** GSM-7 text (é and à are in GSM 03.38) that Latin-1 writes with other octets. */
const ACCENTED = 'Réponse déjà notée à 10h'
/** GSM-7 too, but € is not in Latin-1: with a Latin-1 SMSC it must go as UCS-2. */
const WITH_EURO = 'Réponse déjà notée, 5€'

for (const kind of databaseKinds()) {
  describe(`outbound text for an SMSC whose default alphabet is Latin-1 (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let sending: SendingAccount
    let smsc: CarrierSmsc | null = null
    let worker: SmsWorker | null = null
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      sending = await seedSendingAccount(t.db, { ref: `alphabet-${kind}` }, ['a@alphabet.example'])
    })

    afterEach(async () => {
      await worker?.stop(500)
      worker = null
      await smsc?.close()
      smsc = null
    })

    after(() => t?.drop())

    /** Sends the texts through a worker set to `alphabet`; resolves once all are delivered. */
    async function send(alphabet: SmscAlphabet, texts: string[]): Promise<CarrierSmsc> {
      const carrier = await CarrierSmsc.start({
        quirks: { defaultAlphabet: 'latin1' },
        firstMessageId: 4_000_000_000 + ++n * 1_000_000,
      })
      smsc = carrier
      const emails = texts.map((body, i) => {
        const recipient = `+3362${kind === 'sqlite' ? 1 : 2}${n}0000${i}`
        return [
          {
            accountId: sending.account.id,
            senderId: sending.senders[0].id,
            senderEmail: sending.senders[0].email,
            recipient,
            body,
            encoding: 'gsm7' as const,
            segments: 1,
            sourceMessageId: null,
            dedupeKey: dedupeKeyFor(`${alphabet}.${body}`, recipient, null),
            mxTransaction: `alphabet.${kind}.${n}.${i}`,
            timeZone: 'UTC',
          },
        ]
      })
      const ids = (await insertEmails(t.db, emails)).flatMap((r) => r.ids)
      worker = startTestWorker(t.db, testSmppConfig(carrier.port, { defaultAlphabet: alphabet }))
      await eventually(
        async () => (await t.db('outbound_sms').whereIn('id', ids)).map((r) => r.status),
        (list) => list.length === ids.length && list.every((s) => s === 'delivered'),
      )
      return carrier
    }

    /** What the SMSC took for the submit it reads as `text`: its data_coding and octets. */
    function submitted(carrier: CarrierSmsc, text: string): { dataCoding: number; hex: string } {
      const alphabet = carrier.quirks.defaultAlphabet
      const s = carrier
        .accepted()
        .find((a) => decodeUserData(a.dataCoding, a.payload, alphabet) === text)
      assert.ok(s, `no submit reads ${JSON.stringify(text)}`)
      return { dataCoding: s.dataCoding, hex: s.payload.toString('hex') }
    }

    it('default_alphabet=latin1: the handset gets the text as written', async () => {
      const carrier = await send('latin1', [ACCENTED, WITH_EURO])
      assert.deepEqual(
        carrier
          .messages()
          .map((m) => m.text)
          .sort(),
        [ACCENTED, WITH_EURO].sort(),
      )
      assert.deepEqual(submitted(carrier, ACCENTED), {
        dataCoding: 0,
        hex: Buffer.from(ACCENTED, 'latin1').toString('hex'),
      })
      assert.deepEqual(submitted(carrier, WITH_EURO), {
        dataCoding: 8,
        hex: Buffer.from(WITH_EURO, 'utf16le').swap16().toString('hex'),
      })
    })

    it('default_alphabet=gsm: the same SMSC gets GSM octets and misreads them', async () => {
      const carrier = await send('gsm', [ACCENTED])
      const [message] = carrier.messages()
      assert.equal(carrier.accepted()[0].dataCoding, 0)
      assert.deepEqual(carrier.accepted()[0].payload, encodeGsm7(ACCENTED))
      // é is GSM 0x05 and à 0x7F: control characters and DEL in Latin-1.
      assert.notEqual(message.text, ACCENTED)
      assert.equal(message.text, 'R\u0005ponse d\u0005j\u007f not\u0005e \u007f 10h')
    })
  })
}
