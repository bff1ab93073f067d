import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { migrateLatest } from '../../lib/db/migrate'
import { addSender } from '../../lib/db/senders'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { freePort, startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { httpGet, scrape } from '../support/ops'
import { databaseIni, startService, type ServiceProcess } from '../support/service-process'
import { SmscSimulator } from '../support/smsc/simulator'
import { buildMessage, sendMail } from '../support/smtp-client'
import { proxyMysqlUrl, type TcpProxy } from '../support/tcp-proxy'
import { eventually } from './harness'

async function seed(t: TestDatabase): Promise<void> {
  const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })
  await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
  await addAllowedIp(t.db, acme.id, '127.0.0.1')
}

function workerIni(opts: {
  dir: string
  t: TestDatabase
  dbUrl?: string
  opsPort: number
  smscPort?: number
}): string[] {
  const db = opts.dbUrl ? { ...opts.t.config, url: opts.dbUrl } : opts.t.config
  return [
    ...databaseIni(db),
    'query_timeout_ms=1000',
    '[mx]',
    `domains=${SMS_DOMAIN}`,
    '[worker]',
    `transport=${opts.smscPort ? 'smpp' : 'console'}`,
    'poll_ms=20',
    'retry_initial_ms=100',
    'shutdown_grace_ms=1000',
    '[smpp]',
    'host=127.0.0.1',
    `port=${opts.smscPort ?? 2775}`,
    'system_id=mail2sms',
    'password=secret',
    'reconnect_initial_ms=50',
    'reconnect_max_ms=200',
    'request_timeout_ms=2000',
    'receipts=per_part',
    '[mailer]',
    `directory=${opts.dir}/mail`,
    '[ops]',
    `worker_listen=127.0.0.1:${opts.opsPort}`,
  ]
}

async function readyz(port: number) {
  return httpGet(port, '/readyz').catch((err: Error) => ({ status: 0, body: err.message }))
}

for (const kind of databaseKinds()) {
  describe(`worker: ops listener, metrics and readiness (${kind})`, function () {
    this.timeout(90_000)
    let t: TestDatabase
    let dir: string
    let mx: RunningMx | undefined
    let smsc: SmscSimulator | undefined
    let worker: ServiceProcess | undefined
    let proxy: TcpProxy | undefined

    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-worker-ops-'))
    })

    afterEach(async () => {
      const code = await worker?.stop()
      await mx?.stop()
      await smsc?.close()
      await proxy?.close()
      await t?.drop()
      fs.rmSync(dir, { recursive: true, force: true })
      worker = mx = smsc = proxy = undefined
      // Closed on shutdown, with the rest: a clean exit.
      if (code !== undefined) assert.equal(code, 0)
    })

    it('counts SMS sent and delivered and the delay to their receipts; ready while bound', async () => {
      t = await createTestDatabase(kind)
      await seed(t)
      smsc = await SmscSimulator.start({
        systemId: 'mail2sms',
        password: 'secret',
        receiptPerSegment: true,
        receiptDelayMs: 20,
      })
      mx = await startMx({ database: t.config })
      const opsPort = await freePort()
      worker = startService(
        path.join(dir, 'worker.ini'),
        workerIni({ dir, t, opsPort, smscPort: smsc.port }),
        ['worker'],
      )
      const ready = await eventually(
        () => readyz(opsPort),
        (r) => r.status === 200,
        30_000,
      )
      assert.equal(
        ready.body,
        `ready\ndatabase: ok, answers, migrations current\nsmsc: ok, bound to 127.0.0.1:${smsc.port}\n`,
      )
      const before = await scrape(opsPort)
      for (let i = 1; i <= 3; i++) {
        const sent = await sendMail(mx.port, {
          from: 'alice@acme.example',
          to: [`06123400${String(i).padStart(2, '0')}@${SMS_DOMAIN}`],
          message: buildMessage({ from: 'alice@acme.example', to: 'x', body: `SMS ${i}` }),
        })
        assert.equal(sent.data?.code, 250)
      }
      await eventually(
        () => t.db('outbound_sms').where({ status: 'delivered' }).count({ n: '*' }),
        (rows) => Number(rows[0].n) === 3,
      )
      // The worker counts what it committed: wait for its totals, read at scrape time.
      const after = await eventually(
        () => scrape(opsPort),
        (s) => s.value('mail2sms_sms_transitions_total', { to: 'delivered' }) >= 3,
      )
      const moved = (name: string, labels?: Record<string, string>) =>
        after.value(name, labels) - before.value(name, labels)
      assert.equal(moved('mail2sms_sms_transitions_total', { to: 'sent' }), 3)
      assert.equal(moved('mail2sms_sms_transitions_total', { to: 'delivered' }), 3)
      assert.equal(moved('mail2sms_sms_transitions_total', { to: 'failed' }), 0)
      assert.equal(moved('mail2sms_dlr_delay_seconds_count', { outcome: 'delivered' }), 3)
      assert.ok(after.value('mail2sms_dlr_delay_seconds_sum', { outcome: 'delivered' }) < 30)
      assert.ok(moved('mail2sms_db_query_duration_seconds_count', { operation: 'update' }) >= 2)
      assert.ok(after.has('mail2sms_notices_total', { outcome: 'sent' }))
      // The SMPP client, the poll loops and the lease claims report through their observers.
      assert.equal(after.value('mail2sms_smpp_bind_state', { state: 'bound' }), 1)
      assert.equal(after.value('mail2sms_smpp_bind_state', { state: 'unbound' }), 0)
      assert.equal(moved('mail2sms_smpp_submit_duration_seconds_count', { outcome: 'accepted' }), 3)
      assert.equal(after.value('mail2sms_smpp_window_in_use'), 0)
      assert.ok(moved('mail2sms_poll_round_duration_seconds_count', { loop: 'sms' }) >= 1)
      assert.equal(moved('mail2sms_lease_claimed_rows_total', { work: 'sms' }), 3)
      assert.ok(after.has('mail2sms_inbound_sms_received_total', { outcome: 'stored' }))
    })

    it('is not ready, and shows the queue waiting, while the SMSC is away', async () => {
      t = await createTestDatabase(kind)
      await seed(t)
      mx = await startMx({ database: t.config })
      const opsPort = await freePort()
      const nowhere = await freePort()
      worker = startService(
        path.join(dir, 'worker.ini'),
        workerIni({ dir, t, opsPort, smscPort: nowhere }),
        ['worker'],
      )
      const down = await eventually(
        () => readyz(opsPort),
        (r) => r.status === 503 && /smsc: DOWN, not bound/.test(r.body),
        30_000,
      )
      assert.equal(
        down.body,
        `not ready\ndatabase: ok, answers, migrations current\nsmsc: DOWN, not bound to 127.0.0.1:${nowhere}\n`,
      )
      const sent = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345601@${SMS_DOMAIN}`, `0612345602@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'waiting' }),
      })
      assert.equal(sent.data?.code, 250)
      await new Promise((r) => setTimeout(r, 50))
      const samples = await scrape(opsPort)
      assert.equal(samples.value('mail2sms_sms', { status: 'queued' }), 2)
      assert.equal(samples.value('mail2sms_sms', { status: 'sent' }), 0)
      assert.equal(samples.value('mail2sms_queue_depth'), 2)
      const age = samples.value('mail2sms_queue_oldest_age_seconds')
      assert.ok(age > 0 && age < 60, `age ${age}`)
    })

    it('is not ready while the database is behind, then ready (console transport)', async () => {
      t = await createTestDatabase(kind, { migrate: false })
      const opsPort = await freePort()
      // --no-migrate: it waits for another process to migrate, with its listener up meanwhile.
      worker = startService(path.join(dir, 'worker.ini'), workerIni({ dir, t, opsPort }), [
        'worker',
        '--no-migrate',
      ])
      const waiting = await eventually(
        () => readyz(opsPort),
        (r) => r.status === 503,
        30_000,
      )
      assert.equal(
        waiting.body,
        'not ready\ndatabase: DOWN, answers, but migrations are pending\nsmsc: DOWN, not started: waiting for the database\n',
      )
      assert.equal((await httpGet(opsPort, '/healthz')).status, 200)
      await migrateLatest(t.db)
      const ready = await eventually(
        () => readyz(opsPort),
        (r) => r.status === 200,
        30_000,
      )
      assert.match(ready.body, /\nsmsc: ok, console transport/)
    })

    if (kind === 'mysql') {
      it('is not ready while the database is out of reach', async () => {
        t = await createTestDatabase(kind)
        const proxied = await proxyMysqlUrl(t.config.url as string)
        proxy = proxied.proxy
        const opsPort = await freePort()
        worker = startService(
          path.join(dir, 'worker.ini'),
          workerIni({ dir, t, opsPort, dbUrl: proxied.url }),
          ['worker'],
        )
        await eventually(
          () => readyz(opsPort),
          (r) => r.status === 200,
          30_000,
        )
        proxy.cut()
        const down = await readyz(opsPort)
        assert.equal(down.status, 503)
        assert.match(down.body, /^not ready\ndatabase: DOWN, unreachable: /)
      })
    }
  })
}
