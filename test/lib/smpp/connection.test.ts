import assert from 'node:assert/strict'
import { BindError, RequestError, SmppConnection } from '../../../lib/smpp/connection'
import { TestSmsc } from './test-smsc'

const ESME_RINVPASWD = 0x0e

interface Line {
  level: 'info' | 'warn' | 'error'
  text: string
}

// "smpp <what happened> key=value key="quoted value" …"
const KEY_VALUE_LINE = /^smpp [a-z_ ]+( [a-z_]+=("(?:[^"\\]|\\.)*"|[^\s"=]+))+$/

describe('lib/smpp/connection', () => {
  let smsc: TestSmsc
  let connection: SmppConnection
  let lines: Line[]

  function connect(requestTimeoutMs = 2000, port = smsc.port): SmppConnection {
    lines = []
    connection = new SmppConnection({
      host: '127.0.0.1',
      port,
      requestTimeoutMs,
      enquireLinkMs: 60_000,
      logger: {
        info: (text) => lines.push({ level: 'info', text }),
        warn: (text) => lines.push({ level: 'warn', text }),
        error: (text) => lines.push({ level: 'error', text }),
      },
    })
    return connection
  }

  async function bound(requestTimeoutMs?: number): Promise<SmppConnection> {
    const c = connect(requestTimeoutMs)
    await c.open({ systemId: 'mail2sms', password: 'secret' })
    return c
  }

  function assertKeyValue(): void {
    for (const { text } of lines) assert.match(text, KEY_VALUE_LINE)
  }

  beforeEach(async () => {
    smsc = await TestSmsc.start()
  })

  afterEach(async () => {
    await connection.destroy('test over')
    await smsc.close()
  })

  it('logs an unbind from the SMSC, then the close with its reason as a warning', async () => {
    const c = await bound()
    const closed = new Promise<string>((resolve) => c.once('close', resolve))
    await smsc.request('unbind')
    assert.equal(await closed, 'unbound by SMSC')
    const port = smsc.port
    assert.deepEqual(lines, [
      { level: 'info', text: 'smpp unbind received from=SMSC' },
      {
        level: 'warn',
        text: `smpp connection closed host=127.0.0.1:${port} reason="unbound by SMSC"`,
      },
    ])
    assertKeyValue()
  })

  it('logs a socket the SMSC drops as a warning, once', async () => {
    const c = await bound()
    const closed = new Promise<string>((resolve) => c.once('close', resolve))
    smsc.dropConnections()
    await closed
    assert.equal(lines.length, 1, JSON.stringify(lines))
    assert.equal(lines[0].level, 'warn')
    assert.match(lines[0].text, /^smpp connection closed host=127\.0\.0\.1:\d+ reason=/)
    assertKeyValue()
  })

  it('logs a close we asked for as information, not a warning', async () => {
    const c = await bound()
    await c.unbind(1000)
    await c.close(1000, 'client stopped')
    assert.deepEqual(lines, [
      {
        level: 'info',
        text: `smpp connection closed host=127.0.0.1:${smsc.port} reason="client stopped"`,
      },
    ])
  })

  it('leaves a connect that fails to its owner: no line', async () => {
    const gone = await TestSmsc.start()
    const port = gone.port
    await gone.close()
    const c = connect(2000, port)
    const err = await c.open({ systemId: 'mail2sms', password: 'secret' }).then(
      () => null,
      (e: unknown) => e,
    )
    assert.ok(err instanceof BindError && /ECONNREFUSED/.test(err.message), String(err))
    assert.deepEqual(lines, [])
  })

  it('logs no line per request that times out', async () => {
    smsc.onSubmit = () => {}
    const c = await bound(50)
    const failures = await Promise.all(
      [1, 2, 3].map(() =>
        c.request('submit_sm', { destination_addr: '33612345678', short_message: 'x' }, 50).then(
          () => null,
          (err: unknown) => err,
        ),
      ),
    )
    for (const err of failures) assert.ok(err instanceof RequestError && err.kind === 'timeout')
    assert.deepEqual(lines, [])
  })

  it('refuses a bind with a key=value reason and the status, and logs only the close', async () => {
    smsc.bindStatus = () => ESME_RINVPASWD
    const c = connect()
    const err = await c.open({ systemId: 'mail2sms', password: 'wrong' }).then(
      () => null,
      (e: unknown) => e,
    )
    assert.ok(err instanceof BindError)
    assert.equal(err.message, 'bind refused status=ESME_RINVPASWD')
    assert.equal(err.status, ESME_RINVPASWD)
    await c.destroy(err.message)
    assert.deepEqual(lines, [
      {
        level: 'info',
        text: `smpp connection closed host=127.0.0.1:${smsc.port} reason="bind refused status=ESME_RINVPASWD"`,
      },
    ])
    assertKeyValue()
  })
})
