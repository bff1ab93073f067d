import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { run } from '../../bin/cli'
import { sessionSecret } from '../../admin/main'
import { verifyPassword } from '../../lib/auth/password'
import { openDb } from '../../lib/db/connection'

const ROOT = path.resolve(__dirname, '..', '..')

/** Resolves with the first match of pattern in the child's stdout; rejects if it exits first. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = ''
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      const match = pattern.exec(seen)
      if (match) {
        child.stdout?.off('data', onData)
        resolve(match)
      }
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before ${pattern}:\n${seen}`)),
    )
  })
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

describe('mail2sms admin commands', function () {
  this.timeout(60_000)
  let dir: string
  let configFile: string
  const saved = process.env.MAIL2SMS_CONFIG

  async function cli(
    argv: string[],
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = []
    const err: string[] = []
    const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, env)
    return { code, out: out.join('\n'), err: err.join('\n') }
  }

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-admin-cli-'))
    configFile = path.join(dir, 'mail2sms.ini')
    fs.writeFileSync(
      configFile,
      `[database]\nsqlite_file=${dir}/cli.sqlite\n[admin]\nport=0\n[mailer]\ndirectory=${dir}/mail\n`,
    )
    process.env.MAIL2SMS_CONFIG = configFile
    assert.equal((await cli(['migrate'])).code, 0)
    assert.equal((await cli(['account', 'create', 'acme', '--name', 'Acme SA'])).code, 0)
    assert.equal((await cli(['account', 'create', 'globex', '--name', 'Globex'])).code, 0)
  })

  after(() => {
    if (saved === undefined) delete process.env.MAIL2SMS_CONFIG
    else process.env.MAIL2SMS_CONFIG = saved
    fs.rmSync(dir, { recursive: true, force: true })
  })

  async function storedHash(email: string): Promise<string> {
    const db = openDb({ url: null, sqliteFile: `${dir}/cli.sqlite`, poolMax: 1 })
    try {
      return String((await db('admins').where({ email }).first()).password_hash)
    } finally {
      await db.destroy()
    }
  }

  it('creates a login with the password from MAIL2SMS_ADMIN_PASSWORD, never printed', async () => {
    const r = await cli(
      ['admin-user', 'create', '--email', 'Alice@Acme.test', '--name', 'Alice Martin'],
      { MAIL2SMS_ADMIN_PASSWORD: 'a long enough secret' },
    )
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /^created admin login alice@acme\.test \(id \d+\)$/)
    assert.doesNotMatch(r.out, /a long enough secret/)
    assert.equal(
      await verifyPassword('a long enough secret', await storedHash('alice@acme.test')),
      true,
    )
  })

  it('generates and prints a password once when none is given', async () => {
    const r = await cli([
      'admin-user',
      'create',
      '--email',
      'op@example.com',
      '--name',
      'Op',
      '--operator',
    ])
    assert.equal(r.code, 0, r.err)
    assert.match(r.out, /created admin login op@example\.com \(id \d+\) operator/)
    const password = /password: (\S+)/.exec(r.out)?.[1] ?? ''
    assert.ok(password.length >= 20)
    assert.equal(await verifyPassword(password, await storedHash('op@example.com')), true)
  })

  it('grants accounts and lists the logins', async () => {
    const granted = await cli([
      'admin-user',
      'grant',
      '--email',
      'alice@acme.test',
      '--account',
      'acme',
    ])
    assert.equal(granted.code, 0, granted.err)
    assert.equal(granted.out, 'alice@acme.test now administers acme')
    const again = await cli([
      'admin-user',
      'grant',
      '--email',
      'ALICE@acme.test',
      '--account',
      'acme',
    ])
    assert.equal(again.out, 'alice@acme.test already administered acme')
    await cli(['admin-user', 'grant', '--email', 'alice@acme.test', '--account', 'globex'])
    const list = await cli(['admin-user', 'list'])
    assert.equal(
      list.out,
      'alice@acme.test\tAlice Martin\tadmin\taccounts=acme,globex\nop@example.com\tOp\toperator\taccounts=-',
    )
  })

  it('refuses bad input with a message', async () => {
    const short = await cli(['admin-user', 'create', '--email', 'b@acme.test', '--name', 'B'], {
      MAIL2SMS_ADMIN_PASSWORD: 'short',
    })
    assert.equal(short.code, 1)
    assert.match(short.err, /MAIL2SMS_ADMIN_PASSWORD is shorter than 10 characters/)
    const dup = await cli(['admin-user', 'create', '--email', 'alice@acme.test', '--name', 'A'])
    assert.equal(dup.code, 1)
    assert.match(dup.err, /already has a login/)
    const noName = await cli(['admin-user', 'create', '--email', 'c@acme.test'])
    assert.equal(noName.code, 2)
    assert.match(noName.err, /needs --name/)
    const nobody = await cli(['admin-user', 'grant', '--email', 'x@acme.test', '--account', 'acme'])
    assert.equal(nobody.code, 1)
    assert.match(nobody.err, /no admin login x@acme\.test/)
    const noAccount = await cli([
      'admin-user',
      'grant',
      '--email',
      'alice@acme.test',
      '--account',
      'nope',
    ])
    assert.equal(noAccount.code, 1)
    assert.match(noAccount.err, /no account with reference "nope"/)
    const unknown = await cli(['admin-user', 'delete'])
    assert.equal(unknown.code, 2)
    assert.match(unknown.err, /unknown command "admin-user delete"/)
  })

  it('runs the admin as a process that serves the login and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mail2sms.js'), 'admin'], {
      env: {
        ...process.env,
        MAIL2SMS_CONFIG: configFile,
        MAIL2SMS_SESSION_SECRET: 'a-session-secret-for-this-test-of-40-chars',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const [, port] = await waitForOutput(
        child,
        /event=admin\.listening url=http:\/\/127\.0\.0\.1:(\d+)/,
      )
      const res = await fetch(`http://127.0.0.1:${port}/login`)
      assert.equal(res.status, 200)
      assert.match(await res.text(), /<h1>Connexion<\/h1>/)
      const login = await fetch(`http://127.0.0.1:${port}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: `http://127.0.0.1:0`,
        },
        body: 'email=alice%40acme.test&password=a+long+enough+secret',
      })
      // base_url is http://127.0.0.1:0 here: the Origin check uses it.
      assert.equal(login.status, 303)
      child.kill('SIGTERM')
      assert.equal(await exitOf(child), 0)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('runs the admin beside the others under the supervisor', async () => {
    const script = `
      require('ts-node').register({ transpileOnly: true })
      const { loadConfig } = require('./lib/config')
      const { runSupervisor } = require('./lib/process/supervisor')
      runSupervisor(loadConfig(), { only: 'admin' }).then((code) => process.exit(code))
    `
    const child = spawn(process.execPath, ['-e', script], {
      cwd: ROOT,
      env: {
        ...process.env,
        MAIL2SMS_CONFIG: configFile,
        MAIL2SMS_SESSION_SECRET: 'a-session-secret-for-this-test-of-40-chars',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      await waitForOutput(child, /event=service\.started name=admin pid=\d+/)
      const [, port] = await waitForOutput(
        child,
        /event=admin\.listening url=http:\/\/127\.0\.0\.1:(\d+)/,
      )
      assert.equal((await fetch(`http://127.0.0.1:${port}/login`)).status, 200)
      child.kill('SIGTERM')
      assert.equal(await exitOf(child), 0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})

describe('admin session secret', () => {
  let dir: string
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-secret-'))
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it('makes one in a file readable by the owner only, then keeps using it', () => {
    const file = path.join(dir, 'data', 'session.secret')
    const secret = sessionSecret('', file)
    assert.match(secret, /^[0-9a-f]{96}$/)
    assert.equal(fs.statSync(file).mode & 0o777, 0o600)
    assert.equal(sessionSecret('', file), secret)
  })

  it('prefers the configured secret and leaves the file alone', () => {
    const file = path.join(dir, 'session.secret')
    assert.equal(sessionSecret('x'.repeat(40), file), 'x'.repeat(40))
    assert.equal(fs.existsSync(file), false)
  })
})
