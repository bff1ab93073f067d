import assert from 'node:assert/strict'
import nodemailer from 'nodemailer'
import { createAccount } from '../../lib/db/accounts'
import { addSender } from '../../lib/db/senders'
import { addAllowedIp, removeAllowedIp } from '../../lib/db/allowlist'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startDnsServer, type DnsServer } from '../support/dns-server'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail, SmtpSession, type SmtpReply } from '../support/smtp-client'

/** On no account's IP list: this client can only be authorised by SPF. */
const SPF_CLIENT = '127.0.0.3'

const ZONE = {
  'spf-pass.example': { TXT: ['v=spf1 ip4:127.0.0.3 -all'] },
  'spf-fail.example': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
  'spf-soft.example': { TXT: ['v=spf1 ~all'] },
  'spf-neutral.example': { TXT: ['v=spf1 ?all'] },
  'spf-none.example': { A: ['192.0.2.10'] },
  'spf-temp.example': { servfail: true as const },
  'spf-perm.example': { TXT: ['v=spf1 -all', 'v=spf1 +all'] },
}

function assertReply(reply: SmtpReply | null, code: number, status: string, phrase?: RegExp): void {
  assert.ok(reply, 'expected a reply')
  assert.equal(reply.code, code, `got ${reply.code} ${reply.text}`)
  assert.ok(reply.text.startsWith(status), `expected ${status} in "${reply.text}"`)
  if (phrase) assert.match(reply.text, phrase)
}

async function seed(t: TestDatabase): Promise<void> {
  const acme = await createAccount(t.db, {
    ref: 'acme',
    name: 'Acme',
    defaultCountry: 'FR',
    signatureMarker: 'Jean Dupont',
    segmentCap: 4,
  })
  const beta = await createAccount(t.db, { ref: 'beta', name: 'Beta Ltd', defaultCountry: 'GB' })
  await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
  await addSender(t.db, beta.id, 'alice@acme.example', { status: 'accepted' })
  await addSender(t.db, acme.id, 'bob@acme.example', { status: 'pending' })
  // alice is also in delta, which allows no IP: only SPF could let her use +delta.
  const delta = await createAccount(t.db, { ref: 'delta', name: 'Delta' })
  await addSender(t.db, delta.id, 'alice@acme.example', { status: 'accepted' })
  await createAccount(t.db, { ref: 'omega', name: 'Omega' })
  for (const d of ['pass', 'fail', 'soft', 'neutral', 'none', 'temp', 'perm']) {
    await addSender(t.db, acme.id, `user@spf-${d}.example`, { status: 'accepted' })
  }
  await addAllowedIp(t.db, acme.id, '127.0.0.1')
  await addAllowedIp(t.db, beta.id, '127.0.0.1')
}

for (const kind of databaseKinds()) {
  describe(`MX: email to SMS rows (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let dns: DnsServer
    let mx: RunningMx

    before(async () => {
      t = await createTestDatabase(kind)
      await seed(t)
      dns = await startDnsServer(ZONE)
      mx = await startMx({
        database: t.config,
        dnsServer: `127.0.0.1:${dns.port}`,
        spfTimeoutMs: 3000,
      })
    })

    after(async () => {
      await mx?.stop()
      await dns?.close()
      await t?.drop()
    })

    const rowsFor = (recipient: string) => t.db('outbound_sms').where({ recipient }).orderBy('id')

    it("queues an allowlisted sender's SMS with number, text, encoding and segment count", async () => {
      const message = buildMessage({
        from: 'alice@acme.example',
        to: `0612345678@${SMS_DOMAIN}`,
        body: 'Bonjour, la réunion est à 15h.\r\n\r\n-- \r\nAlice Martin\r\nAcme',
      })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`06.12.34.56.78@${SMS_DOMAIN}`],
        message,
      })
      assert.equal(r.mail.code, 250)
      assert.equal(r.rcpts[0].code, 250)
      assertReply(r.data, 250, 'queued as SMS')
      const rows = await rowsFor('+33612345678')
      assert.equal(rows.length, 1)
      assert.equal(rows[0].body, 'Bonjour, la réunion est à 15h.')
      assert.equal(rows[0].encoding, 'gsm7')
      assert.equal(Number(rows[0].segments), 1)
      assert.equal(rows[0].status, 'queued')
      assert.equal(rows[0].sender_email, 'alice@acme.example')
      assert.match(r.data!.text, new RegExp(`SMS ${rows[0].id}\\b`))
    })

    it('makes one row per recipient and none again when the same message is retried', async () => {
      const message = buildMessage({
        from: 'alice@acme.example',
        to: 'two numbers',
        body: 'Ça coûte 5 € — merci !\r\nJean Dupont\r\nDirecteur',
        messageId: '<retry-test-1@client.example.net>',
      })
      const env = {
        from: 'alice@acme.example',
        to: [`+33611111111@${SMS_DOMAIN}`, `0033622222222@${SMS_DOMAIN}`],
        message,
      }
      const first = await sendMail(mx.port, env)
      assertReply(first.data, 250, 'queued as 2 SMS')
      const second = await sendMail(mx.port, env)
      assertReply(second.data, 250, 'already queued as 2 SMS')
      const rows = await t.db('outbound_sms').whereIn('recipient', ['+33611111111', '+33622222222'])
      assert.equal(rows.length, 2)
      for (const row of rows) {
        // û forces UCS-2; the signature marker line and what follows are cut; the dash is mapped.
        assert.equal(row.body, 'Ça coûte 5 € - merci !')
        assert.equal(row.encoding, 'ucs2')
        assert.equal(Number(row.segments), 1)
      }
    })

    it('sends through the account named by the +ref sub-address, with its default country', async () => {
      const message = buildMessage({ from: 'alice@acme.example', to: 'x', body: 'Hello from Beta' })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`07400123456+beta@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.data, 250, 'queued')
      const [row] = await rowsFor('+447400123456')
      const beta = await t.db('accounts').where({ ref: 'beta' }).first()
      assert.equal(Number(row.account_id), Number(beta.id))
      const delta = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345678+delta@${SMS_DOMAIN}`],
        message,
      })
      // acme's and beta's IP lists do not vouch for delta, and acme.example has no SPF.
      assertReply(delta.rcpts[0], 550, '5.7.23', /account "delta"/)
      const notMember = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345678+omega@${SMS_DOMAIN}`],
        message,
      })
      assertReply(notMember.rcpts[0], 550, '5.7.1', /not an accepted sender of account "omega"/)
      const wrong = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345678+nope@${SMS_DOMAIN}`],
        message,
      })
      assertReply(wrong.rcpts[0], 550, '5.7.1', /not an accepted sender of account "nope"/)
    })

    it('tells retries from new mail without a Message-ID by the Date header', async () => {
      const send = (date: string | null) =>
        sendMail(mx.port, {
          from: 'alice@acme.example',
          to: [`0612345682@${SMS_DOMAIN}`],
          message: buildMessage({
            from: 'alice@acme.example',
            to: 'x',
            body: 'Disk full',
            messageId: null,
            date,
          }),
        })
      assertReply((await send(null)).data, 250, 'queued as SMS')
      assertReply((await send(null)).data, 250, 'queued as SMS')
      assert.equal((await rowsFor('+33612345682')).length, 2)
      const dated = 'Fri, 27 Nov 2026 11:00:00 +0000'
      assertReply((await send(dated)).data, 250, 'queued as SMS')
      assertReply((await send(dated)).data, 250, 'already queued')
      assert.equal((await rowsFor('+33612345682')).length, 3)
    })

    it('keeps one Message-ID from two senders apart', async () => {
      const messageId = '<shared-id@client.example.net>'
      const viaAlice = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345683@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'one', messageId }),
      })
      const viaCarol = await sendMail(mx.port, {
        from: 'user@spf-pass.example',
        to: [`0612345683@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'user@spf-pass.example', to: 'x', body: 'two', messageId }),
        localAddress: SPF_CLIENT,
      })
      assertReply(viaAlice.data, 250, 'queued as SMS')
      assertReply(viaCarol.data, 250, 'queued as SMS')
      assert.equal((await rowsFor('+33612345683')).length, 2)
    })

    it('sends one SMS to a number written twice', async () => {
      const message = buildMessage({ from: 'alice@acme.example', to: 'x', body: 'once only' })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345684@${SMS_DOMAIN}`, `+33612345684@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.data, 250, 'queued as SMS')
      assert.doesNotMatch(r.data!.text, /2 SMS/)
      assert.equal((await rowsFor('+33612345684')).length, 1)
    })

    it('refuses recipients past max_recipients with 452 4.5.3', async () => {
      const to = Array.from(
        { length: 51 },
        (_, i) => `+336200000${String(i).padStart(2, '0')}@${SMS_DOMAIN}`,
      )
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to,
        message: buildMessage({ from: 'alice@acme.example', to: 'many', body: 'to many' }),
      })
      assert.equal(r.rcpts.filter((x) => x.code === 250).length, 50)
      assertReply(r.rcpts[50], 452, '4.5.3', /at most 50/)
      assertReply(r.data, 250, 'queued as 50 SMS')
    })

    it('a 700-character text over the cap of 4 is refused with the count', async () => {
      const message = buildMessage({ from: 'alice@acme.example', to: 'x', body: 'a'.repeat(700) })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345679@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.data, 550, '5.3.4', /needs 5 SMS .* at most 4/)
      assert.equal((await rowsFor('+33612345679')).length, 0)
      // At info, the refusal's own line says who sent it to which number: the accepted MAIL and
      // RCPT steps before it are debug.
      const refusal = mx
        .logs()
        .split('\n')
        .find((l) => l.includes(' event=data.sms_text ') && l.includes('decision=deny'))
      assert.ok(refusal, mx.logs().slice(-2000))
      assert.match(
        refusal,
        / level=info .*sender=alice@acme\.example to=\+33612345679 .*status=5\.3\.4/,
      )
      assert.doesNotMatch(mx.logs(), / event=recipient .*0612345679/)
    })

    it('refuses a message with no text', async () => {
      const message = buildMessage({ from: 'alice@acme.example', to: 'x', body: '', subject: '' })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345680@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.data, 550, '5.6.0', /no text/)
    })

    it('refuses automatic mail (Auto-Submitted: auto-replied)', async () => {
      const message = buildMessage({
        from: 'alice@acme.example',
        to: 'x',
        body: 'I am out of the office',
        headers: { 'Auto-Submitted': 'auto-replied' },
      })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345681@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.data, 550, '5.7.1', /automatic mail .*auto-replied/i)
      assert.equal((await rowsFor('+33612345681')).length, 0)
    })

    it('refuses unknown and pending senders at MAIL FROM', async () => {
      const message = buildMessage({ from: 'x', to: 'y', body: 'hi' })
      const unknown = await sendMail(mx.port, {
        from: 'mallory@elsewhere.example',
        to: [`0612345678@${SMS_DOMAIN}`],
        message,
      })
      assertReply(unknown.mail, 550, '5.7.1', /not authorised .* invite/)
      const pending = await sendMail(mx.port, {
        from: 'bob@acme.example',
        to: [`0612345678@${SMS_DOMAIN}`],
        message,
      })
      assertReply(pending.mail, 550, '5.7.1', /invitation/)
    })

    it('accepts the null sender at MAIL FROM and refuses each recipient', async () => {
      const s = await SmtpSession.open(mx.port)
      try {
        await s.ehlo()
        assert.equal((await s.command('MAIL FROM:<>')).code, 250)
        assertReply(
          await s.command(`RCPT TO:<0612345678@${SMS_DOMAIN}>`),
          550,
          '5.7.1',
          /null sender/,
        )
      } finally {
        await s.quit()
      }
    })

    it('never relays: other domains are refused', async () => {
      const message = buildMessage({ from: 'alice@acme.example', to: 'y', body: 'hi' })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: ['0612345678@gmail.example'],
        message,
      })
      assertReply(r.rcpts[0], 550, '5.7.1', /relaying denied/)
    })

    it('refuses invalid and landline numbers with 5.1.3', async () => {
      const message = buildMessage({ from: 'alice@acme.example', to: 'y', body: 'hi' })
      const r = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`12@${SMS_DOMAIN}`, `0142685300@${SMS_DOMAIN}`, `hello@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.rcpts[0], 550, '5.1.3')
      assertReply(r.rcpts[1], 550, '5.1.3', /landline/)
      assertReply(r.rcpts[2], 550, '5.1.3')
    })

    describe('SPF, from an IP on no allowlist', () => {
      const attempt = (domain: string) =>
        sendMail(mx.port, {
          from: `user@${domain}`,
          to: [`0612345690@${SMS_DOMAIN}`],
          message: buildMessage({ from: `user@${domain}`, to: 'x', body: `via ${domain}` }),
          localAddress: SPF_CLIENT,
        })

      it('pass is accepted', async () => {
        const r = await attempt('spf-pass.example')
        assertReply(r.data, 250, 'queued')
        const rows = await t.db('outbound_sms').where({ body: 'via spf-pass.example' })
        assert.equal(rows.length, 1)
        assert.ok(dns.queries.some((q) => q.name === 'spf-pass.example' && q.type === 'TXT'))
      })

      for (const [domain, result] of [
        ['spf-fail.example', 'fail'],
        ['spf-soft.example', 'softfail'],
        ['spf-neutral.example', 'neutral'],
        ['spf-none.example', 'none'],
      ]) {
        it(`${result} is refused with 5.7.23`, async () => {
          const r = await attempt(domain)
          assertReply(r.mail, 550, '5.7.23', new RegExp(`SPF for ${domain} gives "${result}"`))
          // An unauthenticated client learns no account names at MAIL FROM.
          assert.doesNotMatch(r.mail.text, /acme|account "/)
        })
      }

      it('temperror asks the client to retry (451 4.7.24)', async () => {
        const r = await attempt('spf-temp.example')
        assertReply(r.mail, 451, '4.7.24')
      })

      it('permerror is refused with 5.7.24', async () => {
        const r = await attempt('spf-perm.example')
        assertReply(r.mail, 550, '5.7.24')
      })
    })

    it('notices senders and IP ranges changed while it runs', async () => {
      const send = () =>
        sendMail(mx.port, {
          from: 'dan@gamma.example',
          to: [`0612345691@${SMS_DOMAIN}`],
          message: buildMessage({ from: 'dan@gamma.example', to: 'x', body: 'live change' }),
        })
      assertReply((await send()).mail, 550, '5.7.1', /not authorised/)
      const gamma = await createAccount(t.db, { ref: 'gamma', name: 'Gamma' })
      await addSender(t.db, gamma.id, 'dan@gamma.example', { status: 'accepted' })
      // Known now, but 127.0.0.1 is on no list of gamma's and gamma.example has no SPF.
      assertReply((await send()).mail, 550, '5.7.23')
      await addAllowedIp(t.db, gamma.id, '127.0.0.0/16')
      assertReply((await send()).data, 250, 'queued')
      await removeAllowedIp(t.db, gamma.id, '127.0.0.0/16')
      assertReply((await send()).mail, 550, '5.7.23')
    })

    it('works with an ordinary client library (nodemailer, pipelining)', async () => {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1',
        port: mx.port,
        secure: false,
        ignoreTLS: true,
      })
      try {
        const info = await transport.sendMail({
          from: 'Alice <alice@acme.example>',
          to: `+33699999999@${SMS_DOMAIN}`,
          subject: 'ignored',
          text: 'Sent with a library',
          html: '<p>Sent with a <b>library</b></p>',
        })
        assert.match(info.response, /^250 queued as SMS \d+/)
      } finally {
        transport.close()
      }
      const [row] = await rowsFor('+33699999999')
      assert.equal(row.body, 'Sent with a library')
    })
  })
}
