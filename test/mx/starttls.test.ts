import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage } from '../support/smtp-client'
import { seedSendingAccount } from '../support/accounts'

const ROOT = path.resolve(__dirname, '..', '..')
const MX_NAME = `mx1.${SMS_DOMAIN}`
const SENDER = 'alice@acme.example'

/** A self-signed certificate for the MX's name, made with openssl as docs/production.md shows. */
function makeCertificate(dir: string): { key: string; cert: string; pem: Buffer } {
  const key = path.join(dir, 'privkey.pem')
  const cert = path.join(dir, 'fullchain.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${MX_NAME}`,
      '-addext',
      `subjectAltName=DNS:${MX_NAME}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'pipe' },
  )
  fs.chmodSync(key, 0o600)
  return { key, cert, pem: fs.readFileSync(cert) }
}

function shippedPlugins(): string[] {
  return fs
    .readFileSync(path.join(ROOT, 'config', 'plugins'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
}

/** config/plugins as shipped, with Haraka's tls plugin after the log format's, as the guide says. */
function pluginsWithTls(): string[] {
  const shipped = shippedPlugins()
  const at = shipped.indexOf('log.sms_format') + 1
  return [...shipped.slice(0, at), 'tls', ...shipped.slice(at)]
}

/** Reads SMTP replies from a socket that may be replaced by its TLS upgrade halfway. */
class Replies {
  private buffer = ''
  private waiting: (() => void) | null = null

  attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      this.waiting?.()
    })
  }

  /** The next complete reply: its code and its lines' text. */
  async next(timeoutMs = 15_000): Promise<{ code: number; lines: string[] }> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const lines = this.buffer.split('\r\n')
      const last = lines.findIndex((line) => /^\d{3} /.test(line))
      if (last !== -1) {
        this.buffer = lines.slice(last + 1).join('\r\n')
        const reply = lines.slice(0, last + 1)
        return { code: Number(reply[last].slice(0, 3)), lines: reply.map((l) => l.slice(4)) }
      }
      if (Date.now() > deadline) throw new Error(`no reply; so far: ${this.buffer}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100)
        this.waiting = () => {
          clearTimeout(timer)
          this.waiting = null
          resolve()
        }
      })
    }
  }
}

describe('MX: STARTTLS with the tls plugin and a certificate outside the project', function () {
  this.timeout(60_000)
  let t: TestDatabase
  let mx: RunningMx
  let tlsDir: string
  let certificate: ReturnType<typeof makeCertificate>

  before(async () => {
    t = await createTestDatabase('sqlite')
    await seedSendingAccount(t.db, { ref: 'acme' }, [SENDER])
    // Like /etc/mail2sms/tls in production: key and certificate away from the checkout.
    tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-tls-'))
    certificate = makeCertificate(tlsDir)
    mx = await startMx({
      database: t.config,
      plugins: pluginsWithTls(),
      extraConfigFiles: {
        'tls.ini': `key=${certificate.key}\ncert=${certificate.cert}\nminVersion=TLSv1.2\n`,
      },
    })
  })

  after(async () => {
    await mx?.stop()
    await t?.drop()
    if (tlsDir) fs.rmSync(tlsDir, { recursive: true, force: true })
  })

  it('offers STARTTLS, presents the certificate and queues an SMS over the encrypted session', async () => {
    const plain = net.connect({ host: '127.0.0.1', port: mx.port })
    const replies = new Replies()
    replies.attach(plain)
    const say = async (socket: net.Socket, line: string) => {
      socket.write(`${line}\r\n`)
      return replies.next()
    }
    try {
      assert.equal((await replies.next()).code, 220)
      const ehlo = await say(plain, 'EHLO client.example.net')
      assert.equal(ehlo.code, 250)
      assert.ok(ehlo.lines.includes('STARTTLS'), `STARTTLS offered: ${ehlo.lines.join(' | ')}`)
      assert.equal((await say(plain, 'STARTTLS')).code, 220)

      plain.removeAllListeners('data')
      const secure = tls.connect({
        socket: plain,
        servername: MX_NAME,
        // Trust exactly the certificate we made: the handshake fails on any other.
        ca: [certificate.pem],
      })
      await new Promise<void>((resolve, reject) => {
        secure.once('secureConnect', resolve)
        secure.once('error', reject)
      })
      assert.equal(secure.authorized, true, String(secure.authorizationError))
      const served = secure.getPeerX509Certificate()
      assert.ok(served)
      assert.equal(
        served.fingerprint256,
        new crypto.X509Certificate(certificate.pem).fingerprint256,
      )
      assert.match(String(secure.getProtocol()), /^TLSv1\.[23]$/)
      replies.attach(secure)

      const again = await say(secure, 'EHLO client.example.net')
      assert.equal(again.code, 250)
      assert.ok(!again.lines.includes('STARTTLS'), 'no second STARTTLS once encrypted')
      assert.equal((await say(secure, `MAIL FROM:<${SENDER}>`)).code, 250)
      assert.equal((await say(secure, `RCPT TO:<0612345678@${SMS_DOMAIN}>`)).code, 250)
      assert.equal((await say(secure, 'DATA')).code, 354)
      const message = buildMessage({ from: SENDER, to: 'sms', body: 'Sent over STARTTLS' })
      const queued = await say(secure, `${message.replace(/\r\n$/, '')}\r\n.`)
      assert.equal(queued.code, 250, queued.lines.join(' '))
      const id = Number(/queued as SMS (\d+)/.exec(queued.lines.join(' '))?.[1])
      assert.ok(id > 0, queued.lines.join(' '))
      await say(secure, 'QUIT')
      secure.destroy()

      const row = await t.db('outbound_sms').where({ id }).first()
      assert.equal(row.recipient, '+33612345678')
      assert.equal(row.body, 'Sent over STARTTLS')
    } finally {
      plain.destroy()
    }
  })

  it('is not on in the shipped config/plugins (a fresh clone has no key)', () => {
    assert.ok(!shippedPlugins().includes('tls'))
  })
})
