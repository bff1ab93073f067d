import assert from 'node:assert/strict'
import type { PduFields } from 'smpp'
import { connectEsme, type TestEsme, type TestEsmeOptions } from '../support/smsc/esme'
import { SmscSimulator, type SmscSimulatorOptions } from '../support/smsc/simulator'

const SYSTEM_ID = 'mail2sms'
const PASSWORD = 'secret'
const HANDSET = '33612345678'

/** "Hello" as GSM 03.38 septets, which are ASCII for these letters. */
const HELLO = Buffer.from('Hello', 'latin1')

function ucs2(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s/g, ''), 'hex')
}

function submitFields(fields: PduFields = {}): PduFields {
  return {
    source_addr_ton: 5,
    source_addr_npi: 0,
    source_addr: 'Shop',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: HANDSET,
    registered_delivery: 1,
    data_coding: 0,
    short_message: HELLO,
    ...fields,
  }
}

function udh(ref: number, total: number, seq: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, total, seq]), body])
}

describe('SMSC simulator', function () {
  let simulator: SmscSimulator
  const esmes: TestEsme[] = []

  async function start(options: Partial<SmscSimulatorOptions> = {}): Promise<void> {
    simulator = await SmscSimulator.start({ systemId: SYSTEM_ID, password: PASSWORD, ...options })
  }

  async function connected(options?: TestEsmeOptions): Promise<TestEsme> {
    const esme = await connectEsme(simulator.port, options)
    esmes.push(esme)
    return esme
  }

  async function bound(
    kind: 'transceiver' | 'transmitter' | 'receiver' = 'transceiver',
    options?: TestEsmeOptions,
  ): Promise<TestEsme> {
    const esme = await connected(options)
    const response = await esme.bind(kind, SYSTEM_ID, PASSWORD)
    assert.equal(response.command_status, 0)
    return esme
  }

  async function submitOk(esme: TestEsme, fields?: PduFields): Promise<string> {
    const response = await esme.request('submit_sm', submitFields(fields))
    assert.equal(response.command_status, 0)
    return String(response.message_id)
  }

  afterEach(async function () {
    for (const esme of esmes.splice(0)) {
      esme.session.destroy()
      await esme.closed
    }
    await simulator.close()
  })

  describe('binds', function () {
    beforeEach(() => start())

    it('accepts the three bind kinds with the right credentials', async function () {
      await bound('transceiver')
      await bound('transmitter')
      await bound('receiver')
      assert.equal(simulator.binds, 3)
      assert.equal(simulator.activeSessions, 3)
      assert.equal(simulator.sessions, 3)
    })

    it('answers ESME_RINVPASWD, ESME_RINVSYSID and ESME_RBINDFAIL', async function () {
      const esme = await connected()
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, 'wrong')).command_status, 0x0e)
      assert.equal((await esme.bind('transceiver', 'nobody', PASSWORD)).command_status, 0x0f)
      simulator.refuseBinds(true)
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0x0d)
      simulator.refuseBinds(false)
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0x05)
      assert.equal(simulator.binds, 1)
      assert.equal(simulator.bindFailures, 4)
    })

    it('refuses submit_sm before a bind and on a receiver bind', async function () {
      const unbound = await connected()
      const early = await unbound.request('submit_sm', submitFields())
      assert.equal(early.command_status, 0x04)
      const receiver = await bound('receiver')
      assert.equal((await receiver.request('submit_sm', submitFields())).command_status, 0x04)
      assert.equal(simulator.received.length, 0)
    })

    it('answers enquire_link, and unbind before closing the connection', async function () {
      const esme = await bound()
      assert.equal((await esme.request('enquire_link')).command_status, 0)
      assert.equal(simulator.enquireLinksReceived, 1)
      const unbind = await esme.request('unbind')
      assert.equal(unbind.command, 'unbind_resp')
      await esme.closed
      await simulator.until(() => simulator.activeSessions === 0)
    })

    it('close() closes the sessions it holds', async function () {
      const esme = await bound()
      await simulator.close()
      await esme.closed
      assert.ok(esme.isClosed())
    })
  })

  describe('enquire_link from the SMSC', function () {
    it('pings bound sessions every enquireLinkMs and counts the answers', async function () {
      await start({ enquireLinkMs: 10 })
      await bound()
      await simulator.until(() => simulator.enquireLinkResponses >= 2)
    })
  })

  describe('submit_sm', function () {
    beforeEach(() => start())

    it('records GSM septets exactly and decodes them, extension table included', async function () {
      const esme = await bound()
      // "Prix 10€ @ Café_": € is ESC 0x65, @ is 0x00, é is 0x05, _ is 0x11.
      const septets = Buffer.from([
        0x50, 0x72, 0x69, 0x78, 0x20, 0x31, 0x30, 0x1b, 0x65, 0x20, 0x00, 0x20, 0x43, 0x61, 0x66,
        0x05, 0x11,
      ])
      const id = await submitOk(esme, { short_message: septets })
      const [submit] = simulator.received
      assert.deepEqual(submit.shortMessage, septets)
      assert.equal(submit.messageId, id)
      assert.equal(submit.status, 0)
      assert.equal(submit.answered, true)
      assert.equal(submit.sourceAddr, 'Shop')
      assert.equal(submit.sourceTon, 5)
      assert.equal(submit.sourceNpi, 0)
      assert.equal(submit.destAddr, HANDSET)
      assert.equal(submit.dataCoding, 0)
      assert.equal(submit.registeredDelivery, 1)
      assert.equal(simulator.messagesTo(HANDSET)[0].text, 'Prix 10€ @ Café_')
    })

    it('records UCS-2 octets exactly, emoji surrogate pair included', async function () {
      const esme = await bound()
      const octets = ucs2('0041 006c 006c 00f4 0020 d83d de42') // "Allô 🙂"
      await submitOk(esme, { data_coding: 0x08, short_message: octets })
      assert.deepEqual(simulator.received[0].shortMessage, octets)
      const [message] = simulator.messagesTo(HANDSET)
      assert.equal(message.dataCoding, 0x08)
      assert.equal(message.text, 'Allô 🙂')
    })

    it('gives unique ids: hex by default', async function () {
      const esme = await bound()
      const ids = [await submitOk(esme), await submitOk(esme), await submitOk(esme)]
      assert.equal(new Set(ids).size, 3)
      for (const id of ids) assert.match(id, /^[ab][0-9a-f]{7}$/)
    })

    it('gives decimal ids when asked', async function () {
      await simulator.close()
      await start({ idFormat: 'decimal' })
      const esme = await bound()
      const ids = [await submitOk(esme), await submitOk(esme)]
      assert.notEqual(ids[0], ids[1])
      for (const id of ids) assert.match(id, /^\d{10}$/)
    })

    it('reassembles a 3-part message by UDH, whatever the order of arrival', async function () {
      const esme = await bound()
      const parts = ['First part, ', 'second part, ', 'third part.'].map((text) =>
        Buffer.from(text, 'latin1'),
      )
      const ids = new Map<number, string>()
      for (const seq of [3, 1, 2]) {
        const id = await submitOk(esme, {
          esm_class: 0x40,
          short_message: udh(42, 3, seq, parts[seq - 1]),
        })
        ids.set(seq, id)
      }
      assert.deepEqual(simulator.received[0].udh, { ref: 42, total: 3, seq: 3 })
      const messages = simulator.messagesTo(HANDSET)
      assert.equal(messages.length, 1)
      assert.equal(messages[0].text, 'First part, second part, third part.')
      assert.equal(messages[0].parts, 3)
      assert.equal(messages[0].complete, true)
      assert.deepEqual(messages[0].messageIds, [ids.get(1), ids.get(2), ids.get(3)])
    })

    it('reassembles by SAR TLVs', async function () {
      const esme = await bound()
      for (const [seq, text] of [
        [1, 'Bonjour '],
        [2, 'à tous'],
      ] as const) {
        await submitOk(esme, {
          data_coding: 0x03,
          short_message: Buffer.from(text, 'latin1'),
          sar_msg_ref_num: 0x1234,
          sar_total_segments: 2,
          sar_segment_seqnum: seq,
        })
      }
      assert.deepEqual(simulator.received[1].sar, { ref: 0x1234, total: 2, seq: 2 })
      const [message] = simulator.messagesTo(HANDSET)
      assert.equal(message.text, 'Bonjour à tous')
      assert.equal(message.parts, 2)
      assert.equal(message.complete, true)
    })

    it('reads message_payload and refuses it beside a non-empty short_message', async function () {
      const esme = await bound()
      const payload = Buffer.from('x'.repeat(300), 'latin1')
      await submitOk(esme, { short_message: Buffer.alloc(0), message_payload: payload })
      assert.deepEqual(simulator.received[0].messagePayload, payload)
      assert.equal(simulator.messagesTo(HANDSET)[0].text, 'x'.repeat(300))
      const both = await esme.request('submit_sm', submitFields({ message_payload: payload }))
      assert.equal(both.command_status, 0xc4)
    })

    it('marks an incomplete message and a character split across parts', async function () {
      const esme = await bound()
      // 🙂 is D83D DE42: its two halves sent in different parts.
      await submitOk(esme, {
        esm_class: 0x40,
        data_coding: 8,
        short_message: udh(7, 3, 1, ucs2('0041 d83d')),
      })
      await submitOk(esme, {
        esm_class: 0x40,
        data_coding: 8,
        short_message: udh(7, 3, 2, ucs2('de42 0042')),
      })
      const [message] = simulator.messagesTo(HANDSET)
      assert.equal(message.text, 'A\ufffd\ufffdB')
      assert.equal(message.complete, false)
    })
  })

  describe('delivery receipts', function () {
    function receiptId(text: string): string {
      const match =
        /^id:(\S+) sub:001 dlvrd:00[01] submit date:\d{10} done date:\d{10} stat:(\w+) err:\d{3} text:/.exec(
          text,
        )
      assert.ok(match, `not a receipt text: ${text}`)
      return match[1]
    }

    it('sends one after the submit, with the id in the text and the TLVs (hex ids)', async function () {
      await start({ receiptDelayMs: 5 })
      const esme = await bound()
      const id = await submitOk(esme)
      await esme.untilDelivers(1)
      const [receipt] = esme.delivers
      assert.equal(receipt.esmClass, 0x04)
      assert.equal(receipt.dataCoding, 0)
      assert.equal(receipt.sourceAddr, HANDSET)
      assert.equal(receipt.destAddr, 'Shop')
      const text = receipt.shortMessage.toString('latin1')
      assert.equal(receiptId(text), id)
      assert.match(text, / dlvrd:001 .* stat:DELIVRD err:000 text:Hello$/)
      assert.deepEqual(receipt.tlvs.get(0x001e), Buffer.from(`${id}\0`, 'latin1'))
      assert.deepEqual(receipt.tlvs.get(0x0427), Buffer.from([2]))
      await simulator.until(() => simulator.deliverResponses.length === 1)
      assert.deepEqual(
        { ...simulator.deliverResponses[0], at: 0, sessionId: 0 },
        { kind: 'receipt', messageId: id, commandStatus: 0, sessionId: 0, at: 0 },
      )
    })

    it('uses decimal ids in text and TLV alike', async function () {
      await start({ idFormat: 'decimal', receiptDelayMs: 5 })
      const esme = await bound()
      const id = await submitOk(esme)
      await esme.untilDelivers(1)
      assert.match(id, /^\d+$/)
      assert.equal(receiptId(esme.delivers[0].shortMessage.toString('latin1')), id)
      assert.deepEqual(esme.delivers[0].tlvs.get(0x001e), Buffer.from(`${id}\0`, 'latin1'))
    })

    it('leaves the TLVs out in text-only style', async function () {
      await start({ receiptStyle: 'text-only', receiptDelayMs: 5 })
      const esme = await bound()
      const id = await submitOk(esme)
      await esme.untilDelivers(1)
      assert.equal(receiptId(esme.delivers[0].shortMessage.toString('latin1')), id)
      assert.equal(esme.delivers[0].tlvs.size, 0)
    })

    it('reports the state the receipt rule gives', async function () {
      await start({ receiptDelayMs: 5 })
      simulator.setReceiptRule((dest) => (dest === HANDSET ? 'UNDELIV' : 'EXPIRED'))
      const esme = await bound()
      await submitOk(esme)
      await submitOk(esme, { destination_addr: '33699999999' })
      await esme.untilDelivers(2)
      const [undeliv, expired] = esme.delivers
      assert.match(undeliv.shortMessage.toString('latin1'), / dlvrd:000 .* stat:UNDELIV /)
      assert.deepEqual(undeliv.tlvs.get(0x0427), Buffer.from([5]))
      assert.match(expired.shortMessage.toString('latin1'), / stat:EXPIRED /)
      assert.deepEqual(expired.tlvs.get(0x0427), Buffer.from([3]))
    })

    it('sends none when the rule says null, or registered_delivery does not ask', async function () {
      await start({ receiptDelayMs: 5 })
      simulator.setReceiptRule((dest) => (dest === 'silent' ? null : 'DELIVRD'))
      const esme = await bound()
      await submitOk(esme, { destination_addr: 'silent' })
      await submitOk(esme, { registered_delivery: 0 })
      await submitOk(esme, { registered_delivery: 2 }) // on failure only
      // Receipts go out in submit order, so a receipt for the ones above would come first.
      const sentinel = await submitOk(esme)
      await esme.untilDelivers(1)
      assert.equal(receiptId(esme.delivers[0].shortMessage.toString('latin1')), sentinel)
    })

    it('sends one receipt for a multi-part message, for its last part, by default', async function () {
      await start({ receiptDelayMs: 5 })
      const esme = await bound()
      const ids: string[] = []
      for (const seq of [1, 2, 3]) {
        ids.push(await submitOk(esme, { esm_class: 0x40, short_message: udh(9, 3, seq, HELLO) }))
      }
      const sentinel = await submitOk(esme, { destination_addr: '33699999999' })
      await esme.untilDelivers(2)
      const received = esme.delivers.map((d) => receiptId(d.shortMessage.toString('latin1')))
      assert.deepEqual(received, [ids[2], sentinel])
      assert.match(esme.delivers[0].shortMessage.toString('latin1'), /text:HelloHelloHello$/)
    })

    it('sends one receipt per part when receiptPerSegment is set', async function () {
      await start({ receiptDelayMs: 5, receiptPerSegment: true })
      const esme = await bound()
      const ids: string[] = []
      for (const seq of [1, 2, 3]) {
        ids.push(await submitOk(esme, { esm_class: 0x40, short_message: udh(9, 3, seq, HELLO) }))
      }
      await esme.untilDelivers(3)
      const received = esme.delivers.map((d) => receiptId(d.shortMessage.toString('latin1')))
      assert.deepEqual(received, ids)
    })

    it('keeps a receipt until a receiver binds', async function () {
      await start({ receiptDelayMs: 0 })
      const transmitter = await bound('transmitter')
      const id = await submitOk(transmitter)
      await transmitter.close()
      const receiver = await bound('receiver')
      await receiver.untilDelivers(1)
      assert.equal(receiptId(receiver.delivers[0].shortMessage.toString('latin1')), id)
    })

    it('delivers again a receipt that was never acknowledged', async function () {
      await start({ receiptDelayMs: 0 })
      const silent = await bound('transceiver', { answerDelivers: false })
      const id = await submitOk(silent)
      await silent.untilDelivers(1)
      await silent.close()
      const next = await bound()
      await next.untilDelivers(1)
      assert.equal(receiptId(next.delivers[0].shortMessage.toString('latin1')), id)
      assert.equal(simulator.receipts.length, 2)
      await simulator.until(() => simulator.deliverResponses.length === 1)
    })
  })

  describe('behaviour controls', function () {
    beforeEach(() => start())

    it('throttleNext answers ESME_RTHROTTLED (or the status given), then accepts', async function () {
      const esme = await bound()
      simulator.throttleNext(2)
      const statuses = []
      for (let i = 0; i < 3; i++) {
        statuses.push((await esme.request('submit_sm', submitFields())).command_status)
      }
      assert.deepEqual(statuses, [0x58, 0x58, 0])
      assert.deepEqual(
        simulator.received.map((r) => [r.status, r.messageId === null]),
        [
          [0x58, true],
          [0x58, true],
          [0, false],
        ],
      )
      simulator.throttleNext(1, 0x14)
      assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0x14)
      assert.equal(simulator.messagesTo(HANDSET).length, 1)
    })

    it('failNext answers the status given', async function () {
      const esme = await bound()
      simulator.failNext(1, 0x0b)
      assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0x0b)
      assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0)
    })

    it('dropConnectionsAfter destroys the socket on the nth submit, unanswered', async function () {
      const esme = await bound()
      simulator.dropConnectionsAfter(2)
      await submitOk(esme)
      await assert.rejects(esme.request('submit_sm', submitFields()), /connection closed/)
      await esme.closed
      assert.equal(simulator.received.length, 2)
      assert.equal(simulator.received[1].status, null)
      assert.equal(simulator.received[1].answered, false)
      await simulator.until(() => simulator.activeSessions === 0)
      const again = await bound()
      await submitOk(again)
    })

    it('holdResponses keeps submit_sm_resp back; maxOutstanding counts the window', async function () {
      const esme = await bound()
      simulator.holdResponses()
      let answered = 0
      const requests = Array.from({ length: 5 }, () =>
        esme.request('submit_sm', submitFields()).then((response) => {
          answered++
          return response.command_status
        }),
      )
      await simulator.until(() => simulator.outstanding === 5)
      assert.equal(answered, 0)
      assert.equal((await esme.request('enquire_link')).command_status, 0)
      assert.equal(answered, 0)
      assert.equal(simulator.maxOutstanding, 5)
      simulator.releaseResponses()
      assert.deepEqual(await Promise.all(requests), [0, 0, 0, 0, 0])
      assert.equal(simulator.outstanding, 0)
      assert.equal(simulator.maxOutstanding, 5)
    })

    it('delayResponses holds submit_sm_resp back but not enquire_link_resp', async function () {
      const esme = await bound()
      simulator.delayResponses(1500)
      let answered = false
      const submit = esme.request('submit_sm', submitFields()).then((response) => {
        answered = true
        return response.command_status
      })
      await simulator.until(() => simulator.received.length === 1)
      assert.equal((await esme.request('enquire_link')).command_status, 0)
      assert.equal(answered, false)
      assert.equal(await submit, 0)
    })
  })

  describe('MO messages', function () {
    beforeEach(() => start())

    it('injects a single GSM message as one deliver_sm', async function () {
      const esme = await bound()
      const statuses = await simulator.injectMo({
        from: '+33612345678',
        to: '38123',
        text: 'Stop @ 5€',
        encoding: 'gsm7',
      })
      assert.deepEqual(statuses, [0])
      const [mo] = esme.delivers
      assert.equal(mo.esmClass, 0)
      assert.equal(mo.dataCoding, 0)
      assert.equal(mo.sourceAddr, '33612345678')
      assert.equal(mo.sourceTon, 1)
      assert.equal(mo.sourceNpi, 1)
      assert.equal(mo.destAddr, '38123')
      assert.deepEqual(
        mo.shortMessage,
        Buffer.from([0x53, 0x74, 0x6f, 0x70, 0x20, 0x00, 0x20, 0x35, 0x1b, 0x65]),
      )
      assert.equal(simulator.deliverResponses[0].kind, 'mo')
    })

    it('injects a 3-part UCS-2 message concatenated by UDH', async function () {
      const esme = await bound()
      const text = 'Réponse : oui, très bien 🙂 à demain, et merci encore pour tout'
      assert.deepEqual(
        await simulator.injectMo({
          from: '+33612345678',
          to: '38123',
          text,
          encoding: 'ucs2',
          split: { method: 'udh', parts: 3 },
        }),
        [0, 0, 0],
      )
      assert.equal(esme.delivers.length, 3)
      const ref = esme.delivers[0].shortMessage[3]
      let joined = ''
      esme.delivers.forEach((part, i) => {
        assert.equal(part.esmClass, 0x40)
        assert.equal(part.dataCoding, 0x08)
        assert.deepEqual([...part.shortMessage.subarray(0, 6)], [5, 0, 3, ref, 3, i + 1])
        joined += Buffer.from(part.shortMessage.subarray(6)).swap16().toString('utf16le')
      })
      assert.equal(joined, text)
    })

    it('injects parts with SAR TLVs', async function () {
      const esme = await bound()
      await simulator.injectMo({
        from: '+33612345678',
        to: '38123',
        text: 'Caf\u00e9 cr\u00e8me',
        encoding: 'latin1',
        split: { method: 'sar', parts: 2 },
      })
      const [first, second] = esme.delivers
      assert.equal(first.dataCoding, 0x03)
      assert.equal(first.esmClass, 0)
      assert.deepEqual(first.tlvs.get(0x020e), Buffer.from([2]))
      assert.deepEqual(second.tlvs.get(0x020f), Buffer.from([2]))
      assert.deepEqual(first.tlvs.get(0x020c), second.tlvs.get(0x020c))
      const text = Buffer.concat([first.shortMessage, second.shortMessage]).toString('latin1')
      assert.equal(text, 'Café crème')
    })

    it('refuses when no receiver or transceiver is bound', async function () {
      await bound('transmitter')
      await assert.rejects(
        simulator.injectMo({ from: '+33612345678', to: '38123', text: 'hi', encoding: 'gsm7' }),
        /no receiver/,
      )
    })
  })
})
