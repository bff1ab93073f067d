import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { addSender } from '../../lib/db/senders'
import { addAllowedIp } from '../../lib/db/allowlist'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, SmtpSession, type SmtpReply } from '../support/smtp-client'
import { proxyMysqlUrl, type TcpProxy } from '../support/tcp-proxy'

const QUERY_TIMEOUT_MS = 2000

/** One message from MAIL FROM to the end of DATA; the first refusal ends it. */
async function send(port: number, body: string): Promise<{ reply: SmtpReply; ms: number }> {
  const s = await SmtpSession.open(port)
  try {
    await s.ehlo()
    const started = Date.now()
    const done = (reply: SmtpReply) => ({ reply, ms: Date.now() - started })
    const mail = await s.command('MAIL FROM:<alice@acme.example>')
    if (mail.code !== 250) return done(mail)
    const rcpt = await s.command(`RCPT TO:<0612345678@${SMS_DOMAIN}>`)
    if (rcpt.code !== 250) return done(rcpt)
    return done(await s.data(buildMessage({ from: 'alice@acme.example', to: 'x', body })))
  } finally {
    await s.quit()
  }
}

const count = (text: string, re: RegExp) => text.match(new RegExp(re, 'g'))?.length ?? 0

// MySQL only: a link that stops answering is a network fault; SQLite is a local file.
describe('MX: database link that stops answering (mysql)', function () {
  this.timeout(90_000)
  let t: TestDatabase
  let proxy: TcpProxy
  let mx: RunningMx

  before(async () => {
    t = await createTestDatabase('mysql')
    const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
    await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted' })
    await addAllowedIp(t.db, acme.id, '127.0.0.1')
    const proxied = await proxyMysqlUrl(t.config.url as string)
    proxy = proxied.proxy
    // cache_refresh_ms=0: every MAIL FROM asks the database, so each message meets the fault.
    mx = await startMx({
      database: { ...t.config, url: proxied.url, queryTimeoutMs: QUERY_TIMEOUT_MS },
      cacheRefreshMs: 0,
    })
  })

  after(async () => {
    await mx?.stop()
    await proxy?.close()
    await t?.drop()
  })

  it('answers 451 within the query timeout, then at once, and 250 again once the link is back', async () => {
    assert.equal((await send(mx.port, 'before the fault')).reply.code, 250)

    proxy.freeze()
    const first = await send(mx.port, 'during the fault')
    assert.equal(first.reply.code, 451, `got ${first.reply.code} ${first.reply.text}`)
    assert.match(first.reply.text, /^4\.3\.0 /)
    // Haraka's own plugin timeout is 30 s: this must come from the query timeout.
    assert.ok(first.ms < 10_000, `first 451 took ${first.ms} ms`)

    const second = await send(mx.port, 'still during the fault')
    assert.equal(second.reply.code, 451)
    assert.match(second.reply.text, /^4\.3\.0 /)
    // Turned away by the health gate, without a query: the log names the outage, not a timeout.
    assert.match(mx.logs(), /sender check failed: database unavailable for \d+ s/)
    assert.ok(second.ms < QUERY_TIMEOUT_MS, `second 451 took ${second.ms} ms`)

    proxy.thaw()
    let last: SmtpReply | undefined
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline) {
      last = (await send(mx.port, 'after the fault')).reply
      if (last.code === 250) break
      await new Promise((r) => setTimeout(r, 250))
    }
    assert.equal(last?.code, 250, `never 250 again; last ${last?.code} ${last?.text}`)
    const bodies = (await t.db('outbound_sms').select('body')).map((r) => r.body)
    assert.deepEqual(bodies.sort(), ['after the fault', 'before the fault'])
    const logs = mx.logs()
    assert.equal(count(logs, /database unavailable: /), 1, 'one line when it went down')
    assert.equal(count(logs, /database available again after/), 1, 'one line when it came back')
  })
})
