import assert from 'node:assert/strict'
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { waitForPort } from '../support/wait-for-port'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { freePort } from '../support/mx'
import { seedAdmin, type SeededAdmin } from '../browser/seed'

const ROOT = path.resolve(__dirname, '..', '..')
const SHIPPED_CONF = path.join(ROOT, 'deploy', 'nginx', 'mail2sms-admin.conf')
const NGINX = '/usr/sbin/nginx'
const SERVER_NAME = 'sms-admin.example.com'
/** Every 127.0.0.0/8 address is this host's: each stands for another client of the proxy. */
const CLIENT_A = '127.0.0.2'
const CLIENT_B = '127.0.0.3'

/** Replaces `from` exactly once, so a change to the shipped file cannot pass unnoticed. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from)
  assert.ok(at !== -1 && text.indexOf(from, at + 1) === -1, `"${from}" once in ${SHIPPED_CONF}`)
  return text.slice(0, at) + to + text.slice(at + from.length)
}

/** The shipped server blocks on test ports, with the test certificate and the admin's port. */
function adaptShippedConf(
  dir: string,
  ports: { http: number; https: number; admin: number },
): string {
  let conf = fs.readFileSync(SHIPPED_CONF, 'utf8')
  conf = replaceOnce(conf, 'listen 80;', `listen 127.0.0.1:${ports.http};`)
  conf = replaceOnce(conf, 'listen [::]:80;', '')
  conf = replaceOnce(conf, 'listen 443 ssl http2;', `listen 127.0.0.1:${ports.https} ssl http2;`)
  conf = replaceOnce(conf, 'listen [::]:443 ssl http2;', '')
  conf = replaceOnce(
    conf,
    `/etc/letsencrypt/live/${SERVER_NAME}/fullchain.pem`,
    path.join(dir, 'fullchain.pem'),
  )
  conf = replaceOnce(
    conf,
    `/etc/letsencrypt/live/${SERVER_NAME}/privkey.pem`,
    path.join(dir, 'privkey.pem'),
  )
  conf = replaceOnce(conf, 'root /var/www/acme;', `root ${path.join(dir, 'acme')};`)
  conf = replaceOnce(
    conf,
    'proxy_pass http://127.0.0.1:8080;',
    `proxy_pass http://127.0.0.1:${ports.admin};`,
  )
  return conf
}

/** A private nginx: everything it writes under `dir`, in the foreground so it is our child. */
function nginxMainConf(dir: string): string {
  const temp = (name: string) => `${name}_temp_path ${path.join(dir, 'temp', name)};`
  return [
    'worker_processes 1;',
    'daemon off;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} warn;`,
    'events { worker_connections 64; }',
    'http {',
    `  access_log ${path.join(dir, 'access.log')};`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `  ${temp(n)}`),
    `  include ${path.join(dir, 'mail2sms-admin.conf')};`,
    '}',
  ].join('\n')
}

interface Response {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

describe('deploy/nginx: TLS in front of the admin, with trusted_proxies', function () {
  this.timeout(120_000)
  let dir: string
  let t: TestDatabase
  let admin: SeededAdmin
  let adminProcess: ChildProcess | undefined
  let nginx: ChildProcess | undefined
  let adminLog = ''
  let cert: Buffer
  const ports = { http: 0, https: 0, admin: 0 }

  /** One HTTPS request to nginx from `client`, checking nginx's certificate. */
  function request(
    client: string,
    method: 'GET' | 'POST',
    pathname: string,
    opts: { form?: Record<string, string>; cookie?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: ports.https,
          localAddress: client,
          servername: SERVER_NAME,
          ca: [cert],
          method,
          path: pathname,
          agent: false,
          headers: {
            host: `${SERVER_NAME}:${ports.https}`,
            ...(body
              ? {
                  'content-type': 'application/x-www-form-urlencoded',
                  'content-length': String(Buffer.byteLength(body)),
                  origin: `https://${SERVER_NAME}:${ports.https}`,
                }
              : {}),
            ...(opts.cookie ? { cookie: opts.cookie } : {}),
            ...opts.headers,
          },
        },
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (c: string) => (text += c))
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
          )
        },
      )
      req.once('error', reject)
      req.end(body)
    })
  }

  const login = (
    client: string,
    email: string,
    password: string,
    headers?: Record<string, string>,
  ) => request(client, 'POST', '/login', { form: { email, password }, headers })

  before(async function () {
    if (!fs.existsSync(NGINX)) {
      // .ci/run installs nginx-light; elsewhere the suite says why it did not run.
      if (process.env.CI === 'true') assert.fail(`${NGINX} is missing (package nginx-light)`)
      this.skip()
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-nginx-'))
    // Run as root, nginx's workers drop to nobody and must reach their temp folders.
    fs.chmodSync(dir, 0o755)
    fs.mkdirSync(path.join(dir, 'temp'))
    fs.mkdirSync(path.join(dir, 'acme', '.well-known', 'acme-challenge'), { recursive: true })
    fs.writeFileSync(path.join(dir, 'acme', '.well-known', 'acme-challenge', 'token1'), 'proof\n')
    ports.http = await freePort()
    ports.https = await freePort()
    ports.admin = await freePort()

    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '2', '-subj', `/CN=${SERVER_NAME}`, '-addext', `subjectAltName=DNS:${SERVER_NAME}`,
      '-keyout', path.join(dir, 'privkey.pem'), '-out', path.join(dir, 'fullchain.pem'),
    ], { stdio: 'pipe' }) // prettier-ignore
    fs.chmodSync(path.join(dir, 'privkey.pem'), 0o600)
    cert = fs.readFileSync(path.join(dir, 'fullchain.pem'))

    t = await createTestDatabase('sqlite')
    const account = await createAccount(t.db, { ref: 'acme', name: 'Acme Proxy Test' })
    admin = await seedAdmin(t.db, [account.id])
    fs.writeFileSync(
      path.join(dir, 'mail2sms.ini'),
      [
        '[database]',
        `sqlite_file=${t.config.sqliteFile}`,
        '[admin]',
        // As the guide and the comments of mail2sms-admin.conf say.
        'host=127.0.0.1',
        `port=${ports.admin}`,
        `base_url=https://${SERVER_NAME}:${ports.https}`,
        'trusted_proxies=127.0.0.1',
        `session_secret=${'n'.repeat(40)}`,
        'login_max_failures=3',
        '[mailer]',
        'transport=file',
        `directory=${path.join(dir, 'mail')}`,
      ].join('\n') + '\n',
    )
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MAIL2SMS_CONFIG: path.join(dir, 'mail2sms.ini'),
      DATABASE_URL: '',
    }
    delete env.NODE_ENV
    adminProcess = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'mail2sms.js'), 'admin', '--no-migrate'],
      {
        env,
        stdio: 'pipe',
      },
    )
    adminProcess.stdout?.on('data', (c) => (adminLog += c))
    adminProcess.stderr?.on('data', (c) => (adminLog += c))

    fs.writeFileSync(path.join(dir, 'mail2sms-admin.conf'), adaptShippedConf(dir, ports))
    fs.writeFileSync(path.join(dir, 'nginx.conf'), nginxMainConf(dir))
    const check = spawnSync(
      NGINX,
      ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
      {
        encoding: 'utf8',
      },
    )
    assert.equal(check.status, 0, check.stderr)
    nginx = spawn(
      NGINX,
      ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')],
      {
        stdio: 'ignore',
      },
    )
    await waitForPort('127.0.0.1', ports.https, 20_000, nginx)
    await waitForPort('127.0.0.1', ports.admin, 60_000, adminProcess).catch((err: Error) => {
      throw new Error(`${err.message}\n${adminLog}`)
    })
  })

  after(async () => {
    const stopped = (child: ChildProcess | undefined, signal: NodeJS.Signals) =>
      new Promise<void>((resolve) => {
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill(signal)
      })
    // SIGQUIT: nginx's graceful stop, its workers with it.
    await Promise.all([stopped(nginx, 'SIGQUIT'), stopped(adminProcess, 'SIGTERM')])
    await t?.drop()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  it('redirects plain HTTP to HTTPS but serves the ACME challenge', async () => {
    const get = (pathname: string) =>
      new Promise<{ status: number; location?: string; body: string }>((resolve, reject) => {
        const req = http.get(
          { host: '127.0.0.1', port: ports.http, path: pathname, headers: { host: SERVER_NAME } },
          (res) => {
            let body = ''
            res.on('data', (c) => (body += c))
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }),
            )
          },
        )
        req.once('error', reject)
      })
    const redirect = await get('/login')
    assert.equal(redirect.status, 301)
    assert.equal(redirect.location, `https://${SERVER_NAME}/login`)
    const challenge = await get('/.well-known/acme-challenge/token1')
    assert.equal(challenge.status, 200)
    assert.equal(challenge.body, 'proof\n')
  })

  it('logs in through nginx over TLS: Secure session cookie, HSTS from the admin', async () => {
    const form = await request(CLIENT_A, 'GET', '/login')
    assert.equal(form.status, 200)
    assert.match(form.body, /name="password"/)
    const ok = await login(CLIENT_B, admin.email, admin.password)
    assert.equal(ok.status, 303, ok.body)
    const cookies = ([] as string[]).concat(ok.headers['set-cookie'] ?? [])
    assert.ok(cookies.length > 0, 'a session cookie')
    for (const c of cookies) assert.match(c, /; Secure/i, c)
    assert.equal(ok.headers['strict-transport-security'], 'max-age=31536000')
    const cookie = cookies.map((c) => c.split(';')[0]).join('; ')
    // With one account, the home page leads to that account's pages.
    const root = await request(CLIENT_B, 'GET', '/', { cookie })
    assert.equal(root.status, 302)
    const location = new URL(String(root.headers.location), `https://${SERVER_NAME}`)
    assert.notEqual(location.pathname, '/login')
    const home = await request(CLIENT_B, 'GET', location.pathname + location.search, { cookie })
    assert.equal(home.status, 200)
    assert.ok(home.body.includes('Acme Proxy Test'), 'the account is shown, not the login form')
  })

  it('counts failed logins per client behind nginx, not per nginx, and ignores a forged X-Forwarded-For', async () => {
    // Three wrong passwords for three unknown addresses from client A lock client A only.
    for (const n of [1, 2, 3]) {
      const wrong = await login(CLIENT_A, `nobody${n}@example.test`, 'wrong', {
        // nginx replaces this: it must not spread the failures over made-up clients.
        'x-forwarded-for': `198.51.100.${n}`,
      })
      // The failure that reaches login_max_failures is answered with the lock already.
      assert.equal(wrong.status, n < 3 ? 401 : 429)
    }
    const keys = (await t.db('login_throttle').select('throttle_key')).map((r) => r.throttle_key)
    assert.ok(keys.includes(`ip:${CLIENT_A}`), keys.join(', '))
    assert.ok(!keys.includes('ip:127.0.0.1'), 'nginx itself is never counted')
    assert.ok(
      !keys.some((k: string) => k.startsWith('ip:198.51.100.')),
      'forged addresses not counted',
    )

    const locked = await login(CLIENT_A, admin.email, admin.password, {
      'x-forwarded-for': '203.0.113.7',
    })
    assert.equal(locked.status, 429, 'client A is locked, forged header or not')
    const other = await login(CLIENT_B, admin.email, admin.password)
    assert.equal(other.status, 303, 'client B, behind the same nginx, still logs in')
  })
})
