import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { createAccount } from '../../lib/db/accounts'
import { addSender } from '../../lib/db/senders'
import { addAllowedIp } from '../../lib/db/allowlist'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, SmtpSession } from '../support/smtp-client'
import { proxyMysqlUrl, startTcpProxy, type TcpProxy } from '../support/tcp-proxy'

async function seed(t: TestDatabase): Promise<void> {
  const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
  await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted' })
  await addAllowedIp(t.db, acme.id, '127.0.0.1')
}

/** Runs MAIL and RCPT while the database is up, then `breakDb`, then DATA. */
async function sendWithDatabaseFailingAtData(port: number, breakDb: () => void) {
  const s = await SmtpSession.open(port)
  try {
    await s.ehlo()
    assert.equal((await s.command('MAIL FROM:<alice@acme.example>')).code, 250)
    assert.equal((await s.command(`RCPT TO:<0612345678@${SMS_DOMAIN}>`)).code, 250)
    breakDb()
    return await s.data(
      buildMessage({ from: 'alice@acme.example', to: 'x', body: 'must not be lost' }),
    )
  } finally {
    await s.quit()
  }
}

for (const kind of databaseKinds()) {
  describe(`MX: database unavailable (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx | undefined
    let proxy: TcpProxy | undefined

    beforeEach(async () => {
      t = await createTestDatabase(kind)
      await seed(t)
    })

    afterEach(async () => {
      await mx?.stop()
      await proxy?.close()
      await t.drop()
      mx = undefined
      proxy = undefined
    })

    it('answers 451 4.3.0 at end of DATA, never 250, when the commit fails', async () => {
      let breakDb: () => void
      let lock: Database.Database | undefined
      if (kind === 'mysql') {
        const proxied = await proxyMysqlUrl(t.config.url as string)
        proxy = proxied.proxy
        // A long refresh keeps the directory loaded at start, so only the commit meets the outage.
        mx = await startMx({
          database: { ...t.config, url: proxied.url },
          cacheRefreshMs: 600_000,
        })
        breakDb = () => proxy!.cut()
      } else {
        mx = await startMx({ database: t.config, cacheRefreshMs: 600_000 })
        breakDb = () => {
          // Another process holding the write lock past busy_timeout: what a stuck writer looks like.
          lock = new Database(t.config.sqliteFile)
          lock.exec('BEGIN EXCLUSIVE')
        }
      }
      const reply = await sendWithDatabaseFailingAtData(mx.port, breakDb)
      lock?.exec('ROLLBACK')
      lock?.close()
      assert.equal(reply.code, 451, `got ${reply.code} ${reply.text}`)
      assert.match(reply.text, /^4\.3\.0 SMS queue is temporarily unavailable/)
      assert.equal(Number((await t.db('outbound_sms').count({ n: '*' }))[0].n), 0)
      // The refusal must come from the failed commit, not from some earlier step. The log line
      // travels by the child's stdout pipe, which may deliver it after the reply's socket.
      const failed = /SMS queue failed: .*(database is locked|ECONNRESET|ECONNREFUSED|closed|lost)/i
      const until = Date.now() + 5000
      while (!failed.test(mx.logs()) && Date.now() < until)
        await new Promise((r) => setTimeout(r, 50))
      assert.match(mx.logs(), failed)
    })

    it('answers 451 at MAIL FROM when the database cannot be reached at all', async function () {
      if (kind === 'mysql') {
        proxy = await startTcpProxy('127.0.0.1', 1)
        proxy.cut()
        const url = new URL(t.config.url as string)
        url.port = String(proxy.port)
        mx = await startMx({ database: { ...t.config, url: url.toString() } })
      } else {
        mx = await startMx({ database: { ...t.config, sqliteFile: '/dev/null/mail2sms.sqlite' } })
      }
      const s = await SmtpSession.open(mx.port)
      try {
        await s.ehlo()
        const reply = await s.command('MAIL FROM:<alice@acme.example>')
        assert.equal(reply.code, 451, `got ${reply.code} ${reply.text}`)
        assert.match(reply.text, /^4\.3\.0 sender check is temporarily unavailable/)
      } finally {
        await s.quit()
      }
    })
  })
}
