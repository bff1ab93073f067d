import assert from 'node:assert/strict'
import net from 'node:net'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { startMx, type RunningMx } from '../support/mx'

/**
 * A raw SMTP client that keeps its side open after the server's FIN (allowHalfOpen), like a
 * client that ignores it: only the server closing its socket ends such a connection.
 */
class RawClient {
  readonly socket: net.Socket
  private received = ''
  private waiters: (() => void)[] = []
  ended = false
  closed = false

  private constructor(port: number, localAddress?: string) {
    this.socket = net.connect({ host: '127.0.0.1', port, localAddress, allowHalfOpen: true })
    this.socket.on('data', (d) => {
      this.received += d.toString('latin1')
      this.wake()
    })
    this.socket.on('end', () => {
      this.ended = true
      this.wake()
    })
    // ECONNRESET / EPIPE once the server has closed: the point of the probes below.
    this.socket.on('error', () => undefined)
    this.socket.on('close', () => {
      this.closed = true
      this.wake()
    })
  }

  static open(port: number, localAddress?: string): RawClient {
    return new RawClient(port, localAddress)
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** Waits for a reply line matching `pattern` (or the connection's end), within timeoutMs. */
  async reply(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const line = this.received.split('\r\n').find((l) => pattern.test(l))
      if (line) return line
      if (this.ended || this.closed || Date.now() > deadline)
        throw new Error(`no reply matching ${pattern}; got ${JSON.stringify(this.received)}`)
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }

  /**
   * Resolves with how long the server took to close its socket: the client keeps writing, and
   * once the server's socket is gone its kernel answers with a reset. A server that only ended
   * its side would take these writes in silence.
   */
  async closedByServer(timeoutMs: number): Promise<number> {
    const start = Date.now()
    while (!this.closed) {
      if (Date.now() - start > timeoutMs) throw new Error(`still open after ${timeoutMs} ms`)
      if (!this.socket.destroyed) this.socket.write('NOOP\r\n')
      await new Promise((r) => setTimeout(r, 100))
    }
    return Date.now() - start
  }

  destroy(): void {
    this.socket.destroy()
  }
}

describe('MX: connection limits', function () {
  this.timeout(60_000)
  let t: TestDatabase
  let mx: RunningMx
  const clients: RawClient[] = []
  const open = (localAddress?: string): RawClient => {
    const c = RawClient.open(mx.port, localAddress)
    clients.push(c)
    return c
  }

  before(async () => {
    t = await createTestDatabase('sqlite')
    mx = await startMx({ database: t.config, mxSettings: { max_connections_per_ip: 3 } })
  })

  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy()
  })

  after(async () => {
    await mx?.stop()
    await t?.drop()
  })

  it('answers a command line over line_length with 521 and closes the connection at once', async () => {
    const c = open()
    await c.reply(/^220 /)
    c.socket.write('EHLO client.example\r\n')
    await c.reply(/^250 /)
    c.socket.write(`NOOP ${'x'.repeat(70 * 1024)}\r\n`)
    assert.match(await c.reply(/^521 /), /^521 Command line too long/)
    const tookMs = await c.closedByServer(3000)
    assert.ok(tookMs < 3000)
  })

  it('refuses a client over max_connections_per_ip with 421 4.7.0 and closes; others still connect', async () => {
    const held = [open(), open(), open()]
    for (const c of held) await c.reply(/^220 /)
    const over = open()
    assert.equal(
      await over.reply(/^421 /),
      '421 4.7.0 too many connections from 127.0.0.1 (at most 3 at once); try again later',
    )
    await over.closedByServer(3000)
    // Another address is counted on its own.
    const other = open('127.0.0.2')
    await other.reply(/^220 /)
    // A connection that ends makes room again.
    held[0].socket.write('QUIT\r\n')
    await held[0].reply(/^221 /)
    await held[0].closedByServer(3000)
    let again = open()
    for (let tries = 0; !/^220 /m.test(await again.reply(/^(220|421) /)); tries++) {
      assert.ok(tries < 20, 'no room after a connection closed')
      await new Promise((r) => setTimeout(r, 100))
      again = open()
    }
  })
})
