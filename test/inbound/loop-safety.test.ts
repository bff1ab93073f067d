import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { addSender } from '../../lib/db/senders'
import { createMailer, type Mailer } from '../../lib/mail/mailer'
import { composeFailureNotice } from '../../lib/notices/failure-notice'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail, type SmtpReply } from '../support/smtp-client'
import { SmtpSink } from '../support/smtp-sink'

const SENDER = 'alice@acme.example'

/**
 * No mail loop between the gateway and the people it writes to: everything it sends says it is
 * automatic, and the MX refuses automatic mail, so a notice or forward that comes back (an
 * autoresponder, a forwarding rule, a bounce) never becomes an SMS that fails and sends
 * another notice.
 */
for (const kind of databaseKinds()) {
  describe(`loop safety: automatic mail back into the MX (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx
    let sink: SmtpSink
    let mailer: Mailer
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, {
        ref: 'acme',
        name: 'Acme',
        senderName: 'Acme',
        virtualNumber: '+33700000001',
      })
      await addSender(t.db, acme.id, SENDER, { status: 'accepted', isDefault: true })
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      sink = new SmtpSink()
      await sink.start()
      mailer = createMailer(sink.mailerConfig(`Mail2SMS <mail2sms@${SMS_DOMAIN}>`))
      mx = await startMx({ database: t.config })
    })

    after(async () => {
      await mailer?.close()
      await sink?.stop()
      await mx?.stop()
      await t?.drop()
    })

    const smsCount = async () => Number((await t.db('outbound_sms').count({ n: '*' }))[0].n)
    const nextNumber = () => `0622${String(++n).padStart(6, '0')}`

    /** Sends `message` as it is, from the accepted sender; the reply to the end of DATA. */
    async function intoMx(message: string, rcpt = `${nextNumber()}@${SMS_DOMAIN}`) {
      const before = await smsCount()
      const r = await sendMail(mx.port, { from: SENDER, to: [rcpt], message })
      assert.equal(r.mail.code, 250, r.mail.text)
      assert.equal(r.rcpts[0]?.code, 250, r.rcpts[0]?.text)
      return { data: r.data as SmtpReply, created: (await smsCount()) - before }
    }

    function assertRefusedAsAutomatic(
      r: { data: SmtpReply; created: number },
      reason: RegExp,
    ): void {
      assert.equal(r.data.code, 550, r.data.text)
      assert.match(r.data.text, /^5\.7\.1 /)
      assert.match(r.data.text, /automatic mail/)
      assert.match(r.data.text, reason)
      assert.equal(r.created, 0, 'no SMS row')
    }

    /** Mail the gateway sent, as the relay got it: the bytes an autoresponder would send back. */
    async function sentThroughRelay(mail: Parameters<Mailer['send']>[0]): Promise<string> {
      const { messageId } = await mailer.send(mail)
      await sink.until((mails) => mails.some((m) => m.parsed.messageId === messageId))
      const caught = sink.mails.find((m) => m.parsed.messageId === messageId)!
      return caught.raw.toString('utf8')
    }

    it('a failure notice sent back verbatim to a valid number is refused, no SMS made', async () => {
      const raw = await sentThroughRelay(
        composeFailureNotice(
          {
            id: 1,
            senderEmail: SENDER,
            recipient: '+33612345678',
            body: 'Le colis arrive demain',
            status: 'undeliverable',
            errorCode: null,
            lastError: 'receipt: undeliverable (error 001)',
            sourceMessageId: '<orig@acme.example>',
            createdAt: Date.now() - 60_000,
            finalAt: Date.now(),
          },
          { smsDomain: SMS_DOMAIN },
        ),
      )
      assert.match(raw, /^Auto-Submitted: auto-generated\r?$/m)
      assertRefusedAsAutomatic(await intoMx(raw), /auto-generated/)
    })

    it('an out-of-office reply to a forwarded SMS is refused; the same words from a person are not', async () => {
      // A forwarded SMS, as the gateway mails it: replying to it texts the person back.
      const forward = await sentThroughRelay({
        from: `"+33612345678" <+33612345678+acme@${SMS_DOMAIN}>`,
        to: SENDER,
        subject: 'SMS de +33612345678',
        text: 'SMS reçu de +33612345678\n\nTu rappelles ?\n',
      })
      const forwardId = /^Message-ID: (.+?)\r?$/im.exec(forward)![1]
      const replyTo = `+33612345678+acme@${SMS_DOMAIN}`
      const reply = (headers: Record<string, string>) =>
        buildMessage({
          from: SENDER,
          to: replyTo,
          subject: 'Absent : SMS de +33612345678',
          body: "Je suis absente jusqu'au 3 décembre.",
          headers: { 'In-Reply-To': forwardId, References: forwardId, ...headers },
        })
      assertRefusedAsAutomatic(
        await intoMx(reply({ 'Auto-Submitted': 'auto-replied' }), replyTo),
        /auto-replied/,
      )
      const byHand = await intoMx(reply({}), replyTo)
      assert.equal(byHand.data.code, 250, byHand.data.text)
      assert.equal(byHand.created, 1)
    })

    const automatic: Array<[string, Record<string, string>, RegExp]> = [
      ['Auto-Submitted: auto-generated', { 'Auto-Submitted': 'auto-generated' }, /auto-generated/],
      ['Auto-Submitted: auto-notified', { 'Auto-Submitted': 'auto-notified' }, /auto-notified/],
      ['Precedence: bulk', { Precedence: 'bulk' }, /Precedence: bulk/],
      ['Precedence: junk', { Precedence: 'junk' }, /Precedence: junk/],
      ['Precedence: list', { Precedence: 'list' }, /Precedence: list/],
      ['X-Autoreply: yes', { 'X-Autoreply': 'yes' }, /X-Autoreply/],
    ]
    for (const [label, headers, reason] of automatic) {
      it(`refuses mail marked ${label}`, async () => {
        const message = buildMessage({ from: SENDER, to: 'x', body: 'Automatic words', headers })
        assertRefusedAsAutomatic(await intoMx(message), reason)
      })
    }

    it('refuses a bounce report even without Auto-Submitted, from a real sender address', async () => {
      const dsn = fs
        .readFileSync(path.join(__dirname, '../fixtures/mail/dsn.eml'), 'utf8')
        .replace(/^Auto-Submitted:.*\r?\n/m, '')
      assert.doesNotMatch(dsn, /^Auto-Submitted/m)
      assertRefusedAsAutomatic(await intoMx(dsn), /multipart\/report \(delivery-status\)/)
    })

    it("accepts Outlook's X-Auto-Response-Suppress: All on mail a person wrote", async () => {
      const message = buildMessage({
        from: SENDER,
        to: 'x',
        body: 'Written by hand in Outlook',
        headers: { 'X-Auto-Response-Suppress': 'All' },
      })
      const r = await intoMx(message)
      assert.equal(r.data.code, 250, r.data.text)
      assert.equal(r.created, 1)
    })
  })
}
