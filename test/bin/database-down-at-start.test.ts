import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { isSchemaCurrent, migrateLatest } from '../../lib/db/migrate'
import { insertEmails } from '../../lib/db/outbound'
import { addSender } from '../../lib/db/senders'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { freePort, startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail } from '../support/smtp-client'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy'
import { eventually } from '../worker/harness'
import { makeHarakaDir } from '../support/haraka-dir'

const ROOT = path.resolve(__dirname, '..', '..')

/** The test database's URL, moved to a port where nothing listens yet. */
function urlOnPort(t: TestDatabase, port: number): string {
  const url = new URL(t.config.url as string)
  url.port = String(port)
  return url.toString()
}

describe('starting while the database is down (mysql)', function () {
  this.timeout(120_000)
  let t: TestDatabase
  let proxy: TcpProxy | undefined
  let dir: string

  beforeEach(async () => {
    t = await createTestDatabase('mysql', { migrate: false })
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-down-'))
  })

  afterEach(async () => {
    await proxy?.close()
    proxy = undefined
    await t.drop()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('mail2sms worker stays up, says what it waits for, then migrates and sends', async () => {
    const port = await freePort()
    const configFile = path.join(dir, 'mail2sms.ini')
    fs.writeFileSync(
      configFile,
      `[database]\nquery_timeout_ms=1000\n[worker]\ntransport=console\npoll_ms=20\n[mailer]\ndirectory=${dir}/mail\n`,
    )
    const child: ChildProcess = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'mail2sms.js'), 'worker'],
      {
        env: { ...process.env, MAIL2SMS_CONFIG: configFile, DATABASE_URL: urlOnPort(t, port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let output = ''
    child.stdout?.on('data', (c) => (output += c))
    child.stderr?.on('data', (c) => (output += c))
    try {
      const where = `mysql://127\\.0\\.0\\.1:${port}/${new URL(t.config.url as string).pathname.slice(1)}`
      const waiting = new RegExp(`waiting for the database at ${where}: .+; next try in \\d+ s`)
      await eventually(
        async () => output,
        (o) => (o.match(new RegExp(waiting, 'g')) ?? []).length >= 2,
        20_000,
      )
      assert.equal(child.exitCode, null, `the worker exited:\n${output}`)

      proxy = await startTcpProxy('127.0.0.1', Number(new URL(t.config.url as string).port), {
        port,
      })
      await eventually(
        async () => output,
        (o) => /migrations applied: /.test(o),
        60_000,
      )
      const account = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      await insertEmails(t.db, [
        [
          {
            accountId: account.id,
            senderId: null,
            senderEmail: 'alice@acme.example',
            recipient: '+33612345678',
            body: 'sent once the database came',
            encoding: 'gsm7',
            segments: 1,
            sourceMessageId: null,
            dedupeKey: crypto.randomUUID(),
            mxTransaction: crypto.randomUUID(),
            timeZone: 'UTC',
          },
        ],
      ])
      await eventually(
        async () => (await t.db('outbound_sms').first('status'))?.status,
        (s) => s === 'sent',
        20_000,
      )
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      assert.equal(await exited, 0, output)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('the MX starts, answers 451 until the database answers with its schema current, then 250', async () => {
    const port = await freePort()
    let mx: RunningMx | undefined
    try {
      mx = await startMx({
        database: { ...t.config, url: urlOnPort(t, port), queryTimeoutMs: 1000 },
      })
      const send = () =>
        sendMail(mx!.port, {
          from: 'alice@acme.example',
          to: [`0612345678@${SMS_DOMAIN}`],
          message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'hello' }),
        })
      const down = await send()
      assert.equal(down.mail?.code, 451, JSON.stringify(down))
      assert.match(mx.logs(), /database not ready: .*ECONNREFUSED/)

      // The server answers, but the schema is not there yet: still 451.
      proxy = await startTcpProxy('127.0.0.1', Number(new URL(t.config.url as string).port), {
        port,
      })
      await eventually(
        async () => mx!.logs(),
        (l) => /database not ready: .*migrations pending/.test(l),
      )
      assert.equal((await send()).mail?.code, 451)

      await migrateLatest(t.db)
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted' })
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      const up = await eventually(send, (r) => r.data?.code === 250, 20_000)
      assert.match(up.data?.text ?? '', /queued as SMS \d+/)
      assert.match(mx.logs(), /database ready/)
    } finally {
      await mx?.stop()
    }
  })

  it('mail2sms start keeps every service up, the MX answering 451, until the database comes', async () => {
    const dbPort = await freePort()
    const mxPort = await freePort()
    const adminPort = await freePort()
    const configFile = path.join(dir, 'mail2sms.ini')
    fs.writeFileSync(
      configFile,
      [
        '[database]',
        'query_timeout_ms=1000',
        '[mx]',
        `domains=${SMS_DOMAIN}`,
        'cache_refresh_ms=0',
        '[admin]',
        `port=${adminPort}`,
        `session_secret=${'s'.repeat(40)}`,
        '[mailer]',
        `directory=${dir}/mail`,
      ].join('\n') + '\n',
    )
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mail2sms.js'), 'start'], {
      env: {
        ...process.env,
        MAIL2SMS_CONFIG: configFile,
        MAIL2SMS_HARAKA_DIR: makeHarakaDir(path.join(dir, 'haraka'), mxPort),
        DATABASE_URL: urlOnPort(t, dbPort),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (c) => (output += c))
    child.stderr?.on('data', (c) => (output += c))
    const send = () =>
      sendMail(mxPort, {
        from: 'alice@acme.example',
        to: [`0612345678@${SMS_DOMAIN}`],
        message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'hello' }),
      })
    try {
      await eventually(
        async () => output,
        (o) => /waiting for the database at .+; next try in \d+ s/.test(o),
        30_000,
      )
      const down = await eventually(
        () => send().catch(() => null),
        (r) => r !== null,
        60_000,
      )
      assert.equal(down?.mail.code, 451, JSON.stringify(down))
      assert.equal(child.exitCode, null, `the supervisor exited:\n${output}`)

      proxy = await startTcpProxy('127.0.0.1', Number(new URL(t.config.url as string).port), {
        port: dbPort,
      })
      // The supervisor migrates; then the MX sees the schema current and takes mail. Waiting
      // for every migration, not for one table: a later one may add a column the seed writes.
      await eventually(
        () => isSchemaCurrent(t.db),
        (current) => current,
        60_000,
      )
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted' })
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      const up = await eventually(send, (r) => r.data?.code === 250, 30_000)
      assert.match(up.data?.text ?? '', /queued as SMS \d+/)
      assert.doesNotMatch(output, /exited \(code/)
      const stopped = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      assert.equal(await stopped, 0, output.slice(-3000))
    } finally {
      child.kill('SIGKILL')
    }
  })
})
