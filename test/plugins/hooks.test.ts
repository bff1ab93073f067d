import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import constants from 'haraka-constants'
import fixtures from 'haraka-test-fixtures'
import { Address } from '@haraka/email-address'
import type { Connection, Plugin } from 'haraka'
import * as connectPlugin from '../../plugins/connect.sms_allowlist/plugin'
import * as mailPlugin from '../../plugins/mail_from.sms_sender/plugin'
import * as queuePlugin from '../../plugins/queue.sms_outbox/plugin'
import * as logPlugin from '../../plugins/log.sms_format/plugin'
import * as dataPlugin from '../../plugins/data.sms_text/plugin'
import { capturedMessage } from '../../plugins/_shared/message-capture'
import { closeMxRuntime } from '../../lib/mx/runtime'

/** A stand-in for Haraka's plugin object: only what the hooks call. */
function fakePlugin(name: string): Plugin {
  return {
    name,
    timeout: 30,
    register_hook: () => undefined,
    haraka_require: () => undefined,
    loginfo: () => undefined,
    lognotice: () => undefined,
    logerror: () => undefined,
  }
}

function hookResult(
  run: (next: (code?: number, msg?: unknown) => void) => void,
): Promise<{ code?: number; msg?: unknown }> {
  return new Promise((resolve) => {
    let calls = 0
    run((code, msg) => {
      calls += 1
      assert.equal(calls, 1, 'next() called more than once')
      resolve({ code, msg })
    })
  })
}

function newConnection(): Connection {
  const connection = fixtures.connection.createConnection()
  connection.init_transaction()
  return connection as unknown as Connection
}

describe('plugin hooks, outside a running Haraka', () => {
  const savedConfig = process.env.MAIL2SMS_CONFIG
  let dir: string

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-hooks-'))
    // A database that cannot be opened: every hook that needs it must ask the client to retry.
    fs.writeFileSync(
      path.join(dir, 'mail2sms.ini'),
      '[database]\nsqlite_file=/dev/null/unreachable.sqlite\n',
    )
    process.env.MAIL2SMS_CONFIG = path.join(dir, 'mail2sms.ini')
  })

  after(async () => {
    await closeMxRuntime()
    if (savedConfig === undefined) delete process.env.MAIL2SMS_CONFIG
    else process.env.MAIL2SMS_CONFIG = savedConfig
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('MAIL starts keeping the message, so that the end of DATA reads it without the stream', async () => {
    const connection = newConnection()
    const txn = connection.transaction as unknown as {
      message_stream: Parameters<typeof capturedMessage>[0]
      add_data(line: Buffer): void
    }
    const r = await hookResult((next) =>
      dataPlugin.capture_message.call(fakePlugin('data.sms_text'), next, connection),
    )
    assert.equal(r.code, undefined)
    for (const line of ['Subject: hi\r\n', '\r\n', '..dotted\r\n']) txn.add_data(Buffer.from(line))
    assert.equal(capturedMessage(txn.message_stream)?.toString(), 'Subject: hi\r\n\r\n.dotted\r\n')
  })

  it("connect_init leaves out Haraka's notices of accepted steps, and lets every other through", async () => {
    const connection = newConnection()
    const reached: unknown[][] = []
    connection.lognotice = ((...args: unknown[]) => reached.push(args)) as Connection['lognotice']
    const plugin = fakePlugin('log.sms_format')
    const r = await hookResult((next) =>
      logPlugin.skip_accepted_step_notices.call(plugin, next, connection),
    )
    assert.equal(r.code, undefined)
    const log = connection.lognotice as unknown as (...args: unknown[]) => void
    log('sender <a@acme.example>', { code: 'CONT', msg: '' })
    log('recipient <0612345678@sms.example.test>', { code: 'OK', msg: '' })
    log('message', { mid: '<1@acme.example>', code: 'CONT', msg: '' })
    log('recipient <0612345678@elsewhere.example>', { code: 'DENY', msg: 'relay denied' })
    log(plugin, 'decision=deny')
    assert.deepEqual(
      reached.map((args) => args[0]),
      ['recipient <0612345678@elsewhere.example>', plugin],
    )
  })

  it("connect_init turns Nagle off on the TCP socket under Haraka's wrapper", async () => {
    const connection = newConnection()
    const calls: boolean[] = []
    connection.client = { targetsocket: { setNoDelay: (on: boolean) => calls.push(on) } }
    const r = await hookResult((next) =>
      connectPlugin.disable_nagle.call(fakePlugin('connect.sms_allowlist'), next, connection),
    )
    assert.equal(r.code, undefined)
    assert.deepEqual(calls, [true])
  })

  it('MAIL FROM answers DENYSOFT 451 4.3.0 when the database is unreachable', async () => {
    const connection = newConnection()
    const r = await hookResult((next) =>
      mailPlugin.check_sender.call(fakePlugin('mail_from.sms_sender'), next, connection, [
        new Address('<alice@acme.example>'),
      ]),
    )
    assert.equal(r.code, constants.denysoft)
    assert.match(String(r.msg), /^4\.3\.0 sender check is temporarily unavailable/)
  })

  it('MAIL FROM lets the null sender through, to be refused per recipient', async () => {
    const connection = newConnection()
    const r = await hookResult((next) =>
      mailPlugin.check_sender.call(fakePlugin('mail_from.sms_sender'), next, connection, [
        new Address('<>'),
      ]),
    )
    assert.equal(r.code, undefined)
  })

  it('the queue hook never answers OK when nothing was committed', async () => {
    const connection = newConnection()
    const r = await hookResult((next) =>
      queuePlugin.confirm_queued.call(fakePlugin('queue.sms_outbox'), next, connection),
    )
    assert.equal(r.code, constants.denysoft)
  })
})
