import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { migrateLatest } from '../../lib/db/migrate'
import { addSender } from '../../lib/db/senders'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { freePort, startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { httpGet, scrape, type Samples } from '../support/ops'
import { buildMessage, SmtpSession } from '../support/smtp-client'
import { proxyMysqlUrl, type TcpProxy } from '../support/tcp-proxy'

async function seed(t: TestDatabase): Promise<void> {
  const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', defaultCountry: 'FR' })
  await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
  await addAllowedIp(t.db, acme.id, '127.0.0.1')
}

/** What moved between two scrapes. */
function delta(before: Samples, after: Samples, name: string, labels?: Record<string, string>) {
  return after.value(name, labels) - before.value(name, labels)
}

for (const kind of databaseKinds()) {
  describe(`MX: ops listener, metrics and readiness (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx | undefined
    let proxy: TcpProxy | undefined

    afterEach(async () => {
      await mx?.stop()
      await proxy?.close()
      await t?.drop()
      mx = undefined
      proxy = undefined
    })

    it('counts accepted emails, SMS queued, refusals by code and reply, and statements', async () => {
      t = await createTestDatabase(kind)
      await seed(t)
      const opsPort = await freePort()
      mx = await startMx({ database: t.config, opsPort })
      assert.deepEqual(await httpGet(opsPort, '/healthz'), {
        status: 200,
        body: 'ok\n',
        contentType: 'text/plain; charset=utf-8',
      })
      const before = await scrape(opsPort)
      // Every refusal of the catalogue is exported from the start, at 0.
      assert.equal(
        before.has('mail2sms_mx_refusals_total', { reply: 'optedOut', code: '550' }),
        true,
      )

      const s = await SmtpSession.open(mx.port)
      try {
        await s.ehlo()
        // One email to two numbers: one acceptance, two SMS.
        assert.equal((await s.command('MAIL FROM:<alice@acme.example>')).code, 250)
        assert.equal((await s.command(`RCPT TO:<0612345678@${SMS_DOMAIN}>`)).code, 250)
        assert.equal((await s.command(`RCPT TO:<0698765432@${SMS_DOMAIN}>`)).code, 250)
        // Two refused recipients in the same transaction: relaying, and a landline.
        assert.equal((await s.command('RCPT TO:<bob@elsewhere.example>')).code, 550)
        assert.equal((await s.command(`RCPT TO:<0145678901@${SMS_DOMAIN}>`)).code, 550)
        const queued = await s.data(
          buildMessage({ from: 'alice@acme.example', to: 'x', body: 'counted twice' }),
        )
        assert.equal(queued.code, 250, queued.text)
        // An unknown sender, twice.
        for (let i = 0; i < 2; i++) {
          assert.equal((await s.command('RSET')).code, 250)
          assert.equal((await s.command('MAIL FROM:<mallory@evil.example>')).code, 550)
        }
      } finally {
        await s.quit()
      }

      const after = await scrape(opsPort)
      assert.equal(delta(before, after, 'mail2sms_mx_emails_accepted_total'), 1)
      assert.equal(delta(before, after, 'mail2sms_mx_sms_queued_total'), 2)
      const refusals = (reply: string, code = '550') =>
        delta(before, after, 'mail2sms_mx_refusals_total', { reply, code })
      assert.equal(refusals('senderNotAuthorised'), 2)
      assert.equal(refusals('relayDenied'), 1)
      assert.equal(refusals('invalidNumber'), 1)
      assert.equal(delta(before, after, 'mail2sms_mx_refusals_total'), 4)
      // The commit is one insert (or more): timed by kind of statement, never by SQL text.
      assert.ok(
        delta(before, after, 'mail2sms_db_query_duration_seconds_count', { operation: 'insert' }) >=
          1,
      )
      assert.ok(
        after.entries.every(
          (e) => !e.name.startsWith('mail2sms_db_') || /^[a-z]+$/.test(e.labels.operation ?? 'x'),
        ),
      )
      // The process's own figures, prefixed like the rest.
      assert.ok(after.value('mail2sms_process_resident_memory_bytes') > 0)
      assert.ok(after.has('mail2sms_nodejs_eventloop_lag_seconds'))
    })

    it('with Haraka cluster workers (nodes=2): the master serves the sum of its workers', async function () {
      this.timeout(120_000)
      t = await createTestDatabase(kind)
      await seed(t)
      const opsPort = await freePort()
      mx = await startMx({ database: t.config, opsPort, nodes: 2 })
      // The master answers /metrics once every worker answers it (a worker still loading its
      // plugins makes the scrape fail): wait for both, so that both take mail.
      const until = Date.now() + 60_000
      for (;;) {
        const answer = await httpGet(opsPort, '/metrics')
        if (answer.status === 200) break
        if (Date.now() > until) throw new Error(`/metrics: ${answer.status} ${answer.body}`)
        await new Promise((r) => setTimeout(r, 200))
      }
      // One connection per email: the cluster hands connections to its workers in turn.
      const emails = 6
      for (let i = 0; i < emails; i++) {
        const s = await SmtpSession.open(mx.port)
        try {
          await s.ehlo()
          assert.equal((await s.command('MAIL FROM:<alice@acme.example>')).code, 250)
          assert.equal((await s.command(`RCPT TO:<061234567${i}@${SMS_DOMAIN}>`)).code, 250)
          const r = await s.data(
            buildMessage({ from: 'alice@acme.example', to: 'x', body: `node ${i}` }),
          )
          assert.equal(r.code, 250, r.text)
        } finally {
          await s.quit()
        }
      }
      // The master takes no mail: every count comes from the workers, added up. (Served alone,
      // the master's own registry would say 0, and one worker's about half.)
      const after = await scrape(opsPort)
      assert.equal(after.value('mail2sms_mx_emails_accepted_total'), emails)
      assert.equal(after.value('mail2sms_mx_sms_queued_total'), emails)
      assert.equal((await httpGet(opsPort, '/readyz')).status, 200)
    })

    it('is not ready while the schema is behind, ready once migrated', async () => {
      t = await createTestDatabase(kind, { migrate: false })
      const opsPort = await freePort()
      mx = await startMx({ database: t.config, opsPort })
      const behind = await httpGet(opsPort, '/readyz')
      assert.equal(behind.status, 503)
      assert.equal(behind.body, 'not ready\ndatabase: DOWN, answers, but migrations are pending\n')
      // Alive all the same: a probe that restarted it would not help.
      assert.equal((await httpGet(opsPort, '/healthz')).status, 200)
      await migrateLatest(t.db)
      const ready = await httpGet(opsPort, '/readyz')
      assert.equal(ready.status, 200)
      assert.equal(ready.body, 'ready\ndatabase: ok, answers, migrations current\n')
    })

    if (kind === 'mysql') {
      it('is not ready while the database is out of reach', async () => {
        t = await createTestDatabase(kind)
        const proxied = await proxyMysqlUrl(t.config.url as string)
        proxy = proxied.proxy
        const opsPort = await freePort()
        mx = await startMx({ database: { ...t.config, url: proxied.url }, opsPort })
        assert.equal((await httpGet(opsPort, '/readyz')).status, 200)
        proxy.cut()
        const down = await httpGet(opsPort, '/readyz')
        assert.equal(down.status, 503)
        assert.match(down.body, /^not ready\ndatabase: DOWN, unreachable: /)
        // Scraping still works: the figures say what failed.
        const samples = await scrape(opsPort)
        assert.ok(samples.value('mail2sms_db_query_errors_total') >= 1)
      })
    }
  })
}
