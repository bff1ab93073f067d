import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import {
  claimDueInbound,
  extendInboundLease,
  settleInbound,
  type ClaimedInbound,
} from '../../../lib/db/inbound'
import { addSender, removeSender } from '../../../lib/db/senders'
import { InboundMailDispatcher, parseForwardAddresses } from '../../../lib/inbound/dispatcher'
import { receiveInboundSms } from '../../../lib/inbound/intake'
import { createMailer, type Mailer } from '../../../lib/mail/mailer'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'
import { SmtpSink } from '../../support/smtp-sink'
import { eventually } from '../../worker/harness'
import { setReceiving } from '../../inbound/harness'

describe('lib/inbound/dispatcher parseForwardAddresses', () => {
  it('splits on commas, as the guide says, and tolerates spaces and semicolons', () => {
    assert.deepEqual(parseForwardAddresses('a@x.example, b@x.example;c@x.example'), [
      'a@x.example',
      'b@x.example',
      'c@x.example',
    ])
    assert.deepEqual(parseForwardAddresses(null), [])
    assert.deepEqual(parseForwardAddresses(''), [])
  })
})

for (const kind of databaseKinds()) {
  describe(`lib/inbound/dispatcher (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let sink: SmtpSink
    let mailer: Mailer
    let acme: number
    let quiet: number
    let n = 0
    const running: InboundMailDispatcher[] = []

    const start = (
      overrides: Partial<ConstructorParameters<typeof InboundMailDispatcher>[0]> = {},
    ) => {
      const d = new InboundMailDispatcher({
        db: t.db,
        mailer,
        smsDomain: 'sms.example.test',
        directReplyWindowHours: 72,
        pollMs: 10,
        retryInitialMs: 50,
        ...overrides,
      })
      d.start()
      running.push(d)
      return d
    }
    const inbound = (to: string, text: string, receivedAt = Date.now()) =>
      receiveInboundSms(t.db, {
        from: `+3361234${String(++n).padStart(4, '0')}`,
        to,
        text,
        encoding: 'gsm7',
        parts: 1,
        source: 'smpp',
        receivedAt,
      })
    const statusOf = (id: number) => async () =>
      (await t.db('inbound_sms').where({ id }).first()) as Record<string, unknown>

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (
        await createAccount(t.db, { ref: 'acme', name: 'Acme', virtualNumber: '+33700000001' })
      ).id
      quiet = (
        await createAccount(t.db, { ref: 'quiet', name: 'Quiet', virtualNumber: '+33700000003' })
      ).id
      await setReceiving(t.db, acme, { forwardAddresses: ['office@acme.example'] })
      sink = new SmtpSink()
      await sink.start()
      mailer = createMailer(sink.mailerConfig())
    })

    afterEach(async () => {
      await Promise.all(running.splice(0).map((d) => d.stop()))
    })

    after(async () => {
      await mailer?.close()
      await sink?.stop()
      await t?.drop()
    })

    it('mails each SMS once when two dispatchers share the database', async () => {
      const ids: number[] = []
      for (let i = 0; i < 30; i++) ids.push((await inbound('+33700000001', `shared ${i}`)).id)
      const a = start({ batchSize: 4 })
      const b = start({ batchSize: 4 })
      await sink.until(
        (mails) => mails.filter((m) => m.parsed.text?.includes('shared ')).length >= 30,
      )
      await new Promise((r) => setTimeout(r, 100))
      const texts = sink.mails
        .map((m) => /shared \d+/.exec(m.parsed.text ?? '')?.[0])
        .filter(Boolean)
      assert.equal(texts.length, 30)
      assert.equal(new Set(texts).size, 30)
      assert.equal(a.stats.forwarded + b.stats.forwarded, 30)
      const rows = await t.db('inbound_sms').whereIn('id', ids)
      assert.ok(rows.every((r) => r.status === 'forwarded' && Number(r.mail_attempts) === 1))
    })

    it('keeps an SMS for an account with no forward address and no direct reply', async () => {
      const lines: string[] = []
      start({ log: (l) => lines.push(l) })
      const { id } = await inbound('+33700000003', 'nobody reads this')
      const row = await eventually(statusOf(id), (r) => r.status === 'kept')
      assert.match(String(row.last_error), /no forward address/)
      assert.equal(row.mailed_to, null)
      assert.ok(
        lines.some((l) => l.startsWith(`mo.kept trace=mo-${id} inbound=${id} account=quiet`)),
      )
      assert.equal(sink.mails.filter((m) => m.parsed.text?.includes('nobody reads')).length, 0)
    })

    it('sends a direct reply to the forward list when the last sender was removed', async () => {
      await setReceiving(t.db, quiet, {
        forwardAddresses: ['quiet@acme.example'],
        directReply: true,
      })
      await addSender(t.db, quiet, 'gone@acme.example', { status: 'accepted' })
      const from = `+3361234${String(++n).padStart(4, '0')}`
      await t.db('outbound_sms').insert({
        account_id: quiet,
        sender_email: 'gone@acme.example',
        recipient: from,
        body: 'hello',
        encoding: 'gsm7',
        segments: 1,
        status: 'delivered',
        attempts: 1,
        dedupe_key: `k${n}`,
        next_attempt_at: Date.now() - 1000,
        created_at: Date.now() - 1000,
        updated_at: Date.now() - 1000,
      })
      await removeSender(t.db, quiet, 'gone@acme.example')
      start()
      const { id } = await receiveInboundSms(t.db, {
        from,
        to: '+33700000003',
        text: 'answer to a sender who left',
        encoding: 'gsm7',
        parts: 1,
        source: 'smpp',
        receivedAt: Date.now(),
      })
      const row = await eventually(statusOf(id), (r) => r.status === 'forwarded')
      assert.equal(row.reply_to_sms_id, null)
      const [mail] = sink.mails.filter((m) => m.parsed.text?.includes('sender who left'))
      assert.deepEqual(mail.envelopeTo, ['quiet@acme.example'])
      assert.equal(mail.header('in-reply-to'), '')
    })

    it('replies directly only within the configured window, else to the forward list', async () => {
      const { id: account } = await createAccount(t.db, {
        ref: 'window',
        name: 'Window',
        virtualNumber: '+33700000009',
      })
      await setReceiving(t.db, account, {
        forwardAddresses: ['window@acme.example'],
        directReply: true,
      })
      await addSender(t.db, account, 'carol@acme.example', { status: 'accepted' })
      const twoHoursAgo = Date.now() - 2 * 3600_000
      /** A number Carol texted two hours ago, and the SMS it sends back now. */
      async function answerToCarol(text: string, status = 'delivered') {
        const from = `+3361234${String(++n).padStart(4, '0')}`
        const [smsId] = await t.db('outbound_sms').insert({
          account_id: account,
          sender_email: 'carol@acme.example',
          recipient: from,
          body: 'hello',
          encoding: 'gsm7',
          segments: 1,
          status,
          attempts: 1,
          dedupe_key: `w${n}`,
          next_attempt_at: twoHoursAgo,
          created_at: twoHoursAgo,
          updated_at: twoHoursAgo,
        })
        const { id } = await receiveInboundSms(t.db, {
          from,
          to: '+33700000009',
          text,
          encoding: 'gsm7',
          parts: 1,
          source: 'smpp',
          receivedAt: Date.now(),
        })
        return { id, smsId: Number(smsId) }
      }

      const narrow = start({ directReplyWindowHours: 1 })
      const late = await answerToCarol('answer after the window')
      const forwarded = await eventually(statusOf(late.id), (r) => r.status === 'forwarded')
      assert.equal(forwarded.reply_to_sms_id, null)
      // Where it went, as it was then: the admin's received SMS page shows it.
      assert.equal(forwarded.mailed_to, 'window@acme.example')
      const [lateMail] = sink.mails.filter((m) => m.parsed.text?.includes('after the window'))
      assert.deepEqual(lateMail.envelopeTo, ['window@acme.example'])
      await narrow.stop()

      start({ directReplyWindowHours: 3 })
      const inTime = await answerToCarol('answer within the window')
      const replied = await eventually(statusOf(inTime.id), (r) => r.status === 'replied')
      assert.equal(Number(replied.reply_to_sms_id), inTime.smsId)
      assert.equal(replied.mailed_to, 'carol@acme.example')
      const [inTimeMail] = sink.mails.filter((m) => m.parsed.text?.includes('within the window'))
      assert.deepEqual(inTimeMail.envelopeTo, ['carol@acme.example'])

      // An SMS that reached the phone in part, or with no receipt, is answered like any other.
      for (const status of ['partial', 'unknown']) {
        const answer = await answerToCarol(`answer to a ${status} SMS`, status)
        const row = await eventually(statusOf(answer.id), (r) => r.status === 'replied')
        assert.equal(Number(row.reply_to_sms_id), answer.smsId)
      }
    })

    it('takes back an SMS whose dispatcher died holding it, once its lease ran out', async () => {
      const { id } = await inbound('+33700000001', 'orphaned by a crash')
      const [claim] = await claimDueInbound(t.db, { limit: 10, leaseMs: 200, now: Date.now() })
      assert.equal(claim.sms.id, id)
      start()
      await new Promise((r) => setTimeout(r, 100))
      assert.equal((await statusOf(id)()).status, 'mailing')
      const row = await eventually(statusOf(id), (r) => r.status === 'forwarded')
      assert.equal(Number(row.mail_attempts), 2)
    })

    it('a dispatcher whose lease ran out and was taken over records nothing', async () => {
      const { id } = await inbound('+33700000001', 'claimed twice')
      const now = Date.now()
      const ours = (claims: ClaimedInbound[]) => claims.find((c) => c.sms.id === id)
      const first = ours(await claimDueInbound(t.db, { limit: 10, leaseMs: 10, now }))
      assert.ok(first, 'claimed')
      const second = ours(
        await claimDueInbound(t.db, { limit: 10, leaseMs: 60_000, now: now + 20 }),
      )
      assert.ok(second, 'claimed again once the lease ran out')
      assert.equal(second.sms.mailAttempts, 2)
      assert.equal(await extendInboundLease(t.db, first, now + 90_000), false)
      const mailed = { kind: 'mailed', status: 'forwarded', replyToSmsId: null, at: now } as const
      assert.equal(await settleInbound(t.db, first, mailed), false)
      const held = await statusOf(id)()
      assert.equal(held.status, 'mailing')
      assert.equal(Number(held.next_attempt_at), now + 20 + 60_000)
      assert.equal(await settleInbound(t.db, second, mailed), true)
      assert.equal((await statusOf(id)()).status, 'forwarded')
    })

    it('keeps its lease while a slow relay takes longer than the lease: mailed once', async () => {
      const slow: Mailer = {
        send: async (mail) => {
          await new Promise((r) => setTimeout(r, 500))
          return mailer.send(mail)
        },
        close: async () => undefined,
      }
      const { id } = await inbound('+33700000001', 'through a slow relay')
      start({ mailer: slow, leaseMs: 120 })
      start({ mailer: slow, leaseMs: 120 })
      const row = await eventually(statusOf(id), (r) => r.status === 'forwarded')
      await new Promise((r) => setTimeout(r, 700))
      const mails = sink.mails.filter((m) => m.parsed.text?.includes('through a slow relay'))
      assert.equal(mails.length, 1)
      assert.equal(Number(row.mail_attempts), 1)
    })

    it('stop() waits for every mail of the batch, even when another one failed', async () => {
      const lines: string[] = []
      let slowDone = false
      const slow: Mailer = {
        send: async (mail) => {
          await new Promise((r) => setTimeout(r, 300))
          const sent = await mailer.send(mail)
          slowDone = true
          return sent
        },
        close: async () => undefined,
      }
      await createAccount(t.db, { ref: 'keeper', name: 'Keeper', virtualNumber: '+33700000004' })
      const kept = await inbound('+33700000004', 'kept, and its log line fails')
      const slowOne = await inbound('+33700000001', 'still with the relay at stop')
      const d = start({
        mailer: slow,
        log: (line) => {
          // A failure outside the relay exchange (here the log itself) in one dispatch.
          if (line.startsWith(`mo.kept trace=mo-${kept.id} inbound=${kept.id} account=keeper`))
            throw new Error('boom')
          lines.push(line)
        },
      })
      await eventually(statusOf(slowOne.id), (r) => r.status === 'mailing')
      await d.stop()
      assert.equal(slowDone, true, 'the mail under way finished before stop() returned')
      assert.equal((await statusOf(slowOne.id)()).status, 'forwarded')
      assert.ok(
        lines.some((l) =>
          l.startsWith(`WARN mo.mail_error trace=mo-${kept.id} inbound=${kept.id} error=boom`),
        ),
      )
    })

    it('gives up, as failed, once the relay refused past the maximum age', async () => {
      sink.refuse(1)
      start({ maxAgeMs: 1000 })
      const { id } = await inbound('+33700000001', 'too old to retry', Date.now() - 5000)
      const row = await eventually(statusOf(id), (r) => r.status === 'failed')
      assert.match(String(row.last_error), /relay refused/)
    })
  })
}
