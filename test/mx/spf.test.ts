import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { addSender } from '../../lib/db/senders'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startDnsServer, type DnsServer, type DnsZone } from '../support/dns-server'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail, type SmtpReply } from '../support/smtp-client'

/**
 * SPF through the real MX, for what the mx suite's one-record domains cannot show: macros in
 * records reached through include:/redirect=, and how long the MX waits for a slow SPF. SPF
 * never touches the database past the sender lookup, so SQLite alone serves here.
 */

/** On no account's IP list: only SPF can let this client in. */
const CLIENT = '127.0.0.3'

/** Each of these names answers this late; four of them make an SPF check of about 12 s. */
const SLOW_MS = 3000

const ZONE: DnsZone = {
  // A hoster keeping one policy per domain it serves, named after that domain with %{d}:
  // reached by redirect=, %{d} there is _spf.hoster.example, not the sender's domain.
  'redirect.example': { TXT: ['v=spf1 redirect=_spf.hoster.example'] },
  '_spf.hoster.example': { TXT: ['v=spf1 include:%{d}.hosts.hoster.example -all'] },
  '_spf.hoster.example.hosts.hoster.example': { TXT: ['v=spf1 ip4:127.0.0.3 -all'] },
  // What the sender's domain in place of %{d} finds: a policy that does not list the client.
  'redirect.example.hosts.hoster.example': { TXT: ['v=spf1 -all'] },
  // The other way round: a redirect= with %{d} inside an include:d record.
  'include.example': { TXT: ['v=spf1 include:relay.hoster.example -all'] },
  'relay.hoster.example': { TXT: ['v=spf1 redirect=%{d}.policies.hoster.example'] },
  'relay.hoster.example.policies.hoster.example': { TXT: ['v=spf1 ip4:127.0.0.3 -all'] },
  // A chain of slow name servers: 12 s in all, over the old 10 s default, under RFC 7208's 20 s.
  'slow.example': { TXT: ['v=spf1 include:s1.slow.example -all'], resolvesAfterMs: SLOW_MS },
  's1.slow.example': { TXT: ['v=spf1 include:s2.slow.example -all'], resolvesAfterMs: SLOW_MS },
  's2.slow.example': { TXT: ['v=spf1 include:s3.slow.example -all'], resolvesAfterMs: SLOW_MS },
  's3.slow.example': { TXT: ['v=spf1 ip4:127.0.0.3 -all'], resolvesAfterMs: SLOW_MS },
  'silent.example': { timeout: true },
}

function assertReply(reply: SmtpReply | null, code: number, status: string, phrase?: RegExp): void {
  assert.ok(reply, 'expected a reply')
  assert.equal(reply.code, code, `got ${reply.code} ${reply.text}`)
  assert.ok(reply.text.startsWith(status), `expected ${status} in "${reply.text}"`)
  if (phrase) assert.match(reply.text, phrase)
}

const attempt = (mx: RunningMx, domain: string) =>
  sendMail(mx.port, {
    from: `user@${domain}`,
    to: [`0612345690@${SMS_DOMAIN}`],
    message: buildMessage({ from: `user@${domain}`, to: 'x', body: `via ${domain}` }),
    localAddress: CLIENT,
  })

describe('MX: SPF macros and deadlines', function () {
  this.timeout(60_000)
  let t: TestDatabase
  let dns: DnsServer

  before(async () => {
    t = await createTestDatabase('sqlite')
    const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', defaultCountry: 'FR' })
    for (const domain of ['redirect', 'include', 'slow', 'silent']) {
      await addSender(t.db, acme.id, `user@${domain}.example`, { status: 'accepted' })
    }
    dns = await startDnsServer(ZONE)
  })

  after(async () => {
    await dns?.close()
    await t?.drop()
  })

  describe('with the shipped SPF deadline and plugin timeout', () => {
    let mx: RunningMx

    before(async () => {
      mx = await startMx({
        database: t.config,
        dnsServer: `127.0.0.1:${dns.port}`,
        spfTimeoutMs: null,
      })
    })

    after(async () => {
      await mx?.stop()
    })

    it('expands %{d} in a record reached by redirect= to that record’s domain', async () => {
      const r = await attempt(mx, 'redirect.example')
      assertReply(r.mail, 250, '')
      assertReply(r.data, 250, 'queued')
      const rows = await t.db('outbound_sms').where({ body: 'via redirect.example' })
      assert.equal(rows.length, 1)
      assert.ok(
        !dns.queries.some((q) => q.name === 'redirect.example.hosts.hoster.example'),
        '%{d} was expanded with the sender’s domain',
      )
    })

    it('expands %{d} in a redirect= of an include:d record to that record’s domain', async () => {
      const r = await attempt(mx, 'include.example')
      assertReply(r.mail, 250, '')
      assertReply(r.data, 250, 'queued')
    })

    it('waits for an SPF check slower than 10 s (RFC 7208 asks for 20 s) and accepts it', async () => {
      const started = Date.now()
      const r = await attempt(mx, 'slow.example')
      const mailAnsweredAfter = Date.now() - started
      assertReply(r.mail, 250, '')
      assertReply(r.data, 250, 'queued')
      assert.ok(mailAnsweredAfter >= 4 * SLOW_MS, `answered after ${mailAnsweredAfter} ms`)
    })
  })

  describe('with a plugin timeout shorter than the SPF deadline', () => {
    let mx: RunningMx

    before(async () => {
      mx = await startMx({
        database: t.config,
        dnsServer: `127.0.0.1:${dns.port}`,
        spfTimeoutMs: null,
        // Haraka would answer a bare "450 plugin timeout" after 3 s.
        extraConfigFiles: { 'mail_from.sms_sender.timeout': '3\n' },
      })
    })

    after(async () => {
      await mx?.stop()
    })

    it('gives up on SPF a second before Haraka would, with its own 451 4.7.24', async () => {
      const started = Date.now()
      const r = await attempt(mx, 'silent.example')
      const elapsed = Date.now() - started
      assertReply(r.mail, 451, '4.7.24', /silent\.example .*timed out after \d+ ms/)
      assert.ok(elapsed < 3000, `answered after ${elapsed} ms`)
    })
  })
})
