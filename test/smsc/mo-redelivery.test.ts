import assert from 'node:assert/strict'
import { SmppClient, type MoMessage } from '../../lib/smpp/client'
import { SmscSimulator } from '../support/smsc/simulator'

const ESME_RX_T_APPN = 0x64
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

describe('SMSC simulator and SMPP client: MO acknowledgement', function () {
  this.timeout(20_000)
  let simulator: SmscSimulator
  let client: SmppClient

  beforeEach(async () => {
    simulator = await SmscSimulator.start({ systemId: 'mail2sms', password: 'secret' })
    client = new SmppClient({
      host: '127.0.0.1',
      port: simulator.port,
      systemId: 'mail2sms',
      password: 'secret',
      window: 1,
      requestTimeoutMs: 2000,
      enquireLinkMs: 30_000,
      reconnectInitialMs: 50,
      reconnectMaxMs: 200,
      longSms: 'udh',
      moAckTimeoutMs: 300,
      logger: quiet,
    })
    const bound = new Promise((resolve) => client.once('bound', () => resolve(undefined)))
    client.start()
    await bound
  })

  afterEach(async () => {
    await client.stop()
    await simulator.close()
  })

  const mo = { from: '+33612345678', to: '38123', text: 'Encore ?', encoding: 'gsm7' } as const

  it('redelivers the same octets until the listener has stored them', async () => {
    const seen: Buffer[] = []
    client.on('mo', (message: MoMessage) => {
      seen.push(message.shortMessage)
      return Promise.resolve(seen.length === 3)
    })
    const statuses = await simulator.injectMo(mo, { redeliver: { afterMs: 20, attempts: 5 } })
    assert.deepEqual(statuses, [0])
    assert.deepEqual(
      simulator.deliverResponses.map((r) => r.commandStatus),
      [ESME_RX_T_APPN, ESME_RX_T_APPN, 0],
    )
    assert.equal(seen.length, 3)
    assert.deepEqual(seen[2], seen[0])
    assert.deepEqual(simulator.deliverResponses[2].shortMessage, seen[0])
  })

  it('gives up after the given number of deliveries, with the last status', async () => {
    client.on('mo', () => Promise.resolve(false))
    const statuses = await simulator.injectMo(mo, { redeliver: { afterMs: 10, attempts: 2 } })
    assert.deepEqual(statuses, [ESME_RX_T_APPN])
    assert.equal(simulator.deliverResponses.length, 2)
  })

  it('asks for a redelivery when the listener takes longer than moAckTimeoutMs', async () => {
    let finish: (stored: boolean) => void = () => undefined
    client.on('mo', () => new Promise<boolean>((resolve) => (finish = resolve)))
    const started = Date.now()
    assert.deepEqual(await simulator.injectMo(mo), [ESME_RX_T_APPN])
    assert.ok(Date.now() - started >= 250)
    // The late verdict sends nothing more: a deliver_sm is answered once.
    finish(true)
    await new Promise((r) => setTimeout(r, 100))
    assert.equal(simulator.deliverResponses.length, 1)
  })

  it('asks for a redelivery when a listener throws or rejects', async () => {
    client.on('mo', () => Promise.reject(new Error('database gone')))
    assert.deepEqual(await simulator.injectMo(mo), [ESME_RX_T_APPN])
    client.removeAllListeners('mo')
    client.on('mo', () => {
      throw new Error('listener bug')
    })
    assert.deepEqual(await simulator.injectMo(mo), [ESME_RX_T_APPN])
  })

  it('acknowledges at once for a listener that returns no promise', async () => {
    let count = 0
    client.on('mo', () => {
      count++
    })
    assert.deepEqual(await simulator.injectMo(mo), [0])
    assert.equal(count, 1)
  })
})
