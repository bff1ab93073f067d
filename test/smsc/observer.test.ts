import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { SmppBindState, SmppObserver, SubmitOutcome } from '../../lib/ops/observers'
import { SmppTransport, type OutgoingSms, type SendResult } from '../../lib/worker/transport'
import { SmscSimulator, STATUS } from '../support/smsc/simulator'
import { testSmppConfig } from '../worker/harness'

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }
const REQUEST_TIMEOUT_MS = 400

/** Keeps every call, so that the test can compare them with what the SMSC did. */
class RecordingObserver implements SmppObserver {
  readonly states: SmppBindState[] = []
  readonly window: number[] = []
  readonly answers: { outcome: SubmitOutcome; seconds: number }[] = []

  bindState(state: SmppBindState): void {
    this.states.push(state)
  }

  windowInUse(outstanding: number): void {
    this.window.push(outstanding)
  }

  submitAnswered(outcome: SubmitOutcome, seconds: number): void {
    this.answers.push({ outcome, seconds })
  }

  count(outcome: SubmitOutcome): number {
    return this.answers.filter((a) => a.outcome === outcome).length
  }

  seconds(outcome: SubmitOutcome): number[] {
    return this.answers.filter((a) => a.outcome === outcome).map((a) => a.seconds)
  }
}

let nextId = 1
function sms(text = 'Meeting moved to 3pm'): OutgoingSms {
  return { id: nextId++, from: { type: 'alphanumeric', name: 'Acme' }, to: '+33612345678', text }
}

function outcomesOf(result: SendResult): string[] {
  return result.outcomes.map((o) => ('messageId' in o ? 'ok' : o.error.kind))
}

describe('SMSC simulator and SMPP transport: the observer', function () {
  this.timeout(30_000)
  let simulator: SmscSimulator
  let transport: SmppTransport
  let observer: RecordingObserver

  beforeEach(async () => {
    simulator = await SmscSimulator.start({ systemId: 'mail2sms', password: 'secret' })
    observer = new RecordingObserver()
    const config = testSmppConfig(simulator.port, {
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      // A steady pace, so that throttling answers cost no time here.
      adaptiveRate: false,
    })
    transport = new SmppTransport(config, quiet, { observer })
    const bound = once(transport.client, 'bound')
    transport.start()
    await bound
  })

  afterEach(async () => {
    await transport.stop(0)
    await simulator.close()
  })

  it('counts each answer by what the SMSC was told to do, with its latency', async () => {
    simulator.throttleNext(2, STATUS.THROTTLED)
    assert.deepEqual(outcomesOf(await transport.send(sms())), ['ok'])
    simulator.throttleNext(1, STATUS.MESSAGE_QUEUE_FULL)
    assert.deepEqual(outcomesOf(await transport.send(sms())), ['ok'])
    simulator.failNext(2, STATUS.INVALID_DEST_ADDR)
    const refused = await Promise.all([transport.send(sms()), transport.send(sms())])
    assert.deepEqual(refused.map(outcomesOf), [['permanent'], ['permanent']])
    simulator.delayResponses(150)
    // Three parts, one window: each part its own submit_sm.
    const long = await transport.send(sms('x'.repeat(153 * 2 + 10)))
    assert.deepEqual(outcomesOf(long), ['ok', 'ok', 'ok'])

    assert.equal(observer.count('throttled'), 3)
    assert.equal(observer.count('refused'), 2)
    assert.equal(observer.count('accepted'), 2 + 3)
    assert.equal(observer.answers.length, simulator.received.length)
    // A throttled part leaves the window too, before it is sent again.
    assert.equal(observer.window.length, 2 * simulator.received.length)
    assert.equal(observer.window.at(-1), 0)
    // Each latency is the submit's own: the delayed answers took at least their delay.
    for (const s of observer.seconds('accepted').slice(2)) assert.ok(s >= 0.14, `${s} s`)
    assert.ok(observer.answers.every((a) => a.seconds >= 0 && a.seconds < 5))
  })

  it('counts submit_sm left unanswered as timeouts, after the request timeout', async () => {
    simulator.holdResponses()
    const results = await Promise.all([transport.send(sms()), transport.send(sms())])
    assert.deepEqual(results.map(outcomesOf), [['timeout'], ['timeout']])
    assert.equal(observer.count('timeout'), 2)
    assert.equal(observer.answers.length, 2)
    for (const s of observer.seconds('timeout')) assert.ok(s >= REQUEST_TIMEOUT_MS / 1000 - 0.01)
    // The late answers change nothing.
    simulator.releaseResponses()
    await simulator.until(() => simulator.outstanding === 0)
    assert.deepEqual(outcomesOf(await transport.send(sms())), ['ok'])
    assert.deepEqual(
      observer.answers.map((a) => a.outcome),
      ['timeout', 'timeout', 'accepted'],
    )
  })

  it('counts submit_sm lost with the session as errors, and follows the bind state', async () => {
    assert.deepEqual(observer.states, ['binding', 'bound'])
    simulator.holdResponses()
    const sending = Promise.all([
      transport.send(sms()),
      transport.send(sms()),
      transport.send(sms()),
    ])
    await simulator.until(() => simulator.received.length === 3)
    assert.equal(observer.window.at(-1), 3)
    const rebound = once(transport.client, 'bound')
    simulator.dropSessions()
    const results = await sending
    assert.deepEqual(results.map(outcomesOf), [
      ['disconnected'],
      ['disconnected'],
      ['disconnected'],
    ])
    assert.equal(observer.count('error'), 3)
    assert.equal(observer.window.at(-1), 0)
    await rebound
    assert.deepEqual(observer.states, ['binding', 'bound', 'binding', 'bound'])
    await transport.stop(0)
    assert.deepEqual(observer.states, ['binding', 'bound', 'binding', 'bound', 'unbound'])
  })

  it('reports the window after each change, up and down, never above its size', async () => {
    const { window } = testSmppConfig(simulator.port)
    const sends = Array.from({ length: 25 }, () => transport.send(sms()))
    await Promise.all(sends)
    const sent = simulator.received.length
    assert.equal(sent, 25)
    // One step up per submit_sm sent, one down per answer.
    assert.equal(observer.window.length, 2 * sent)
    assert.ok(Math.max(...observer.window) <= window)
    assert.ok(Math.max(...observer.window) > 1, 'parts were in flight together')
    assert.equal(observer.window.at(-1), 0)
    let previous = 0
    for (const value of observer.window) {
      assert.equal(Math.abs(value - previous), 1)
      previous = value
    }
    assert.equal(observer.count('accepted'), 25)
  })

  it('keeps the session going when the observer throws, and logs it', async () => {
    await transport.stop(0)
    const errors: string[] = []
    const throwing: SmppObserver = {
      bindState: () => {
        throw new Error('bind gauge broken')
      },
      windowInUse: () => {
        throw new Error('window gauge broken')
      },
      submitAnswered: () => {
        throw new Error('histogram broken')
      },
    }
    transport = new SmppTransport(
      testSmppConfig(simulator.port),
      { ...quiet, error: (m) => errors.push(m) },
      { observer: throwing },
    )
    const bound = once(transport.client, 'bound')
    transport.start()
    await bound
    assert.deepEqual(outcomesOf(await transport.send(sms())), ['ok'])
    assert.ok(
      errors.some((m) => m.includes('histogram broken')),
      errors.join('\n'),
    )
    assert.ok(
      errors.some((m) => m.includes('bind gauge broken')),
      errors.join('\n'),
    )
  })
})
