import assert from 'node:assert/strict'
import { once } from 'node:events'
import { SmppClient, type SmppClientOptions } from '../../../lib/smpp/client'
import { SmppSubmitError, type SubmitFailureKind } from '../../../lib/smpp/errors'
import type { DeliveryReceipt } from '../../../lib/smpp/receipt'
import type { SubmitMessage } from '../../../lib/smpp/submit'
import { TestSmsc, type Reply } from './test-smsc'

interface LogLines {
  info: string[]
  warn: string[]
  error: string[]
}

const ESME_RMSGQFUL = 0x14
const ESME_RTHROTTLED = 0x58
const ESME_RINVDSTADR = 0x0b
const ESME_RINVPASWD = 0x0e

const TO = '+33612345678'

function sms(text: string, overrides: Partial<SubmitMessage> = {}): SubmitMessage {
  return {
    from: { type: 'alphanumeric', name: 'Mail2SMS' },
    to: TO,
    text,
    requestReceipt: true,
    ...overrides,
  }
}

async function rejection(
  promise: Promise<unknown>,
  kind: SubmitFailureKind,
): Promise<SmppSubmitError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof SmppSubmitError, `expected SmppSubmitError, got ${String(err)}`)
    assert.equal(err.kind, kind, err.message)
    return err
  }
  assert.fail(`expected a '${kind}' rejection`)
}

// Three GSM-7 segments: 153 + 153 + 10 septets.
const LONG_TEXT = 'a'.repeat(153) + 'b'.repeat(153) + 'c'.repeat(10)
const LONG_SEGMENTS = ['a'.repeat(153), 'b'.repeat(153), 'c'.repeat(10)].map((s) => Buffer.from(s))

describe('lib/smpp/client', function () {
  let smsc: TestSmsc
  let client: SmppClient | null
  let log: LogLines

  function newClient(overrides: Partial<SmppClientOptions> = {}): SmppClient {
    log = { info: [], warn: [], error: [] }
    client = new SmppClient({
      host: '127.0.0.1',
      port: smsc.port,
      systemId: 'mail2sms',
      password: 'secret',
      window: 10,
      requestTimeoutMs: 5000,
      enquireLinkMs: 60_000,
      reconnectInitialMs: 10,
      reconnectMaxMs: 40,
      longSms: 'udh',
      logger: {
        info: (m) => log.info.push(m),
        warn: (m) => log.warn.push(m),
        error: (m) => log.error.push(m),
      },
      ...overrides,
    })
    return client
  }

  async function boundClient(overrides: Partial<SmppClientOptions> = {}): Promise<SmppClient> {
    const c = newClient(overrides)
    const bound = once(c, 'bound')
    c.start()
    await bound
    return c
  }

  beforeEach(async () => {
    smsc = await TestSmsc.start()
    client = null
  })

  afterEach(async () => {
    await client?.stop()
    await smsc.close()
  })

  describe('binding', () => {
    it('binds as an SMPP 3.4 transceiver with its credentials', async () => {
      const c = await boundClient()
      assert.equal(c.state, 'bound')
      assert.deepEqual(smsc.binds, [
        { systemId: 'mail2sms', password: 'secret', interfaceVersion: 0x34 },
      ])
    })

    it('logs a refused bind as an error with the status name, and retries until accepted', async () => {
      smsc.bindStatus = (attempt) => (attempt <= 2 ? ESME_RINVPASWD : 0)
      const c = await boundClient({ password: 'wrong' })
      assert.equal(c.state, 'bound')
      assert.equal(smsc.binds.length, 3)
      assert.ok(smsc.binds.every((bind) => bind.password === 'wrong'))
      const bindErrors = log.error.filter((line) => line.includes('ESME_RINVPASWD'))
      assert.equal(bindErrors.length, 2, log.error.join('\n'))
    })

    it('keeps retrying while nothing listens, and stops when asked', async () => {
      const gone = await TestSmsc.start()
      const port = gone.port
      await gone.close()
      const c = newClient({ port })
      c.start()
      while (log.warn.filter((line) => line.includes('failed')).length < 2) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      assert.equal(c.state, 'connecting')
      assert.match(log.warn[0], /ECONNREFUSED/)
      await c.stop()
      assert.equal(c.state, 'stopped')
    })

    it('refuses submits before it is bound', async () => {
      const c = newClient()
      await rejection(c.submit(sms('hello')), 'disconnected')
      assert.equal(smsc.submits.length, 0)
    })
  })

  describe('the bytes the SMSC receives', () => {
    it('sends GSM-7 text as data_coding 0 with our own septets', async () => {
      const c = await boundClient()
      const result = await c.submit(sms('Hello @ €_$'))
      const [submit] = smsc.submits
      assert.equal(submit.dataCoding, 0)
      assert.deepEqual(
        submit.shortMessage,
        Buffer.from([0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x00, 0x20, 0x1b, 0x65, 0x11, 0x02]),
      )
      assert.equal(submit.esmClass, 0)
      assert.equal(submit.registeredDelivery, 1)
      assert.deepEqual(result, {
        messageIds: smsc.acceptedIds,
        parts: 1,
        segments: 1,
        encoding: 'gsm7',
      })
    })

    it('sends text outside GSM-7 as UCS-2 (data_coding 8), emoji as surrogate pairs', async () => {
      const c = await boundClient()
      const result = await c.submit(sms('coûte 👍'))
      const [submit] = smsc.submits
      assert.equal(submit.dataCoding, 8)
      assert.deepEqual(
        submit.shortMessage,
        // c o û t e space, then U+1F44D as the surrogate pair D83D DC4D
        Buffer.from('0063006f00fb007400650020d83ddc4d', 'hex'),
      )
      assert.equal(result.encoding, 'ucs2')
    })

    it('sends a long message as parts with a concatenation UDH and esm_class 0x40', async () => {
      const c = await boundClient()
      const first = await c.submit(sms(LONG_TEXT))
      await c.submit(sms(LONG_TEXT))
      assert.equal(smsc.submits.length, 6)
      assert.deepEqual(first.messageIds, smsc.acceptedIds.slice(0, 3))
      assert.equal(first.parts, 3)
      smsc.submits.forEach((submit, i) => {
        const reference = i < 3 ? 1 : 2
        const udh = Buffer.from([0x05, 0x00, 0x03, reference, 3, (i % 3) + 1])
        assert.equal(submit.esmClass, 0x40)
        assert.equal(submit.dataCoding, 0)
        assert.deepEqual(
          submit.shortMessage,
          Buffer.concat([udh, LONG_SEGMENTS[i % 3]]),
          `part ${i}`,
        )
        assert.equal(submit.tlvs.size, 0)
      })
    })

    it('cycles the reference number from 255 back to 1', async () => {
      const c = await boundClient({ window: 64 })
      const twoParts = 'x'.repeat(200)
      await Promise.all(Array.from({ length: 256 }, () => c.submit(sms(twoParts))))
      const references = smsc.submits
        .filter((s) => s.shortMessage[5] === 1)
        .map((s) => s.shortMessage[3])
      assert.deepEqual(
        references.slice().sort((a, b) => a - b),
        [1, 1, ...Array.from({ length: 254 }, (_, i) => i + 2)],
      )
    })

    it('sends SAR TLVs and no UDH when the SMSC wants SAR', async () => {
      const c = await boundClient({ longSms: 'sar' })
      await c.submit(sms(LONG_TEXT))
      assert.equal(smsc.submits.length, 3)
      smsc.submits.forEach((submit, i) => {
        assert.equal(submit.esmClass, 0)
        assert.deepEqual(submit.shortMessage, LONG_SEGMENTS[i])
        assert.deepEqual(submit.tlvs.get(0x020c), Buffer.from([0x00, 0x01]))
        assert.deepEqual(submit.tlvs.get(0x020e), Buffer.from([3]))
        assert.deepEqual(submit.tlvs.get(0x020f), Buffer.from([i + 1]))
      })
    })

    it('sends one submit_sm with message_payload when the SMSC wants a payload', async () => {
      const c = await boundClient({ longSms: 'payload' })
      const result = await c.submit(sms(LONG_TEXT))
      assert.equal(smsc.submits.length, 1)
      const [submit] = smsc.submits
      assert.equal(submit.shortMessage.length, 0)
      assert.equal(submit.esmClass, 0)
      assert.deepEqual(submit.tlvs.get(0x0424), Buffer.from(LONG_TEXT))
      assert.deepEqual(result, {
        messageIds: smsc.acceptedIds,
        parts: 1,
        segments: 3,
        encoding: 'gsm7',
      })
    })

    it('sends an alphanumeric sender as TON 5 / NPI 0 and numbers as TON 1 / NPI 1', async () => {
      const c = await boundClient()
      await c.submit(sms('a'))
      await c.submit(
        sms('b', { from: { type: 'number', number: '+447700900123' }, requestReceipt: false }),
      )
      const [alpha, numeric] = smsc.submits
      assert.deepEqual(
        [
          alpha.sourceTon,
          alpha.sourceNpi,
          alpha.source,
          alpha.destTon,
          alpha.destNpi,
          alpha.destination,
        ],
        [5, 0, 'Mail2SMS', 1, 1, '33612345678'],
      )
      assert.deepEqual(
        [numeric.sourceTon, numeric.sourceNpi, numeric.source, numeric.registeredDelivery],
        [1, 1, '447700900123', 0],
      )
    })
  })

  describe('window and failures', () => {
    it('never has more submit_sm outstanding than the window, and sends parts in order', async () => {
      smsc.onSubmit = (_submit, reply) => setTimeout(() => reply(), 5)
      const c = await boundClient({ window: 2 })
      const texts = ['x'.repeat(200), 'one', 'y'.repeat(200), 'two', 'three', 'z'.repeat(200)]
      const results = await Promise.all(texts.map((text) => c.submit(sms(text))))
      assert.equal(smsc.submits.length, 9)
      assert.equal(smsc.maxOutstanding, 2)
      assert.deepEqual(
        results.map((r) => r.parts),
        [2, 1, 2, 1, 1, 2],
      )
      const firstOctets = smsc.submits.map((s) => String.fromCharCode(s.shortMessage.at(-1) ?? 0))
      assert.deepEqual(firstOctets, ['x', 'x', 'e', 'y', 'y', 'o', 'e', 'z', 'z'])
    })

    it('holds parts back to keep under throughputPerSecond', async () => {
      const c = await boundClient({ throughputPerSecond: 1 })
      const first = c.submit(sms('first'))
      const second = c.submit(sms('second'))
      await first
      // A round trip from the SMSC, far shorter than the second's one-second wait for a token.
      await smsc.request('enquire_link')
      assert.equal(smsc.submits.length, 1)
      await c.stop()
      await rejection(second, 'disconnected')
      assert.equal(smsc.submits.length, 1)
    })

    it('reports ESME_RTHROTTLED and ESME_RMSGQFUL as throttled once its requeues are spent', async () => {
      const statuses = [ESME_RTHROTTLED, ESME_RMSGQFUL]
      smsc.onSubmit = (_submit, reply) => reply(statuses.shift())
      const c = await boundClient({ throttleRequeues: 0 })
      const first = await rejection(c.submit(sms('hello')), 'throttled')
      assert.equal(first.status, ESME_RTHROTTLED)
      assert.equal(first.statusName, 'ESME_RTHROTTLED')
      assert.deepEqual(first.partsAccepted, [])
      const second = await rejection(c.submit(sms('hello')), 'throttled')
      assert.equal(second.statusName, 'ESME_RMSGQFUL')
    })

    it('puts a throttled part back in the queue and tells the pace, without resending its siblings', async () => {
      let throttles = 0
      const pace = {
        take: () => 0,
        accepted: () => undefined,
        throttled: () => void throttles++,
      }
      // Part 3 is throttled twice, then taken.
      let refusals = 2
      smsc.onSubmit = (submit, reply) =>
        reply(submit.shortMessage[5] === 3 && refusals-- > 0 ? ESME_RTHROTTLED : 0)
      const c = await boundClient({ window: 1, pace })
      const result = await c.submit(sms(LONG_TEXT))
      assert.equal(result.messageIds.length, 3)
      assert.equal(throttles, 2)
      const seqnums = smsc.submits.map((s) => s.shortMessage[5])
      assert.deepEqual(seqnums, [1, 2, 3, 3, 3], 'only the throttled part went again')
    })

    it('keeps sending the other parts when one is refused for good, and says which', async () => {
      smsc.onSubmit = (_submit, reply) => reply(smsc.submits.length % 3 === 2 ? ESME_RINVDSTADR : 0)
      const c = await boundClient({ window: 1 })
      const result = await c.submitParts(sms(LONG_TEXT))
      assert.deepEqual(
        result.outcomes.map((o) =>
          'messageId' in o ? `${o.part}:ok` : `${o.part}:${o.error.kind}`,
        ),
        ['1:ok', '2:permanent', '3:ok'],
      )
      const err = await rejection(c.submit(sms(LONG_TEXT)), 'permanent')
      assert.equal(err.statusName, 'ESME_RINVDSTADR')
      assert.equal(err.partsAccepted.length, 2, 'the all-or-nothing submit() names the parts taken')
      assert.equal(smsc.submits.length, 6)
    })

    it('sends only the parts not settled before, with the reference it is given', async () => {
      const c = await boundClient({ window: 1 })
      const result = await c.submitParts({
        ...sms(LONG_TEXT),
        reference: 42,
        skipParts: new Set([1, 3]),
      })
      assert.deepEqual(
        result.outcomes.map((o) => o.part),
        [2],
      )
      assert.equal(result.parts, 3)
      assert.equal(smsc.submits.length, 1)
      assert.deepEqual([...smsc.submits[0].shortMessage.subarray(0, 6)], [5, 0, 3, 42, 3, 2])
    })

    it('stops sending the rest of an SMS after a part times out', async () => {
      smsc.onSubmit = (_submit, reply) => {
        if (smsc.submits.length !== 1) reply()
      }
      const c = await boundClient({ window: 1, requestTimeoutMs: 100 })
      const result = await c.submitParts(sms(LONG_TEXT))
      assert.deepEqual(
        result.outcomes.map((o) => ('error' in o ? o.error.kind : 'ok')),
        ['timeout', 'disconnected', 'disconnected'],
      )
      assert.equal(smsc.submits.length, 1)
    })

    it('times out a part without response, frees its window slot and logs the late answer', async () => {
      let late: Reply | null = null
      smsc.onSubmit = (_submit, reply) => {
        if (late === null) late = reply
        else reply()
      }
      const c = await boundClient({ window: 1, requestTimeoutMs: 100 })
      await rejection(c.submit(sms('first')), 'timeout')
      ;(late as Reply | null)?.()
      const next = await c.submit(sms('second'))
      assert.equal(next.messageIds.length, 1)
      assert.ok(
        log.warn.some((line) => line.includes('late or unknown submit_sm_resp')),
        log.warn.join('\n'),
      )
    })

    it('fails every pending submit at once when the SMSC drops, then binds again', async function () {
      smsc.onSubmit = () => {
        if (smsc.submits.length === 2) smsc.dropConnections()
      }
      // A timeout far beyond mocha's: only the disconnect can end these submits in time.
      const c = await boundClient({ window: 2, requestTimeoutMs: 60_000 })
      const disconnected = once(c, 'disconnected')
      const pending = ['one', 'two', 'three'].map((text) => c.submit(sms(text)))
      const errors = await Promise.all(pending.map((p) => rejection(p, 'disconnected')))
      assert.ok(errors[2].message.includes('not sent'), errors[2].message)
      await disconnected
      if (c.state !== 'bound') await once(c, 'bound')
      assert.equal(smsc.binds.length, 2)
      smsc.onSubmit = (_submit, reply) => reply()
      const after = await c.submit(sms('after'))
      assert.deepEqual(after.messageIds, smsc.acceptedIds)
    })
  })

  describe('what the SMSC sends', () => {
    const receiptText =
      'id:0000001A2B sub:001 dlvrd:001 submit date:2411271530 done date:2411271531 ' +
      'stat:DELIVRD err:000 text:Hi_there'

    it('acknowledges a receipt deliver_sm and emits the receipt', async () => {
      const c = await boundClient()
      const received = once(c, 'receipt') as Promise<[DeliveryReceipt]>
      const response = await smsc.request('deliver_sm', {
        source_addr: '0612345678',
        source_addr_ton: 2,
        destination_addr: 'Mail2SMS',
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from(receiptText),
      })
      assert.equal(response.command, 'deliver_sm_resp')
      assert.equal(response.command_status, 0)
      const [receipt] = await received
      assert.deepEqual(receipt, {
        messageId: '0000001A2B',
        state: 'delivered',
        error: null,
        doneAt: new Date('2024-11-27T15:31:00Z'),
        raw: receiptText,
        // National: the worker reads it in the SMS's own country.
        handset: '0612345678',
        handsetTon: 2,
      })
    })

    it('reads receipted_message_id and message_state TLVs and ids with _ $ @ intact', async () => {
      const c = await boundClient()
      const received = once(c, 'receipt') as Promise<[DeliveryReceipt]>
      await smsc.request('deliver_sm', {
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from('id:a_b$c@d stat:DELIVRD'),
        receipted_message_id: 'a_b$c@d',
        message_state: 5,
      })
      const [receipt] = await received
      assert.equal(receipt.messageId, 'a_b$c@d')
      assert.equal(receipt.state, 'undeliverable')
    })

    it('keeps acknowledging and reading when a receipt listener throws', async () => {
      const c = await boundClient()
      const seen: string[] = []
      c.on('receipt', (receipt) => {
        seen.push(receipt.messageId)
        if (seen.length === 1) throw new Error('listener bug')
      })
      const first = await smsc.request('deliver_sm', {
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from('id:1 stat:DELIVRD'),
      })
      const second = await smsc.request('deliver_sm', {
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from('id:2 stat:DELIVRD'),
      })
      assert.deepEqual([first.command_status, second.command_status], [0, 0])
      assert.deepEqual(seen, ['1', '2'])
      assert.ok(log.error.some((line) => line.includes('listener bug')))
    })

    it('emits MO messages with the octets, UDH and TLVs exactly as sent', async () => {
      const c = await boundClient()
      const mos: unknown[] = []
      const acks: Promise<boolean>[] = []
      c.on('mo', ({ acknowledged, ...mo }) => {
        mos.push(mo)
        acks.push(acknowledged)
      })
      const gsm = Buffer.from([0x00, 0x11, 0x02, 0x1b, 0x65, 0x48, 0x69])
      const withUdh = Buffer.from([0x05, 0x00, 0x03, 0x07, 0x02, 0x01, 0x61, 0x5f])
      await smsc.request('deliver_sm', {
        source_addr_ton: 1,
        source_addr: '33612345678',
        dest_addr_ton: 1,
        destination_addr: '33700000000',
        esm_class: 0,
        data_coding: 0,
        short_message: gsm,
      })
      await smsc.request('deliver_sm', {
        source_addr: '33612345678',
        destination_addr: '33700000000',
        esm_class: 0x40,
        data_coding: 0,
        short_message: withUdh,
        sar_msg_ref_num: 7,
      })
      assert.deepEqual(mos, [
        {
          from: '33612345678',
          fromTon: 1,
          to: '33700000000',
          toTon: 1,
          dataCoding: 0,
          esmClass: 0,
          shortMessage: gsm,
          tlvs: new Map(),
        },
        {
          from: '33612345678',
          fromTon: 0,
          to: '33700000000',
          toTon: 0,
          dataCoding: 0,
          esmClass: 0x40,
          shortMessage: withUdh,
          tlvs: new Map([[0x020c, Buffer.from([0x00, 0x07])]]),
        },
      ])
      // A listener that returns no promise takes the MO as it is: status 0 at once.
      assert.deepEqual(await Promise.all(acks), [true, true])
    })

    it("answers the SMSC's enquire_link", async () => {
      await boundClient()
      const response = await smsc.request('enquire_link')
      assert.equal(response.command, 'enquire_link_resp')
      assert.equal(response.command_status, 0)
    })

    it("answers the SMSC's unbind, then connects and binds again", async () => {
      const c = await boundClient()
      const disconnected = once(c, 'disconnected')
      const response = await smsc.request('unbind')
      assert.equal(response.command, 'unbind_resp')
      await disconnected
      await once(c, 'bound')
      assert.equal(smsc.binds.length, 2)
    })
  })

  describe('keeping the link alive', () => {
    it('sends enquire_link when the link is idle', async () => {
      const enquired = smsc.nextRequest('enquire_link')
      await boundClient({ enquireLinkMs: 20 })
      await enquired
      assert.ok(smsc.events.some((event) => event.command === 'enquire_link'))
    })

    it('drops a link whose enquire_link gets no answer and binds again', async () => {
      smsc.answerEnquireLink = false
      const c = await boundClient({ enquireLinkMs: 20, requestTimeoutMs: 100 })
      const [reason] = await once(c, 'disconnected')
      assert.equal(reason, 'enquire_link not answered')
      await once(c, 'bound')
      assert.equal(smsc.binds.length, 2)
    })
  })

  describe('stop', () => {
    it('waits for outstanding responses, then unbinds and closes', async () => {
      let release: Reply | null = null
      smsc.onSubmit = (_submit, reply) => (release = reply)
      const c = await boundClient()
      const submitted = smsc.nextRequest('submit_sm')
      const pending = c.submit(sms('in flight'))
      await submitted
      const stopped = c.stop(10_000)
      assert.equal(c.state, 'stopping')
      await rejection(c.submit(sms('too late')), 'disconnected')
      // A round trip from the SMSC: an unbind sent at stop() would arrive before its answer.
      await smsc.request('enquire_link')
      assert.ok(
        !smsc.events.some((event) => event.command === 'unbind'),
        'unbind before the response',
      )
      const unbound = smsc.nextRequest('unbind')
      ;(release as Reply | null)?.()
      const result = await pending
      assert.deepEqual(result.messageIds, smsc.acceptedIds)
      await unbound
      await stopped
      assert.equal(c.state, 'stopped')
      assert.deepEqual(
        smsc.events.map((event) => event.command),
        ['bind_transceiver', 'submit_sm', 'unbind'],
      )
    })

    it('gives up waiting after the grace period: the rest fail disconnected', async () => {
      smsc.onSubmit = () => {}
      const c = await boundClient()
      const submitted = smsc.nextRequest('submit_sm')
      const pending = c.submit(sms('never answered'))
      await submitted
      const unbound = smsc.nextRequest('unbind')
      await c.stop(50)
      await unbound
      await rejection(pending, 'disconnected')
      assert.equal(c.state, 'stopped')
    })

    it('stops a client that is waiting to bind again', async () => {
      smsc.bindStatus = () => ESME_RINVPASWD
      const c = newClient({ reconnectInitialMs: 100, reconnectMaxMs: 100 })
      const refused = smsc.nextClose()
      c.start()
      await refused
      await c.stop()
      assert.equal(c.state, 'stopped')
      assert.equal(smsc.binds.length, 1)
      // The reconnect was due within 100 ms: a client still retrying would have bound again.
      await new Promise((resolve) => setTimeout(resolve, 300))
      assert.equal(smsc.binds.length, 1)
    })

    it('stops a client in the middle of its bind', async () => {
      smsc.bindStatus = () => ESME_RINVPASWD
      const c = newClient({ reconnectInitialMs: 10, reconnectMaxMs: 10 })
      const bindTried = smsc.nextRequest('bind_transceiver')
      c.start()
      await bindTried
      await c.stop()
      assert.equal(c.state, 'stopped')
      await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(smsc.binds.length, 1)
    })
  })
})
