import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { readPairs } from '../../lib/log/free-text'
import { makeHarakaDir } from '../support/haraka-dir'
import { freePort } from '../support/mx'

const ROOT = path.resolve(__dirname, '..', '..')

/**
 * `mail2sms start` as a newcomer runs it: the shipped configuration (only the ports and the
 * SQLite file moved to the test's own), a database that does not exist yet.
 */
describe('mail2sms start: a quiet first start', function () {
  this.timeout(180_000)
  let dir: string
  let child: ChildProcess | null = null
  let output = ''

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-first-'))
    makeHarakaDir(path.join(dir, 'haraka'), await freePort())
    fs.writeFileSync(
      path.join(dir, 'mail2sms.ini'),
      [
        '[database]',
        `sqlite_file=${dir}/fresh.sqlite`,
        '[admin]',
        `port=${await freePort()}`,
        '[mailer]',
        `directory=${dir}/mail`,
      ].join('\n') + '\n',
    )
  })

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('starts the MX, the worker and the admin with no line at level error', async () => {
    child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mail2sms.js'), 'start'], {
      env: {
        ...process.env,
        MAIL2SMS_CONFIG: path.join(dir, 'mail2sms.ini'),
        MAIL2SMS_HARAKA_DIR: path.join(dir, 'haraka'),
        // The admin makes its session secret in data/ of the project: given here instead.
        MAIL2SMS_SESSION_SECRET: 's'.repeat(40),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout?.on('data', (c) => (output += c))
    child.stderr?.on('data', (c) => (output += c))
    // Ready: Haraka listens, the worker runs (console transport) and the admin serves.
    const ready = [
      /service=mx event=server .*Listening on/,
      /event=worker\.started/,
      /event=admin\.listening/,
    ]
    const deadline = Date.now() + 150_000
    while (!ready.every((r) => r.test(output))) {
      assert.ok(Date.now() < deadline, `not ready in time:\n${output.slice(-4000)}`)
      assert.equal(child.exitCode, null, `exited early:\n${output.slice(-4000)}`)
      await new Promise((r) => setTimeout(r, 200))
    }
    // A moment for anything the start still has to say.
    await new Promise((r) => setTimeout(r, 1000))
    const lines = output.split('\n').filter((l) => l.trim() !== '')
    assert.deepEqual(
      lines.filter((l) => /level=(error|ERROR|crit|CRIT)\b|\bERROR\b/.test(l)),
      [],
      'no error at a normal first start',
    )
    assert.doesNotMatch(output, /tls (key|cert)/i)
    // And every line, Haraka's included, is one logfmt record of ours.
    for (const line of lines) {
      const read = readPairs(line)
      assert.ok(read?.time && read.level && read.service && read.event, `not a log line: ${line}`)
    }
  })
})
