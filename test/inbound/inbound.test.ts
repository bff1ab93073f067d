import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { addSender } from '../../lib/db/senders'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { SmscSimulator } from '../support/smsc/simulator'
import { buildMessage, sendMail } from '../support/smtp-client'
import { SmtpSink, type CaughtMail } from '../support/smtp-sink'
import { eventually, testSmppConfig } from '../worker/harness'
import { setReceiving, startInboundWorker, type InboundWorker } from './harness'

const ACME_NUMBER = '+33700000001'
const DESK_NUMBER = '+33700000002'

for (const kind of databaseKinds()) {
  describe(`inbound SMS: SMSC to mailbox and back (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx
    let smsc: SmscSimulator
    let sink: SmtpSink
    let worker: InboundWorker
    let acmeId: number
    let n = 0

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, {
        ref: 'acme',
        name: 'Acme',
        virtualNumber: ACME_NUMBER,
      })
      const desk = await createAccount(t.db, {
        ref: 'desk',
        name: 'Help desk',
        virtualNumber: DESK_NUMBER,
      })
      acmeId = acme.id
      await setReceiving(t.db, acme.id, {
        forwardAddresses: ['office@acme.example', 'boss@acme.example'],
      })
      await setReceiving(t.db, desk.id, {
        forwardAddresses: ['desk-inbox@acme.example'],
        directReply: true,
      })
      for (const email of ['alice@acme.example', 'bob@acme.example']) {
        await addSender(t.db, acme.id, email, { status: 'accepted', isDefault: true })
        await addSender(t.db, desk.id, email, { status: 'accepted' })
      }
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      await addAllowedIp(t.db, desk.id, '127.0.0.1')
      sink = new SmtpSink()
      await sink.start()
      smsc = await SmscSimulator.start({ systemId: 'mail2sms', password: 'secret' })
      mx = await startMx({ database: t.config })
      worker = startInboundWorker(t.db, testSmppConfig(smsc.port), sink)
      await smsc.until(() => smsc.activeSessions > 0)
    })

    after(async () => {
      await worker?.stop()
      await mx?.stop()
      await smsc?.close()
      await sink?.stop()
      await t?.drop()
    })

    /** A fresh mobile per test, so the records of each test stay apart. */
    const nextMobile = () => `+336${String(10_000_000 + kind.length * 1000 + ++n)}`
    const mailsWith = (text: string) => sink.mails.filter((m) => m.parsed.text?.includes(text))
    const inboundFrom = (from: string) => t.db('inbound_sms').where({ from_number: from })

    async function email(from: string, to: string, body: string, messageId?: string) {
      return sendMail(mx.port, {
        from,
        to: [to],
        message: buildMessage({ from, to, body, messageId }),
      })
    }

    function assertForward(mail: CaughtMail, from: string, account: string, text: string) {
      assert.equal(mail.parsed.from?.value[0].address, `${from}+${account}@${SMS_DOMAIN}`)
      assert.equal(mail.parsed.from?.value[0].name, from)
      assert.equal(mail.parsed.subject, `SMS de ${from}`)
      assert.match(mail.raw.toString('latin1'), /^Content-Type: text\/plain; charset=utf-8\r$/im)
      assert.equal(mail.header('auto-submitted'), 'auto-generated')
      const body = mail.parsed.text ?? ''
      assert.ok(body.includes(`\n${text}\n`), body)
      assert.match(body, new RegExp(`SMS reçu de \\${from}`))
      assert.match(body, /Reçu le \p{L}+ \d+ \p{L}+ 2\d{3} à \d\d:\d\d UTC \(\d{4}-\d\d-\d\dT/u)
    }

    it('emails a single SMS to every forward address, from its reply address', async () => {
      const from = nextMobile()
      await smsc.injectMo({
        from,
        to: ACME_NUMBER,
        text: 'Je serai là à 15h [salle 2]',
        encoding: 'gsm7',
      })
      await sink.until(() => mailsWith('Je serai là à 15h').length === 1)
      const [mail] = mailsWith('Je serai là à 15h')
      assert.deepEqual(mail.envelopeTo.sort(), ['boss@acme.example', 'office@acme.example'])
      assertForward(mail, from, 'acme', 'Je serai là à 15h [salle 2]')
      const [row] = await eventually(
        () => inboundFrom(from),
        (rows) => rows[0]?.status === 'forwarded',
      )
      assert.ok(Number(row.mailed_at) >= Number(row.received_at))
      assert.equal(row.to_number, ACME_NUMBER)
    })

    for (const method of ['udh', 'sar'] as const) {
      it(`reassembles a 3-part UCS-2 SMS concatenated by ${method.toUpperCase()}`, async () => {
        const from = nextMobile()
        const text =
          `Bonjour, message long (${method}) : ` +
          'ça coûte très cher, êtes-vous sûr ? 😀 '.repeat(3) +
          'Fin du message.'
        const acks = await smsc.injectMo({
          from,
          to: ACME_NUMBER,
          text,
          encoding: 'ucs2',
          split: { method, parts: 3 },
        })
        assert.deepEqual(acks, [0, 0, 0])
        await sink.until(() => mailsWith(`message long (${method})`).length === 1)
        const [mail] = mailsWith(`message long (${method})`)
        assert.deepEqual(mail.envelopeTo.sort(), ['boss@acme.example', 'office@acme.example'])
        assertForward(mail, from, 'acme', text)
        const [row] = await inboundFrom(from)
        assert.equal(Number(row.parts), 3)
        assert.equal(row.encoding, 'ucs2')
      })
    }

    it('replies directly to the later of two senders, threaded under their email', async () => {
      const mobile = nextMobile()
      const aliceId = `<alice.${Date.now()}@acme.example>`
      const bobId = `<bob.${Date.now()}@acme.example>`
      const to = `${mobile}+desk@${SMS_DOMAIN}`
      assert.equal((await email('alice@acme.example', to, 'From Alice', aliceId)).data?.code, 250)
      assert.equal((await email('bob@acme.example', to, 'From Bob', bobId)).data?.code, 250)
      await smsc.until(() => smsc.messagesTo(mobile.slice(1)).length === 2)
      await eventually(
        () =>
          t
            .db('outbound_sms')
            .where({ recipient: mobile })
            .whereIn('status', ['sent', 'delivered']),
        (rows) => rows.length === 2,
      )
      await smsc.injectMo({ from: mobile, to: DESK_NUMBER, text: 'Merci Bob', encoding: 'gsm7' })
      await sink.until(() => mailsWith('Merci Bob').length === 1)
      const [mail] = mailsWith('Merci Bob')
      assert.deepEqual(mail.envelopeTo, ['bob@acme.example'])
      assert.equal(mail.header('in-reply-to'), bobId)
      assert.ok(mail.header('references').includes(bobId))
      assertForward(mail, mobile, 'desk', 'Merci Bob')
      assert.match(mail.parsed.text ?? '', /« From Bob »/)
      const [row] = await eventually(
        () => inboundFrom(mobile),
        (rows) => rows[0]?.status === 'replied',
      )
      const bobSms = await t
        .db('outbound_sms')
        .where({ recipient: mobile, sender_email: 'bob@acme.example' })
        .first()
      assert.equal(Number(row.reply_to_sms_id), Number(bobSms.id))
    })

    it('sends the SMS back when the forward is answered by email through the MX', async () => {
      const mobile = nextMobile()
      await smsc.injectMo({
        from: mobile,
        to: ACME_NUMBER,
        text: 'Vous me rappelez ?',
        encoding: 'gsm7',
      })
      await sink.until(() => mailsWith('Vous me rappelez').length === 1)
      const [forward] = mailsWith('Vous me rappelez')
      const replyTo = forward.parsed.from!.value[0].address!
      const reply = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [replyTo],
        message: buildMessage({
          from: 'alice@acme.example',
          to: replyTo,
          subject: `Re: ${forward.parsed.subject}`,
          body: `Oui, dans 5 minutes.\r\n\r\nLe 27/11, ${mobile} a écrit :\r\n> Vous me rappelez ?`,
          headers: { 'In-Reply-To': forward.parsed.messageId ?? '' },
        }),
      })
      assert.equal(reply.data?.code, 250, reply.data?.text)
      await smsc.until(() => smsc.messagesTo(mobile.slice(1)).length === 1)
      const [sms] = smsc.messagesTo(mobile.slice(1))
      assert.equal(sms.text, 'Oui, dans 5 minutes.')
      const [outbound] = await t.db('outbound_sms').where({ recipient: mobile })
      assert.equal(Number(outbound.account_id), acmeId)
    })

    it('refuses email to a number after it texts STOP, and allows it again after START', async () => {
      const mobile = nextMobile()
      const to = `${mobile}@${SMS_DOMAIN}`
      await smsc.injectMo({ from: mobile, to: ACME_NUMBER, text: 'Stop !', encoding: 'gsm7' })
      await eventually(
        () => t.db('opt_outs').where({ number: mobile }),
        (rows) => rows.length === 1,
      )
      const refused = await email('alice@acme.example', to, 'Promo du jour')
      assert.equal(refused.rcpts[0].code, 550)
      assert.equal(
        refused.rcpts[0].text,
        `5.7.1 ${mobile} has opted out of SMS from this account (they texted STOP); they can text START to opt back in`,
      )
      assert.equal(smsc.messagesTo(mobile.slice(1)).length, 0)
      // The opt-out is the account's: the same number still gets SMS through another account.
      const viaDesk = await email('alice@acme.example', `${mobile}+desk@${SMS_DOMAIN}`, 'Du desk')
      assert.equal(viaDesk.data?.code, 250, viaDesk.rcpts[0]?.text)
      await smsc.until(() => smsc.messagesTo(mobile.slice(1)).length === 1)
      await smsc.injectMo({ from: mobile, to: ACME_NUMBER, text: 'START', encoding: 'gsm7' })
      await eventually(
        () => t.db('opt_outs').where({ number: mobile }),
        (rows) => rows.length === 0,
      )
      const allowed = await email('alice@acme.example', to, 'Bienvenue à nouveau')
      assert.equal(allowed.data?.code, 250, allowed.rcpts[0]?.text)
      await smsc.until(() => smsc.messagesTo(mobile.slice(1)).length === 2)
      assert.deepEqual(
        smsc.messagesTo(mobile.slice(1)).map((m) => m.text),
        ['Du desk', 'Bienvenue à nouveau'],
      )
      const statuses = (await inboundFrom(mobile).orderBy('id')).map((r) => r.status)
      assert.deepEqual(statuses, ['opt_out', 'opt_in'])
      assert.equal(mailsWith('Stop !').length + mailsWith('START').length, 0)
    })

    it('stores an SMS to an unknown number as unrouted and mails nobody', async () => {
      const mobile = nextMobile()
      await smsc.injectMo({
        from: mobile,
        to: '+33700000099',
        text: 'Allo, qui est là ?',
        encoding: 'gsm7',
      })
      const [row] = await eventually(
        () => inboundFrom(mobile),
        (rows) => rows.length === 1,
      )
      assert.equal(row.status, 'unrouted')
      assert.equal(row.account_id, null)
      // A later SMS is mailed, so the dispatcher has had every chance to mail the first.
      await smsc.injectMo({
        from: mobile,
        to: ACME_NUMBER,
        text: 'Pardon, mauvais numéro',
        encoding: 'gsm7',
      })
      await sink.until(() => mailsWith('mauvais numéro').length === 1)
      assert.equal(mailsWith('qui est là').length, 0)
      assert.ok(worker.log.some((l) => l.includes(`from=${mobile} to=+33700000099 account=none`)))
      assert.equal((await t.db('inbound_sms').where({ id: row.id }).first()).status, 'unrouted')
    })

    it('retries a mail the relay refuses until it goes through', async () => {
      const mobile = nextMobile()
      sink.refuse(2)
      await smsc.injectMo({
        from: mobile,
        to: ACME_NUMBER,
        text: 'Relais capricieux',
        encoding: 'gsm7',
      })
      await sink.until(() => mailsWith('Relais capricieux').length === 1)
      const [row] = await eventually(
        () => inboundFrom(mobile),
        (rows) => rows[0]?.status === 'forwarded',
      )
      assert.equal(Number(row.mail_attempts), 3)
      assert.equal(row.last_error, null)
      assert.ok(worker.log.some((l) => /^mo\.retry .*attempt=1 .*relay refused: .*451/.test(l)))
    })
  })
}
