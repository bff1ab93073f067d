import assert from 'node:assert/strict'
import { insertEmails, legacyDedupeKeyFor } from '../../lib/db/outbound'
import { parseEmail } from '../../lib/mail/parse'
import { retryIdentity } from '../../lib/mx/message'
import { seedSendingAccount } from '../support/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail } from '../support/smtp-client'

const SENDER = 'alice@acme.example'
const HOUR = 3_600_000

/**
 * A sending MTA that retries across the upgrade to time-ordered dedupe keys: the SMS the
 * previous version stored under its legacy key is found, and not sent twice.
 */
for (const kind of databaseKinds()) {
  describe(`MX: retries across the dedupe key upgrade (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx
    let accountId: number
    const upgradedAt = Date.now() - HOUR

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await seedSendingAccount(t.db, { ref: 'acme' }, [SENDER])).account.id
      await t.db('format_changes').update({ changed_at: upgradedAt })
      // With limits, so that the spend check's read of stored SMS is on the path too.
      mx = await startMx({ database: t.config, limits: { loop_max_repeats: 5 } })
    })

    after(async () => {
      await mx?.stop()
      await t?.drop()
    })

    const send = (message: string, number: string) =>
      sendMail(mx.port, { from: SENDER, to: [`${number}@${SMS_DOMAIN}`], message })
    const rowsTo = (e164: string) => t.db('outbound_sms').where({ recipient: e164 })

    it('answers a retry of an email stored under a legacy key with its SMS, and sends none', async () => {
      const message = buildMessage({
        from: SENDER,
        to: 'x',
        body: 'Stored by the previous version',
        messageId: '<before-upgrade@client.example.net>',
        date: new Date(upgradedAt - 2 * HOUR).toUTCString(),
      })
      // What the previous version stored: its key was the plain sha256 of the same identity.
      const source = retryIdentity(await parseEmail(Buffer.from(message)), SENDER, 'old').source
      const [stored] = await insertEmails(t.db, [
        [
          {
            accountId,
            senderId: null,
            senderEmail: SENDER,
            recipient: '+33612345690',
            body: 'Stored by the previous version',
            encoding: 'gsm7',
            segments: 1,
            sourceMessageId: '<before-upgrade@client.example.net>',
            dedupeKey: legacyDedupeKeyFor(source, '+33612345690'),
            mxTransaction: 'old',
            timeZone: 'UTC',
          },
        ],
      ])
      const retry = await send(message, '0612345690')
      assert.equal(retry.data?.code, 250, retry.data?.text)
      assert.match(retry.data!.text, new RegExp(`already queued as SMS ${stored.ids[0]}\\b`))
      assert.equal((await rowsTo('+33612345690')).length, 1)
    })

    it('answers a retry of an email stored under its new key with its SMS, and sends none', async () => {
      const written = upgradedAt + 2 * 86_400_000
      const message = buildMessage({
        from: SENDER,
        to: 'x',
        body: 'Stored by this version',
        messageId: '<after-upgrade@client.example.net>',
        date: new Date(written).toUTCString(),
      })
      const first = await send(message, '0612345691')
      assert.match(first.data!.text, /^queued as SMS \d+/)
      const [row] = await rowsTo('+33612345691')
      // The key begins with the minute of the email's Date header.
      assert.equal(
        row.dedupe_key.slice(0, 8),
        Math.floor(written / 60_000)
          .toString(16)
          .padStart(8, '0'),
      )
      const retry = await send(message, '0612345691')
      assert.match(retry.data!.text, new RegExp(`already queued as SMS ${row.id}\\b`))
      assert.equal((await rowsTo('+33612345691')).length, 1)
    })
  })
}
