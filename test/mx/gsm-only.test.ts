import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { setGsmOnly } from '../../lib/db/account-settings'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail, type SmtpReply } from '../support/smtp-client'
import { FRENCH_150, FRENCH_150_IN_GSM } from '../support/sms-texts'
import { seedSendingAccount } from '../support/accounts'

const SENDER = 'alice@acme.example'

function assertReply(reply: SmtpReply | null | undefined, code: number, phrase?: RegExp): void {
  assert.ok(reply, 'expected a reply')
  assert.equal(reply.code, code, `got ${reply.code} ${reply.text}`)
  if (phrase) assert.match(reply.text, phrase)
}

for (const kind of databaseKinds()) {
  describe(`MX: accounts that stay in GSM 03.38 (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx
    const ids: Record<string, number> = {}

    before(async () => {
      t = await createTestDatabase(kind)
      // "written" keeps the default (off); "gsm" opted in; "tight" opted in with a cap of 2.
      for (const [ref, gsmOnly, segmentCap] of [
        ['written', false, 4],
        ['gsm', true, 4],
        ['tight', true, 2],
      ] as const) {
        const { account } = await seedSendingAccount(t.db, { ref, segmentCap, gsmOnly }, [SENDER], {
          isDefault: ref === 'written',
        })
        ids[ref] = account.id
      }
      mx = await startMx({ database: t.config })
    })

    after(async () => {
      await mx?.stop()
      await t?.drop()
    })

    const send = (account: string, number: string, body: string) =>
      sendMail(mx.port, {
        from: SENDER,
        to: [`${number}+${account}@${SMS_DOMAIN}`],
        message: buildMessage({ from: SENDER, to: 'sms', body }),
      })
    const rowFor = async (recipient: string) => {
      const rows = await t.db('outbound_sms').where({ recipient })
      assert.equal(rows.length, 1, `one row for ${recipient}`)
      return rows[0]
    }

    it('is off for a new account: the text keeps ê and goes as 3 UCS-2 parts', async () => {
      const plain = await createAccount(t.db, { ref: 'plain', name: 'Plain' })
      assert.equal(plain.gsmOnly, false)
      assert.equal(
        Boolean((await t.db('accounts').where({ id: plain.id }).first()).gsm_only),
        false,
      )

      assertReply((await send('written', '0612340001', FRENCH_150)).data, 250, /queued/)
      const row = await rowFor('+33612340001')
      assert.equal(row.body, FRENCH_150)
      assert.equal(row.encoding, 'ucs2')
      assert.equal(Number(row.segments), 3)
    })

    it('sends the 150-character French text as one GSM-7 SMS when on', async () => {
      assertReply((await send('gsm', '0612340002', FRENCH_150)).data, 250, /queued/)
      const row = await rowFor('+33612340002')
      assert.equal(row.body, FRENCH_150_IN_GSM)
      assert.equal(row.encoding, 'gsm7')
      assert.equal(Number(row.segments), 1)
      assert.equal(Number(row.account_id), ids.gsm)
    })

    it('checks the segment cap against the folded text', async () => {
      // 3 SMS as written, over the cap of 2; 1 SMS in GSM, within it.
      assertReply((await send('tight', '0612340003', FRENCH_150)).data, 250, /queued/)
      const row = await rowFor('+33612340003')
      assert.equal(row.encoding, 'gsm7')
      assert.equal(Number(row.segments), 1)
    })

    it('keeps an emoji or Cyrillic text UCS-2 and as written, ê included', async () => {
      const emoji = 'Votre fenêtre est prête 👍'
      assertReply((await send('gsm', '0612340004', emoji)).data, 250, /queued/)
      const withEmoji = await rowFor('+33612340004')
      assert.equal(withEmoji.body, emoji)
      assert.equal(withEmoji.encoding, 'ucs2')

      const cyrillic = 'Ваш заказ готов, ça arrive'
      assertReply((await send('gsm', '0612340005', cyrillic)).data, 250, /queued/)
      const inCyrillic = await rowFor('+33612340005')
      assert.equal(inCyrillic.body, cyrillic)
      assert.equal(inCyrillic.encoding, 'ucs2')
    })

    it('names the character without GSM equivalent when such a text is over the cap', async () => {
      const long = `${FRENCH_150} 👍`
      const r = await send('tight', '0612340006', long)
      // The emoji, not the ê, is what keeps the SMS in UCS-2 for this account.
      assertReply(r.data, 550, /needs 3 SMS .*the character U\+1F44D forces UCS-2/)
      assert.equal((await t.db('outbound_sms').where({ recipient: '+33612340006' })).length, 0)
    })

    it('applies a change of the setting to the next mail', async () => {
      await setGsmOnly(t.db, ids.written, true)
      try {
        assertReply((await send('written', '0612340007', FRENCH_150)).data, 250, /queued/)
        const row = await rowFor('+33612340007')
        assert.equal(row.body, FRENCH_150_IN_GSM)
        assert.equal(row.encoding, 'gsm7')
      } finally {
        await setGsmOnly(t.db, ids.written, false)
      }
      assertReply((await send('written', '0612340008', FRENCH_150)).data, 250, /queued/)
      assert.equal((await rowFor('+33612340008')).encoding, 'ucs2')
    })
  })
}
