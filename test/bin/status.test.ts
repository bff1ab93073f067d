import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { run } from '../../bin/cli'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { insertEmails } from '../../lib/db/outbound'
import { addSender } from '../../lib/db/senders'
import { startServiceOps, type ServiceOps } from '../../lib/ops/service'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { freePort, startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { httpGet } from '../support/ops'
import { databaseIni, startService, type ServiceProcess } from '../support/service-process'
import { buildMessage, sendMail } from '../support/smtp-client'
import { eventually } from '../worker/harness'

const FAILED_AT = Date.UTC(2026, 11, 6, 7, 40, 0)

async function seed(t: TestDatabase): Promise<void> {
  const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
  await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
  await addAllowedIp(t.db, acme.id, '127.0.0.1')
  // One SMS the carrier reported undeliverable, for the last errors.
  const [{ ids }] = await insertEmails(t.db, [
    [
      {
        accountId: acme.id,
        senderId: null,
        senderEmail: 'alice@acme.example',
        recipient: '+33611111111',
        body: 'lost',
        encoding: 'gsm7',
        segments: 1,
        sourceMessageId: null,
        dedupeKey: 'status-test-failed',
        mxTransaction: null,
        timeZone: 'UTC',
      },
    ],
  ])
  await t.db('outbound_sms').where({ id: ids[0] }).update({
    status: 'undeliverable',
    last_error: 'receipt: undeliverable (error 001)',
    final_at: FAILED_AT,
  })
}

for (const kind of databaseKinds()) {
  describe(`mail2sms status (${kind})`, function () {
    this.timeout(120_000)
    const saved = process.env.MAIL2SMS_CONFIG
    let t: TestDatabase
    let dir: string
    let mx: RunningMx | undefined
    let worker: ServiceProcess | undefined
    let admin: ServiceOps | undefined

    async function status() {
      const out: string[] = []
      const code = await run(['status'], { out: (l) => out.push(l), err: (l) => out.push(l) })
      return { code, out }
    }

    after(async () => {
      await worker?.stop()
      await admin?.close()
      await mx?.stop()
      await t?.drop()
      if (saved === undefined) delete process.env.MAIL2SMS_CONFIG
      else process.env.MAIL2SMS_CONFIG = saved
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('says everything is up, then names what went down, with the queue and the last errors', async () => {
      t = await createTestDatabase(kind)
      await seed(t)
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-status-'))
      const ports = { mx: await freePort(), worker: await freePort(), admin: await freePort() }
      const ops = [
        '[ops]',
        `mx_listen=127.0.0.1:${ports.mx}`,
        `worker_listen=127.0.0.1:${ports.worker}`,
        `admin_listen=127.0.0.1:${ports.admin}`,
      ]
      const file = path.join(dir, 'mail2sms.ini')
      mx = await startMx({ database: t.config, opsPort: ports.mx })
      worker = startService(
        path.join(dir, 'worker.ini'),
        [
          ...databaseIni(t.config),
          '[worker]',
          'transport=console',
          'poll_ms=20',
          '[mailer]',
          `directory=${dir}/mail`,
          ...ops,
        ],
        ['worker', '--no-migrate'],
      )
      // The admin's listener, as admin/main.ts starts it.
      admin = await startServiceOps({
        listen: { host: '127.0.0.1', port: ports.admin },
        db: t.db,
        log: () => undefined,
      })
      fs.writeFileSync(file, [...databaseIni(t.config), ...ops].join('\n') + '\n')
      process.env.MAIL2SMS_CONFIG = file
      await eventually(
        () => httpGet(ports.worker, '/readyz').catch(() => ({ status: 0 })),
        (r) => r.status === 200,
        30_000,
      )

      const sent = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345678@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'hello' }),
      })
      assert.equal(sent.data?.code, 250)
      await eventually(
        () => t.db('outbound_sms').where({ status: 'sent' }).count({ n: '*' }),
        (rows) => Number(rows[0].n) === 1,
      )
      const up = await status()
      assert.equal(up.code, 0, up.out.join('\n'))
      const where = (port: number) => `http://127.0.0.1:${port}`
      const expected = [
        'Mail2SMS: everything is up',
        `MX: up and ready (${where(ports.mx)})`,
        '  database: ok, answers, migrations current',
        '  since start: 1 emails accepted, 1 SMS queued, 0 refusals',
        `Worker: up and ready (${where(ports.worker)})`,
        '  database: ok, answers, migrations current',
        '  smsc: ok, console transport: SMS are printed, no SMSC used',
        '  since start: 1 SMS sent, 0 delivered, 0 failed, 0 retries',
        `Admin: up and ready (${where(ports.admin)})`,
        '  database: ok, answers, migrations current',
        '  since start: 0 requests',
        `Database: up (${kind === 'sqlite' ? `sqlite:${t.config.sqliteFile}` : 'mysql://'}`,
        'Migrations: current (',
        'Queue: no SMS waiting to be sent; 1 sent awaiting their receipt',
        'Last failed SMS:',
        '  2026-12-06 07:40:00 UTC  sms 1 to +33611111111 from alice@acme.example: undeliverable, receipt: undeliverable (error 001)',
      ]
      assert.equal(up.out.length, expected.length, up.out.join('\n'))
      for (const [i, line] of expected.entries())
        assert.ok(up.out[i].startsWith(line), `line ${i}: "${up.out[i]}", expected "${line}"`)

      // The worker stops; mail keeps coming in and waits.
      assert.equal(await worker.stop(), 0)
      const queued = await sendMail(mx.port, {
        from: 'alice@acme.example',
        to: [`0612345679@${SMS_DOMAIN}`, `0612345670@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'waiting' }),
      })
      assert.equal(queued.data?.code, 250)
      const down = await status()
      assert.equal(down.code, 1, down.out.join('\n'))
      assert.equal(down.out[0], 'Mail2SMS: SOMETHING IS DOWN')
      assert.ok(
        down.out.includes(`Worker: DOWN, nothing answers at ${where(ports.worker)} (ECONNREFUSED)`),
        down.out.join('\n'),
      )
      assert.ok(down.out.some((l) => l.startsWith(`MX: up and ready`)))
      assert.ok(
        down.out.some((l) =>
          /^Queue: 2 SMS due now, the oldest due for \d+ s; 0 waiting for a later retry; 1 sent awaiting their receipt$/.test(
            l,
          ),
        ),
        down.out.join('\n'),
      )
    })
  })
}
