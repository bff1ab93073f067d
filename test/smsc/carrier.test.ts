import assert from 'node:assert/strict'
import type { PDU, PduFields } from 'smpp'
import { CarrierSmsc, type CarrierQuirks, type CarrierSmscOptions } from '../support/smsc/carrier'
import { connectEsme, type TestEsme } from '../support/smsc/esme'
import { encodeGsm7 } from '../support/smsc/gsm7'

const SYSTEM_ID = 'mail2sms'
const PASSWORD = 'secret'
const HANDSET = '33612345678'
const RECEIPTED_MESSAGE_ID = 0x001e
const MESSAGE_STATE = 0x0427

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
    short_message: Buffer.from('Hello', 'latin1'),
    ...fields,
  }
}

/** Part `seq` of a `total`-part message with UDH reference `ref`. */
function part(ref: number, total: number, seq: number, text: string): PduFields {
  return submitFields({
    esm_class: 0x40,
    short_message: Buffer.concat([
      Buffer.from([5, 0, 3, ref, total, seq]),
      Buffer.from(text, 'latin1'),
    ]),
  })
}

/** The receipt text's id, and the TLV id without its NUL. */
function receiptIds(esme: TestEsme, i: number): { text: string; tlv: string | null } {
  const d = esme.delivers[i]
  const text = /id:(\S+)/.exec(d.shortMessage.toString('latin1'))?.[1] ?? ''
  const tlv = d.tlvs.get(RECEIPTED_MESSAGE_ID)
  return { text, tlv: tlv ? tlv.toString('latin1').replace(/\0+$/, '') : null }
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([promise, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))])
}

describe('carrier-like test SMSC', function () {
  let smsc: CarrierSmsc
  const esmes: TestEsme[] = []

  async function start(
    quirks: Partial<CarrierQuirks> = {},
    options: CarrierSmscOptions = {},
  ): Promise<void> {
    smsc = await CarrierSmsc.start({ systemId: SYSTEM_ID, password: PASSWORD, quirks, ...options })
  }

  async function connected(): Promise<TestEsme> {
    const esme = await connectEsme(smsc.port)
    esmes.push(esme)
    return esme
  }

  async function bound(): Promise<TestEsme> {
    const esme = await connected()
    assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
    return esme
  }

  async function submitOk(esme: TestEsme, fields: PduFields = submitFields()): Promise<string> {
    const response = await esme.request('submit_sm', fields)
    assert.equal(response.command_status, 0)
    return String(response.message_id)
  }

  afterEach(async function () {
    for (const esme of esmes.splice(0)) {
      esme.session.destroy()
      await esme.closed
    }
    await smsc.close()
  })

  describe('sessions', function () {
    it('checks system_id and password, and refuses a second bind', async function () {
      await start()
      const esme = await connected()
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, 'wrong')).command_status, 0x0e)
      assert.equal((await esme.bind('transceiver', 'nobody', PASSWORD)).command_status, 0x0f)
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0x05)
      assert.equal(smsc.binds, 1)
    })

    it('refuses submit_sm before a bind, and answers unknown commands with generic_nack', async function () {
      await start()
      const esme = await connected()
      assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0x04)
      const nack = await esme.request('query_sm', { message_id: '1', source_addr: '' })
      assert.equal(nack.command, 'generic_nack')
      assert.equal(nack.command_status, 0x03)
      assert.equal(smsc.accepted().length, 0)
    })

    it('holds several sessions, answers enquire_link and unbind, and counts them', async function () {
      await start()
      const a = await bound()
      await bound()
      assert.equal(smsc.openSessions, 2)
      assert.equal((await a.request('enquire_link')).command_status, 0)
      assert.equal(smsc.enquireLinks, 1)
      assert.equal((await a.request('unbind')).command, 'unbind_resp')
      await a.closed
      assert.equal(smsc.unbinds, 1)
      assert.equal(smsc.sessions, 2)
    })

    it('sends its own enquire_link every enquireLinkMs', async function () {
      await start({}, { enquireLinkMs: 10 })
      await bound()
      await smsc.until(() => smsc.enquireLinkResponses >= 2)
    })

    it('unbindSessions() sends unbind, then closes the connection', async function () {
      await start()
      const esme = await bound()
      await smsc.unbindSessions(100)
      await esme.closed
      assert.equal(smsc.openSessions, 0)
    })

    it('dropSessions() cuts every connection', async function () {
      await start()
      const esme = await bound()
      smsc.dropSessions()
      await esme.closed
      assert.ok(esme.isClosed())
    })
  })

  describe('message ids', function () {
    const cases: Array<[CarrierQuirks['respIdFormat'], string]> = [
      ['decimal', '4000000000'],
      ['hex', 'ee6b2800'],
      ['hex-padded', '00EE6B2800'],
      ['decimal-padded', '00000000004000000000'],
    ]
    for (const [format, expected] of cases) {
      it(`answers submit_sm with a ${format} id`, async function () {
        await start({ respIdFormat: format })
        assert.equal(await submitOk(await bound()), expected)
      })
    }

    it('quotes the same number in another format in receipts, text and TLV', async function () {
      await start({ respIdFormat: 'hex-padded', receiptIdFormat: 'decimal' })
      const esme = await bound()
      assert.equal(await submitOk(esme), '00EE6B2800')
      await esme.untilDelivers(1)
      assert.deepEqual(receiptIds(esme, 0), { text: '4000000000', tlv: '4000000000' })
      assert.equal(esme.delivers[0].esmClass, 0x04)
      assert.deepEqual([...esme.delivers[0].tlvs.get(MESSAGE_STATE)!], [2])
    })

    it('sends a receipt for any id on demand, written with the quirks in force', async function () {
      await start({ receiptSource: 'national', receiptTlvs: false })
      const esme = await bound()
      smsc.sendReceipt({ id: '12345', dest: HANDSET, stat: 'UNDELIV' })
      await esme.untilDelivers(1)
      assert.deepEqual(receiptIds(esme, 0), { text: '12345', tlv: null })
      assert.equal(esme.delivers[0].sourceAddr, '0612345678')
      assert.match(esme.delivers[0].shortMessage.toString('latin1'), /stat:UNDELIV/)
      assert.deepEqual(
        smsc.receiptsSent.map((r) => [r.id, r.source, r.stat]),
        [['12345', '0612345678', 'UNDELIV']],
      )
    })

    it('sends text-only receipts when receiptTlvs is off', async function () {
      await start({ respIdFormat: 'decimal', receiptIdFormat: 'hex', receiptTlvs: false })
      const esme = await bound()
      await submitOk(esme)
      await esme.untilDelivers(1)
      assert.deepEqual(receiptIds(esme, 0), { text: 'ee6b2800', tlv: null })
      assert.equal(esme.delivers[0].tlvs.size, 0)
      assert.match(esme.delivers[0].shortMessage.toString('latin1'), /stat:DELIVRD err:000/)
    })
  })

  describe('receipt source', function () {
    const cases: Array<[CarrierQuirks['receiptSource'], string, string, number]> = [
      ['international', HANDSET, HANDSET, 1],
      ['plus', HANDSET, `+${HANDSET}`, 1],
      ['national', HANDSET, '0612345678', 2],
      ['national', '447700900123', '07700900123', 2],
      ['national', '4915112345678', '015112345678', 2],
      ['national', '12025550123', '2025550123', 2],
      ['intl-00', HANDSET, `00${HANDSET}`, 0],
    ]
    for (const [style, dest, source, ton] of cases) {
      it(`writes ${dest} as ${source} (TON ${ton}) for ${style}`, async function () {
        await start({ receiptSource: style })
        const esme = await bound()
        await submitOk(esme, submitFields({ destination_addr: dest }))
        await esme.untilDelivers(1)
        assert.equal(esme.delivers[0].sourceAddr, source)
        assert.equal(esme.delivers[0].sourceTon, ton)
        assert.equal(esme.delivers[0].destAddr, 'Shop')
        assert.equal(smsc.receiptsSent[0].dest, dest)
      })
    }

    it('sends no receipt when the state rule says none, or when none was asked', async function () {
      await start({ receiptState: (dest) => (dest === HANDSET ? null : 'UNDELIV') })
      const esme = await bound()
      await submitOk(esme)
      await submitOk(
        esme,
        submitFields({ destination_addr: '33699999999', registered_delivery: 0 }),
      )
      await submitOk(esme, submitFields({ destination_addr: '33688888888' }))
      await esme.untilDelivers(1)
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(esme.delivers.length, 1)
      assert.match(esme.delivers[0].shortMessage.toString('latin1'), /stat:UNDELIV/)
      assert.deepEqual([...esme.delivers[0].tlvs.get(MESSAGE_STATE)!], [5])
    })
  })

  describe('long messages', function () {
    it('gives every segment the same id when sameIdForAllSegments is on', async function () {
      await start({ sameIdForAllSegments: true })
      const esme = await bound()
      const ids = [
        await submitOk(esme, part(7, 3, 1, 'one ')),
        await submitOk(esme, part(7, 3, 2, 'two ')),
        await submitOk(esme, part(7, 3, 3, 'three')),
      ]
      const other = await submitOk(esme, part(8, 2, 1, 'next'))
      assert.deepEqual(ids, ['4000000000', '4000000000', '4000000000'])
      assert.equal(other, '4000000001')
      await esme.untilDelivers(4)
      assert.deepEqual(
        smsc.receiptsSent.map((r) => r.id),
        ['4000000000', '4000000000', '4000000000', '4000000001'],
      )
    })

    for (const which of ['first', 'last'] as const) {
      it(`sends one receipt per message quoting the ${which} part's id`, async function () {
        await start({ receipts: 'per-message', perMessageReceiptPart: which })
        const esme = await bound()
        const ids = [
          await submitOk(esme, part(9, 3, 1, 'one ')),
          await submitOk(esme, part(9, 3, 2, 'two ')),
        ]
        await new Promise((r) => setTimeout(r, 30))
        assert.equal(esme.delivers.length, 0, 'no receipt before the last part')
        ids.push(await submitOk(esme, part(9, 3, 3, 'three')))
        await submitOk(esme)
        await esme.untilDelivers(2)
        await new Promise((r) => setTimeout(r, 30))
        assert.equal(esme.delivers.length, 2)
        assert.equal(receiptIds(esme, 0).text, which === 'first' ? ids[0] : ids[2])
      })
    }

    it('reads DCS 0 submits in its default alphabet', async function () {
      await start({ defaultAlphabet: 'latin1' })
      const esme = await bound()
      const text = 'Réponse déjà notée'
      await submitOk(esme, submitFields({ short_message: Buffer.from(text, 'latin1') }))
      await submitOk(esme, submitFields({ short_message: encodeGsm7(text) }))
      assert.deepEqual(
        smsc.messages().map((m) => m.text),
        [text, encodeGsm7(text).toString('latin1')],
      )
      smsc.setQuirks({ defaultAlphabet: 'gsm' })
      assert.equal(smsc.messages()[1].text, text)
    })

    it('joins parts into messages, reads SAR TLVs and UCS-2, and counts duplicates', async function () {
      await start()
      const esme = await bound()
      await submitOk(esme, part(1, 2, 2, 'world'))
      await submitOk(esme, part(1, 2, 1, 'hello '))
      // The same SMS sent again under a new reference: its parts are duplicates.
      await submitOk(esme, part(2, 2, 1, 'hello '))
      const sar = (seq: number, text: string): PduFields =>
        submitFields({
          destination_addr: '33600000001',
          data_coding: 8,
          short_message: Buffer.from(text, 'utf16le').swap16(),
          sar_msg_ref_num: 300,
          sar_total_segments: 2,
          sar_segment_seqnum: seq,
        })
      await submitOk(esme, sar(1, 'ça '))
      await submitOk(esme, sar(2, 'va'))
      assert.deepEqual(smsc.messages(), [
        { dest: HANDSET, text: 'hello world', parts: 2 },
        { dest: '33600000001', text: 'ça va', parts: 2 },
      ])
      assert.equal(smsc.duplicates(), 1)
      assert.deepEqual(smsc.accepted()[3].concat, { ref: 300, total: 2, seq: 1 })
    })
  })

  describe('throttling and refusals', function () {
    it('accepts maxSubmitsPerSecond in a rolling second and throttles the rest', async function () {
      await start({ maxSubmitsPerSecond: 3 })
      const esme = await bound()
      const answers = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          esme.request('submit_sm', submitFields({ short_message: Buffer.from(`m${i}`) })),
        ),
      )
      assert.deepEqual(
        answers.map((a) => a.command_status),
        [0, 0, 0, 0x58, 0x58],
      )
      smsc.setQuirks({ throttleStatus: 0x14 })
      assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0x14)
      assert.deepEqual(
        smsc.submits.map((s) => s.outcome),
        ['accepted', 'accepted', 'accepted', 'throttled', 'throttled', 'throttled'],
      )
    })

    it('answers generic_nack when the rule says so, counting attempts of the same part', async function () {
      const attempts: number[] = []
      await start({
        genericNack: (s, attempt) => {
          attempts.push(attempt)
          return s.concat?.seq === 2 && attempt < 3 ? 0x02 : null
        },
      })
      const esme = await bound()
      const statuses: PDU[] = []
      for (let i = 0; i < 3; i++) statuses.push(await esme.request('submit_sm', part(4, 3, 2, 'b')))
      assert.deepEqual(
        statuses.map((p) => [p.command, p.command_status]),
        [
          ['generic_nack', 0x02],
          ['generic_nack', 0x02],
          ['submit_sm_resp', 0],
        ],
      )
      await submitOk(esme, part(4, 3, 1, 'a'))
      assert.deepEqual(attempts, [1, 2, 3, 1])
      assert.deepEqual(
        smsc.submits.map((s) => s.outcome),
        ['nacked', 'nacked', 'accepted', 'accepted'],
      )
    })

    it('with a silent application answers enquire_link but never submit_sm', async function () {
      await start({ silentApplication: true })
      const esme = await bound()
      const pending = esme.request('submit_sm', submitFields())
      assert.equal((await esme.request('enquire_link')).command_status, 0)
      assert.equal(await within(pending, 150), 'timeout')
      smsc.setQuirks({ silentApplication: false })
      assert.equal((await esme.request('submit_sm', submitFields())).command_status, 0)
      assert.deepEqual(
        smsc.submits.map((s) => s.outcome),
        ['unanswered', 'accepted'],
      )
      pending.catch(() => undefined)
    })
  })

  describe('MO', function () {
    const text = 'Café à 10€'

    it('writes DCS 0 text in its default alphabet', async function () {
      await start({ defaultAlphabet: 'latin1' })
      const esme = await bound()
      assert.deepEqual(await smsc.sendMo({ from: HANDSET, to: '33700000000', text: 'Café ù' }), [0])
      assert.deepEqual(esme.delivers[0].shortMessage, Buffer.from('Café ù', 'latin1'))
      assert.equal(esme.delivers[0].dataCoding, 0)
      smsc.setQuirks({ defaultAlphabet: 'gsm' })
      await smsc.sendMo({ from: HANDSET, to: '33700000000', text })
      assert.deepEqual(esme.delivers[1].shortMessage, encodeGsm7(text))
      await smsc.sendMo({ from: HANDSET, to: '33700000000', text, dataCoding: 8 })
      assert.deepEqual(esme.delivers[2].shortMessage, Buffer.from(text, 'utf16le').swap16())
      assert.equal(esme.delivers[2].dataCoding, 8)
    })

    it('splits an MO with UDH 8-bit, 16-bit or SAR, and reports each part status', async function () {
      await start()
      const esme = await connected()
      assert.equal((await esme.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
      const mo = { from: HANDSET, to: '33700000000', text: 'abcdefgh', split: 3 }
      assert.deepEqual(await smsc.sendMo({ ...mo, concat: 'udh8' }), [0, 0, 0])
      assert.deepEqual([...esme.delivers[0].shortMessage.subarray(0, 6)], [5, 0, 3, 1, 3, 1])
      assert.equal(esme.delivers[2].shortMessage.subarray(6).toString('latin1'), 'gh')
      await smsc.sendMo({ ...mo, concat: 'udh16' })
      assert.deepEqual([...esme.delivers[3].shortMessage.subarray(0, 7)], [6, 8, 4, 0, 2, 3, 1])
      await smsc.sendMo({ ...mo, concat: 'sar' })
      assert.deepEqual([...esme.delivers[7].tlvs.get(0x020f)!], [2])
      assert.equal(esme.delivers[7].esmClass, 0)
    })

    it('redelivers the last MO with identical octets and new sequence numbers', async function () {
      await start()
      const esme = await bound()
      await smsc.sendMo({ from: HANDSET, to: '33700000000', text: 'again?', split: 3 })
      await smsc.redeliverLastMo()
      assert.equal(esme.delivers.length, 4)
      const [a1, a2, b1, b2] = esme.delivers
      const body = (d: typeof a1): object => ({ ...d, sequenceNumber: 0 })
      assert.deepEqual(body(b1), body(a1))
      assert.deepEqual(body(b2), body(a2))
      assert.notEqual(b1.sequenceNumber, a1.sequenceNumber)
    })

    it('fails after its timeout when the ESME does not answer', async function () {
      await start()
      const quiet = await connectEsme(smsc.port, { answerDelivers: false })
      esmes.push(quiet)
      assert.equal((await quiet.bind('transceiver', SYSTEM_ID, PASSWORD)).command_status, 0)
      await assert.rejects(smsc.sendMo({ from: HANDSET, to: '1', text: 'x' }, { timeoutMs: 100 }))
    })
  })
})
