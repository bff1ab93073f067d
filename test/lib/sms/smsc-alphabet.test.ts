import assert from 'node:assert/strict'
import { encodeSms, encodeSmsForSmsc, splitSms } from '../../../lib/sms'

const utf16be = (text: string) => Buffer.from(text, 'utf16le').swap16()

describe('lib/sms/smsc-alphabet', () => {
  it('leaves GSM 03.38 as it is for a gsm SMSC', () => {
    const text = 'Prix: 5$ @ 12h [ok] €'
    assert.deepEqual(encodeSmsForSmsc(text, 'gsm'), encodeSms(text))
  })

  it('writes a GSM-7 text in Latin-1, one octet per character, escapes included', () => {
    const text = 'Prix: 5$ @ 12h [ok] {x} ~ ^ \\ | é à Ç ß £ ¥ ¤ § ¿ ¡ Ø æ ñ'
    const encoded = encodeSmsForSmsc(text, 'latin1')
    assert.equal(encoded.encoding, 'gsm7')
    assert.equal(encoded.dataCoding, 0)
    assert.deepEqual(encoded.parts, [Buffer.from(text, 'latin1')])
    assert.equal(encoded.parts[0].length, [...text].length)
    assert.equal(encoded.parts[0][text.indexOf('@')], 0x40, 'not GSM 0x00')
    assert.equal(encoded.parts[0][text.indexOf('[')], 0x5b, 'not ESC 0x3C')
  })

  it('keeps the GSM split, where an escape character costs two septets on the air', () => {
    // In GSM, 152 + 2 septets do not fit in 153: '[' opens the second part.
    const text = 'a'.repeat(152) + '[' + 'b'.repeat(10)
    const encoded = encodeSmsForSmsc(text, 'latin1')
    assert.deepEqual(
      encoded.parts.map((p) => p.toString('latin1')),
      splitSms(text).parts,
    )
    assert.equal(encoded.parts[0].length, 152)
    assert.equal(encoded.parts[1].toString('latin1'), '[' + 'b'.repeat(10))
    assert.equal(encoded.segments, 2)
  })

  it('sends UCS-2, split again, when Latin-1 lacks a GSM character (€, Greek capitals)', () => {
    for (const odd of ['€', 'Δ', 'Ω']) {
      const text = odd + 'x'.repeat(100)
      const encoded = encodeSmsForSmsc(text, 'latin1')
      assert.equal(encoded.encoding, 'ucs2', odd)
      assert.equal(encoded.dataCoding, 8)
      assert.deepEqual(encoded.parts, [utf16be(odd + 'x'.repeat(66)), utf16be('x'.repeat(34))])
    }
  })

  it('writes ASCII for an ascii SMSC, and UCS-2 for any GSM character past 0x7F', () => {
    const plain = 'Hello @ $ _ [x] {y} ~ ^ \\ | !'
    assert.deepEqual(encodeSmsForSmsc(plain, 'ascii').parts, [Buffer.from(plain, 'ascii')])
    assert.equal(encodeSmsForSmsc(plain, 'ascii').dataCoding, 0)
    for (const odd of ['é', '£', '¤', '€', 'Δ']) {
      const encoded = encodeSmsForSmsc(`Prix ${odd}`, 'ascii')
      assert.equal(encoded.dataCoding, 8, odd)
    }
  })

  it('sends a text outside GSM-7 as UCS-2 whatever the alphabet', () => {
    for (const alphabet of ['gsm', 'latin1', 'ascii'] as const) {
      assert.deepEqual(encodeSmsForSmsc('fenêtre', alphabet), encodeSms('fenêtre'))
    }
  })

  it('encodeSms can be told to use UCS-2 for a GSM-7 text', () => {
    const forced = encodeSms('x'.repeat(71), 'ucs2')
    assert.equal(forced.encoding, 'ucs2')
    assert.deepEqual(forced.parts, [utf16be('x'.repeat(67)), utf16be('xxxx')])
  })
})
