import assert from 'node:assert/strict'
import { SmppSubmitError } from '../../../lib/smpp/errors'
import { planSubmit, type SubmitMessage } from '../../../lib/smpp/submit'
import { splitSms } from '../../../lib/sms'
import type { PduFields } from 'smpp'

const message = (overrides: Partial<SubmitMessage>): SubmitMessage => ({
  from: { type: 'alphanumeric', name: 'Mail2SMS' },
  to: '+33612345678',
  text: 'Hello',
  requestReceipt: true,
  ...overrides,
})

function permanent(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof SmppSubmitError && err.kind === 'permanent')
}

describe('lib/smpp/submit', () => {
  it('takes a reference number only for a message of several segments', () => {
    let calls = 0
    const next = () => ++calls
    planSubmit(message({ text: 'short' }), 'udh', next)
    assert.equal(calls, 0)
    planSubmit(message({ text: 'x'.repeat(161) }), 'sar', next)
    planSubmit(message({ text: 'x'.repeat(161) }), 'payload', next)
    assert.equal(calls, 1)
  })

  it('sends the empty text as one empty part', () => {
    const plan = planSubmit(message({ text: '' }), 'udh', () => 1)
    assert.equal(plan.pdus.length, 1)
    assert.deepEqual(plan.pdus[0].short_message, Buffer.alloc(0))
    assert.equal(plan.pdus[0].data_coding, 0)
  })

  it('sets registered_delivery only when a receipt is wanted', () => {
    assert.equal(planSubmit(message({}), 'udh', () => 1).pdus[0].registered_delivery, 1)
    const quiet = planSubmit(message({ requestReceipt: false }), 'udh', () => 1)
    assert.equal(quiet.pdus[0].registered_delivery, 0)
  })

  it('refuses what no SMSC would take', () => {
    permanent(() => planSubmit(message({ to: '0612345678' }), 'udh', () => 1))
    permanent(() => planSubmit(message({ to: '+336123456789012345' }), 'udh', () => 1))
    permanent(() =>
      planSubmit(message({ from: { type: 'number', number: 'abc' } }), 'udh', () => 1),
    )
    permanent(() =>
      planSubmit(message({ from: { type: 'alphanumeric', name: 'TwelveLetter' } }), 'udh', () => 1),
    )
    permanent(() =>
      planSubmit(message({ from: { type: 'alphanumeric', name: 'Café' } }), 'udh', () => 1),
    )
    permanent(() =>
      planSubmit(message({ from: { type: 'alphanumeric', name: '  ' } }), 'udh', () => 1),
    )
    permanent(() => planSubmit(message({ text: 'x'.repeat(153 * 256) }), 'udh', () => 1))
  })

  describe('an SMSC whose data_coding 0 is not GSM 03.38', () => {
    const udh = (pdu: PduFields) => (pdu.short_message as Buffer).subarray(0, 6)
    const body = (pdu: PduFields) => (pdu.short_message as Buffer).subarray(6)

    it('writes GSM-7 text in Latin-1 with data_coding 0, keeping the GSM split and the UDH', () => {
      const text = 'Prix @ 5$ '.repeat(15) + 'ab' + '[x]' + 'é'.repeat(40)
      const gsm = planSubmit(message({ text }), 'udh', () => 7)
      const latin1 = planSubmit(message({ text }), 'udh', () => 7, 'latin1')
      assert.equal(latin1.encoding, 'gsm7')
      assert.equal(latin1.segments, gsm.segments)
      assert.equal(latin1.pdus.length, 2)
      assert.deepEqual(latin1.pdus.map(udh), gsm.pdus.map(udh))
      assert.deepEqual(
        latin1.pdus.map((pdu) => body(pdu).toString('latin1')),
        splitSms(text).parts,
      )
      for (const pdu of latin1.pdus) {
        assert.equal(pdu.data_coding, 0)
        assert.equal(pdu.esm_class, 0x40)
      }
      // The GSM part 1 ends one septet early because '[' would not fit: two septets on the air.
      assert.equal(body(latin1.pdus[0]).length, 152)
      assert.equal(body(latin1.pdus[1]).toString('latin1'), '[x]' + 'é'.repeat(40))
    })

    it('writes SAR parts and a message_payload in the same alphabet', () => {
      // 161 septets in GSM: two parts, although the 159 octets would fit in one.
      const text = 'a'.repeat(156) + '@{}'
      const sar = planSubmit(message({ text }), 'sar', () => 7, 'ascii')
      assert.deepEqual(
        sar.pdus.map((pdu) => pdu.short_message),
        [Buffer.from('a'.repeat(153)), Buffer.from('aaa@{}')],
      )
      const payload = planSubmit(message({ text }), 'payload', () => 7, 'ascii')
      assert.deepEqual(payload.pdus[0].message_payload, Buffer.from(text, 'ascii'))
      assert.equal(payload.pdus[0].data_coding, 0)
    })

    it('sends UCS-2 (data_coding 8), split for 67 characters, when the alphabet lacks a character', () => {
      const text = 'Total 20€ ' + 'x'.repeat(100)
      const plan = planSubmit(message({ text }), 'udh', () => 7, 'latin1')
      assert.equal(plan.encoding, 'ucs2')
      assert.equal(plan.segments, 2)
      assert.deepEqual(
        plan.pdus.map((pdu) => pdu.data_coding),
        [8, 8],
      )
      assert.deepEqual(
        plan.pdus.map((pdu) => body(pdu).swap16().toString('utf16le')),
        [text.slice(0, 67), text.slice(67)],
      )
      const ascii = planSubmit(message({ text: 'Café' }), 'udh', () => 7, 'ascii')
      assert.equal(ascii.pdus[0].data_coding, 8)
      assert.deepEqual(
        ascii.pdus[0].short_message,
        Buffer.from('\x00C\x00a\x00f\x00\xe9', 'latin1'),
      )
    })
  })

  describe('a concatenation reference of its own', () => {
    const LONG = 'x'.repeat(200)

    it('is used for the UDH and the SAR TLVs instead of the next reference', () => {
      let calls = 0
      const next = () => ++calls
      const udh = planSubmit(message({ text: LONG, reference: 42 }), 'udh', next)
      assert.deepEqual(
        udh.pdus.map((pdu) => [...(pdu.short_message as Buffer).subarray(0, 6)]),
        [
          [0x05, 0x00, 0x03, 42, 2, 1],
          [0x05, 0x00, 0x03, 42, 2, 2],
        ],
      )
      const sar = planSubmit(message({ text: LONG, reference: 255 }), 'sar', next)
      assert.deepEqual(
        sar.pdus.map((pdu) => pdu.sar_msg_ref_num),
        [255, 255],
      )
      assert.equal(calls, 0)
      const fresh = planSubmit(message({ text: LONG }), 'udh', next)
      assert.equal((fresh.pdus[0].short_message as Buffer)[3], 1)
    })

    it('must be an integer from 1 to 255', () => {
      for (const reference of [0, 256, 1.5, -1]) {
        assert.throws(
          () => planSubmit(message({ text: LONG, reference }), 'udh', () => 1),
          RangeError,
          String(reference),
        )
      }
    })
  })
})
