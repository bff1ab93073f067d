import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { updateReceiving } from '../../../lib/db/account-settings'
import { createMailer, type Mailer } from '../../../lib/mail/mailer'
import { NoticeSender, type NoticeSenderOptions } from '../../../lib/notices/notice-sender'
import { claimDueNotices, markNoticeSent, scheduleNoticeRetry } from '../../../lib/db/outbound'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'
import { SmtpSink } from '../../support/smtp-sink'
import { eventually } from '../../worker/harness'

for (const kind of databaseKinds()) {
  describe(`lib/notices NoticeSender (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let sink: SmtpSink
    let mailer: Mailer
    let accountId: number
    let quietId: number
    let n = 0
    const senders: NoticeSender[] = []
    const lines: string[] = []

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      quietId = (await createAccount(t.db, { ref: 'quiet', name: 'Quiet' })).id
      await updateReceiving(t.db, quietId, {
        forwardAddresses: '',
        directReply: false,
        failureNotices: false,
      })
      sink = new SmtpSink()
      await sink.start()
      mailer = createMailer(sink.mailerConfig())
    })

    afterEach(async () => {
      for (const s of senders.splice(0)) await s.stop()
    })

    after(async () => {
      await mailer?.close()
      await sink?.stop()
      await t?.drop()
    })

    function start(overrides: Partial<NoticeSenderOptions> = {}): NoticeSender {
      const sender = new NoticeSender({
        db: t.db,
        mailer,
        smsDomain: 'sms.example.test',
        log: (l) => lines.push(l),
        pollMs: 20,
        retryInitialMs: 50,
        retryMaxMs: 200,
        ...overrides,
      })
      senders.push(sender)
      sender.start()
      return sender
    }

    /** A failed SMS whose notice is due now. */
    async function failedSms(
      fields: { account?: number; sender?: string; status?: string } = {},
    ): Promise<number> {
      const now = Date.now()
      n += 1
      const [id] = await t.db('outbound_sms').insert({
        account_id: fields.account ?? accountId,
        sender_email: fields.sender ?? `user${n}@acme.example`,
        recipient: `+3361234${String(n).padStart(4, '0')}`,
        body: `SMS number ${n}`,
        encoding: 'gsm7',
        segments: 1,
        status: fields.status ?? 'undeliverable',
        attempts: 1,
        next_attempt_at: now,
        last_error: 'receipt: undeliverable (error 001)',
        source_message_id: `<m${n}@client.example.net>`,
        dedupe_key: `ns-${kind}-${n}`,
        mx_transaction: `ns-txn-${kind}-${n}`,
        created_at: now,
        updated_at: now,
        final_at: now,
        notice_status: 'due',
        notice_next_at: now,
      })
      return Number(id)
    }

    const row = (id: number) => async () =>
      (await t.db('outbound_sms').where({ id }).first()) as Record<string, unknown>

    it('sends a due notice to the sender and marks it sent', async () => {
      const id = await failedSms()
      const sms = await row(id)()
      start()
      const done = await eventually(row(id), (r) => r.notice_status === 'sent')
      assert.equal(Number(done.notice_attempts), 1)
      assert.equal(done.notice_next_at, null)
      const [mail] = sink.mailsTo(String(sms.sender_email))
      assert.ok(mail, 'notice caught by the relay')
      assert.match(mail.parsed.subject ?? '', new RegExp(`\\${sms.recipient}`))
      assert.equal(mail.header('in-reply-to'), sms.source_message_id)
      assert.equal(mail.header('auto-submitted'), 'auto-generated')
      assert.match(mail.parsed.text ?? '', new RegExp(String(sms.body)))
      const details = mail.parsed.attachments.find((a) => a.filename === 'details.txt')
      assert.match(details?.content.toString() ?? '', /Action: failed/)
      // The line carries the SMS's trace, read apart from the claim.
      const sent = lines.filter((l) => l.startsWith(`notice.sent trace=${sms.mx_transaction} `))
      assert.equal(sent.length, 1, lines.join('\n'))
      assert.match(
        sent[0],
        new RegExp(`sms=${id} status=undeliverable to=${sms.sender_email} mail=`),
      )
    })

    it('tells the sender of a partly delivered SMS which parts arrived, read from its parts', async () => {
      const id = await failedSms({ status: 'partial' })
      await t.db('outbound_sms').where({ id }).update({
        parts: 3,
        segments: 3,
        error_code: 0x02,
        last_error: 'ESME_RINVCMDLEN: refused',
      })
      const other = await failedSms({ status: 'partial' })
      const part = (sms: number, no: number, state: string) => ({
        sms_id: sms,
        part_no: no,
        smsc_message_id: state === 'refused' ? '' : `${kind}-${sms}-${no}`,
        state,
        created_at: Date.now(),
        final_at: Date.now(),
      })
      await t
        .db('outbound_sms_parts')
        .insert([
          part(id, 1, 'delivered'),
          part(id, 2, 'refused'),
          part(id, 3, 'delivered'),
          part(other, 1, 'expired'),
          part(other, 2, 'delivered'),
        ])
      const sms = await row(id)()
      start()
      await eventually(row(id), (r) => r.notice_status === 'sent')
      await eventually(row(other), (r) => r.notice_status === 'sent')
      const [mail] = sink.mailsTo(String(sms.sender_email))
      assert.equal(
        mail.parsed.subject,
        `SMS remis en partie : ${sms.recipient} (SMS partly delivered)`,
      )
      const text = (mail.parsed.text ?? '').split('\n')
      for (const line of [
        'Parties remises : 1 et 3 sur 3.',
        "Partie 2 refusée par l'opérateur (ESME_RINVCMDLEN).",
        'Parts delivered: 1 and 3 of 3.',
        'Part 2 refused by the carrier (ESME_RINVCMDLEN).',
      ]) {
        assert.ok(text.includes(line), `missing ${line}`)
      }
      const details = mail.parsed.attachments.find((a) => a.filename === 'details.txt')
      assert.match(details?.content.toString() ?? '', /\r\nX-SMS-Parts-Delivered: 1,3 of 3\r\n/)
      // Each SMS its own parts: the other's notice speaks of its own.
      const otherSms = await row(other)()
      const [otherMail] = sink.mailsTo(String(otherSms.sender_email))
      assert.match(
        otherMail.parsed.text ?? '',
        /Partie remise : 2 sur 2\.\nPartie 1 expirée avant remise\./,
      )
    })

    it('skips the notice when the account has failure notices off, and sends nothing', async () => {
      const id = await failedSms({ account: quietId })
      const sms = await row(id)()
      start()
      const done = await eventually(row(id), (r) => r.notice_status === 'skipped')
      assert.equal(done.notice_next_at, null)
      await new Promise((r) => setTimeout(r, 100))
      assert.equal(sink.mailsTo(String(sms.sender_email)).length, 0)
      assert.ok(lines.some((l) => /^notice\.skipped .*reason="notices off for account"/.test(l)))
    })

    it('skips the notice when the SMS has no sender address', async () => {
      const id = await failedSms({ sender: '' })
      start()
      await eventually(row(id), (r) => r.notice_status === 'skipped')
      assert.ok(lines.some((l) => /^notice\.skipped .*reason="no sender address"/.test(l)))
    })

    it('retries with backoff while the relay refuses, and the notice arrives once', async () => {
      const id = await failedSms()
      const sms = await row(id)()
      sink.refuse(2)
      start()
      const done = await eventually(row(id), (r) => r.notice_status === 'sent')
      assert.equal(Number(done.notice_attempts), 3)
      await new Promise((r) => setTimeout(r, 150))
      assert.equal(sink.mailsTo(String(sms.sender_email)).length, 1)
      assert.ok(
        lines.some((l) => l.startsWith('notice.retry ') && l.includes(`sms=${id} attempt=1 `)),
      )
    })

    it('gives up after maxAttempts past maxAgeMs and logs it', async () => {
      const id = await failedSms()
      const sms = await row(id)()
      sink.refuse(3)
      start({ maxAttempts: 3, maxAgeMs: 0 })
      const done = await eventually(row(id), (r) => r.notice_status === 'skipped')
      assert.equal(Number(done.notice_attempts), 3)
      assert.equal(sink.mailsTo(String(sms.sender_email)).length, 0)
      assert.ok(
        lines.some(
          (l) => l.startsWith('ERROR notice.given_up ') && l.includes(`sms=${id} attempts=3 `),
        ),
      )
    })

    it('keeps retrying past maxAttempts while the SMS failed recently', async () => {
      const id = await failedSms()
      const sms = await row(id)()
      sink.refuse(3)
      start({ maxAttempts: 2 })
      const done = await eventually(row(id), (r) => r.notice_status !== 'due')
      assert.equal(done.notice_status, 'sent')
      assert.equal(Number(done.notice_attempts), 4)
      assert.equal(sink.mailsTo(String(sms.sender_email)).length, 1)
    })

    it('keeps its lease while a slow relay takes longer than the lease: sent once', async () => {
      const id = await failedSms()
      const sms = await row(id)()
      const slow: Mailer = {
        send: async (mail) => {
          await new Promise((r) => setTimeout(r, 1200))
          return mailer.send(mail)
        },
        close: async () => undefined,
      }
      // A relay four times slower than the lease; the lease long enough that a loaded machine's
      // pauses (a CI run) do not let it lapse between renewals.
      start({ mailer: slow, leaseMs: 300 })
      start({ mailer: slow, leaseMs: 300 })
      const done = await eventually(row(id), (r) => r.notice_status === 'sent')
      await new Promise((r) => setTimeout(r, 1500))
      assert.equal(sink.mailsTo(String(sms.sender_email)).length, 1)
      assert.equal(Number(done.notice_attempts), 1)
    })

    it('leaves notices that are not due yet alone', async () => {
      const id = await failedSms()
      await t
        .db('outbound_sms')
        .where({ id })
        .update({ notice_next_at: Date.now() + 60_000 })
      start()
      await new Promise((r) => setTimeout(r, 200))
      const r = await row(id)()
      assert.equal(r.notice_status, 'due')
      assert.equal(Number(r.notice_attempts), 0)
      await t.db('outbound_sms').where({ id }).update({ notice_status: 'skipped' })
    })

    it('two senders on one database send each notice once', async () => {
      const ids: number[] = []
      for (let i = 0; i < 30; i++) ids.push(await failedSms())
      const emails = (await t.db('outbound_sms').whereIn('id', ids).select('sender_email')).map(
        (r) => String(r.sender_email),
      )
      start({ batch: 4 })
      start({ batch: 4 })
      await eventually(
        async () =>
          t.db('outbound_sms').whereIn('id', ids).where('notice_status', 'sent').count({ n: '*' }),
        (r) => Number(r[0].n) === ids.length,
      )
      await new Promise((r) => setTimeout(r, 150))
      for (const email of emails) assert.equal(sink.mailsTo(email).length, 1, email)
    })

    it('a sender whose lease was taken over records nothing', async () => {
      const id = await failedSms()
      const now = Date.now()
      const [first] = await claimDueNotices(t.db, { limit: 50, leaseMs: 10, now })
      assert.equal(first.sms.id, id)
      assert.equal(first.attempts, 1)
      // The lease ran out; another sender claims the notice again.
      const [second] = await claimDueNotices(t.db, { limit: 50, leaseMs: 60_000, now: now + 20 })
      assert.equal(second.sms.id, id)
      assert.equal(second.attempts, 2)
      assert.equal(await markNoticeSent(t.db, first), false)
      assert.equal(await scheduleNoticeRetry(t.db, first, now), false)
      assert.equal((await row(id)()).notice_status, 'due')
      assert.equal(await markNoticeSent(t.db, second), true)
      assert.equal((await row(id)()).notice_status, 'sent')
    })
  })
}
