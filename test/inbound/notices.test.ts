import assert from 'node:assert/strict'
import { updateReceiving } from '../../lib/db/account-settings'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { addSender } from '../../lib/db/senders'
import { createMailer, type Mailer } from '../../lib/mail/mailer'
import { NoticeSender } from '../../lib/notices/notice-sender'
import type { SmsWorker } from '../../lib/worker/worker'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { SmscSimulator, STATUS } from '../support/smsc/simulator'
import { buildMessage, sendMail } from '../support/smtp-client'
import { SmtpSink, type CaughtMail } from '../support/smtp-sink'
import { eventually, startTestWorker, testSmppConfig } from '../worker/harness'

/**
 * Failure notices end to end: an email through the real MX, the worker and the SMSC simulator,
 * a failure, and the notice caught by a real SMTP relay.
 */
for (const kind of databaseKinds()) {
  describe(`failure notices, end to end (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx
    let smsc: SmscSimulator
    let worker: SmsWorker
    let sink: SmtpSink
    let mailer: Mailer
    let notices: NoticeSender
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })
      const quiet = await createAccount(t.db, { ref: 'quiet', name: 'Quiet', senderName: 'Quiet' })
      await updateReceiving(t.db, quiet.id, {
        forwardAddresses: '',
        directReply: false,
        failureNotices: false,
      })
      await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
      await addSender(t.db, quiet.id, 'bob@quiet.example', { status: 'accepted', isDefault: true })
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      await addAllowedIp(t.db, quiet.id, '127.0.0.1')
      smsc = await SmscSimulator.start({
        systemId: 'mail2sms',
        password: 'secret',
        receiptDelayMs: 20,
      })
      sink = new SmtpSink()
      await sink.start()
      mailer = createMailer(sink.mailerConfig())
      mx = await startMx({ database: t.config })
      worker = startTestWorker(t.db, testSmppConfig(smsc.port))
      notices = new NoticeSender({
        db: t.db,
        mailer,
        smsDomain: SMS_DOMAIN,
        log: () => undefined,
        pollMs: 20,
        retryInitialMs: 100,
      })
      notices.start()
    })

    after(async () => {
      await notices?.stop()
      await worker?.stop(1000)
      await mailer?.close()
      await sink?.stop()
      await mx?.stop()
      await smsc?.close()
      await t?.drop()
    })

    const nextNumber = () => `0611${String(++n).padStart(6, '0')}`
    const e164 = (national: string) => `+33${national.slice(1)}`

    async function email(
      from: string,
      to: string,
      body: string,
    ): Promise<{ id: number; messageId: string }> {
      const messageId = `<notice-${kind}-${n}.${Date.now()}@client.example.net>`
      const r = await sendMail(mx.port, {
        from,
        to: [`${to}@${SMS_DOMAIN}`],
        message: buildMessage({ from, to: `${to}@${SMS_DOMAIN}`, body, messageId }),
      })
      assert.equal(r.data?.code, 250, r.data?.text)
      return { id: Number(/SMS (\d+)/.exec(r.data!.text)![1]), messageId }
    }

    const smsRow = (id: number) => async () =>
      (await t.db('outbound_sms').where({ id }).first()) as Record<string, unknown>

    /** The notices the relay got about this number. */
    const noticesAbout = (to: string, mails: CaughtMail[] = sink.mails) =>
      mails.filter((m) => (m.parsed.subject ?? '').includes(e164(to)))

    function details(mail: CaughtMail): string {
      const part = mail.parsed.attachments.find((a) => a.filename === 'details.txt')
      assert.ok(part, 'details.txt attached')
      return part.content.toString('utf8')
    }

    it('an undeliverable receipt sends the sender a threaded notice with number, reason and text', async () => {
      const to = nextNumber()
      smsc.setReceiptRule((dest) => (dest === e164(to).slice(1) ? 'UNDELIV' : 'DELIVRD'))
      try {
        const sent = await email('alice@acme.example', to, 'Le colis arrive demain matin')
        await sink.until((mails) => noticesAbout(to, mails).length === 1)
        const [mail] = noticesAbout(to)
        assert.deepEqual(mail.envelopeTo, ['alice@acme.example'])
        assert.equal(mail.parsed.subject, `SMS non remis : ${e164(to)} (SMS not delivered)`)
        assert.equal(mail.header('in-reply-to'), sent.messageId)
        assert.match(mail.header('references'), new RegExp(sent.messageId.replace(/[.]/g, '\\.')))
        assert.equal(mail.header('auto-submitted'), 'auto-generated')
        const text = mail.parsed.text ?? ''
        assert.match(text, new RegExp(`Numéro : \\${e164(to)}`))
        assert.match(text, /Raison : le téléphone n'a pas pu recevoir le SMS/)
        assert.match(text, /Reason: the phone could not receive the SMS/)
        assert.match(text, /> Le colis arrive demain matin/)
        const fields = details(mail)
        assert.match(fields, new RegExp(`Final-Recipient: rfc822; \\${e164(to)}@${SMS_DOMAIN}`))
        assert.match(fields, /Action: failed/)
        assert.match(fields, /Status: 5\.4\.0/)
        assert.match(fields, /Diagnostic-Code: smpp; receipt: undeliverable/)
        const row = await eventually(smsRow(sent.id), (r) => r.notice_status === 'sent')
        assert.equal(row.status, 'undeliverable')
      } finally {
        smsc.setReceiptRule(() => 'DELIVRD')
      }
    })

    it('a permanent submit error (invalid destination) sends a notice saying so', async () => {
      const to = nextNumber()
      smsc.failNext(1, STATUS.INVALID_DEST_ADDR)
      const sent = await email('alice@acme.example', to, 'Rappel : réunion à 10h')
      await sink.until((mails) => noticesAbout(to, mails).length === 1)
      const [mail] = noticesAbout(to)
      assert.equal(mail.header('in-reply-to'), sent.messageId)
      const text = mail.parsed.text ?? ''
      assert.match(text, /Raison : numéro de destination invalide ou inconnu/)
      assert.match(text, /Reason: invalid or unknown destination number/)
      assert.match(text, /ESME_RINVDSTADR \(0x0000000b\)/)
      assert.match(text, /> Rappel : réunion à 10h/)
      assert.match(details(mail), /Status: 5\.1\.1/)
      const row = await eventually(smsRow(sent.id), (r) => r.notice_status === 'sent')
      assert.equal(row.status, 'failed')
    })

    it('sends no notice for an account with failure notices off', async () => {
      const to = nextNumber()
      smsc.setReceiptRule((dest) => (dest === e164(to).slice(1) ? 'UNDELIV' : 'DELIVRD'))
      try {
        const sent = await email('bob@quiet.example', to, 'Pas de nouvelles')
        const row = await eventually(smsRow(sent.id), (r) => r.notice_status === 'skipped')
        assert.equal(row.status, 'undeliverable')
        // Anything that was going to be sent has had time to arrive.
        await new Promise((r) => setTimeout(r, 300))
        assert.equal(noticesAbout(to).length, 0)
        assert.equal(sink.mailsTo('bob@quiet.example').length, 0)
      } finally {
        smsc.setReceiptRule(() => 'DELIVRD')
      }
    })

    it('retries a notice the relay refused, and it arrives once', async () => {
      const to = nextNumber()
      sink.refuse(1)
      smsc.setReceiptRule((dest) => (dest === e164(to).slice(1) ? 'EXPIRED' : 'DELIVRD'))
      try {
        const sent = await email('alice@acme.example', to, 'Tu es là ?')
        await sink.until((mails) => noticesAbout(to, mails).length === 1)
        const row = await eventually(smsRow(sent.id), (r) => r.notice_status === 'sent')
        assert.equal(row.status, 'expired')
        assert.equal(Number(row.notice_attempts), 2)
        await new Promise((r) => setTimeout(r, 300))
        const [mail, ...more] = noticesAbout(to)
        assert.equal(more.length, 0)
        assert.match(mail.parsed.text ?? '', /Reason: expired: the phone stayed switched off/)
      } finally {
        smsc.setReceiptRule(() => 'DELIVRD')
      }
    })
  })
}
