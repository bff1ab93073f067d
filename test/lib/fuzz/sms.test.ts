import assert from 'node:assert/strict'
import fc from 'fast-check'
import { SegmentedMessage } from 'sms-segments-calculator'
import {
  analyseSms,
  decodeGsm7,
  decodeUcs2,
  encodeGsm7,
  encodeSms,
  encodeUcs2,
  splitSms,
} from '../../../lib/sms'
import { checkProperty, show } from '../../support/fuzz'

// GSM 03.38 written out again here, from the standard, not imported: a property that takes
// its alphabet from the code under test cannot catch a wrong table.
const GSM_BASIC = [
  ...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?',
  ...'¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
]
const GSM_EXTENSION = [...'€[]{}^~\\|\f']
const NON_GSM_BMP = [...'êâôûïçœÀ`«»дж中…’“\u00a0\t\u0000\u007f']
const COMBINING = ['\u0301', '\u0308', '\u20dd', '\ufe0f', '\u200d']
const ASTRAL = ['😀', '🎉', '👍', '🏽', '𝄞', '\u{10ffff}', '\u{1f1eb}', '\u{1f1f7}']
const LONE_SURROGATES = ['\ud800', '\udbff', '\udc00', '\udfff']

const gsmCharacter = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...GSM_BASIC) },
  { weight: 2, arbitrary: fc.constantFrom(...GSM_EXTENSION) },
)

// Anything a string can hold, weighted towards what moves segment boundaries: two-septet
// characters, surrogate pairs and the characters that force UCS-2.
const anyCharacter = fc.oneof(
  { weight: 8, arbitrary: gsmCharacter },
  { weight: 1, arbitrary: fc.constantFrom(...NON_GSM_BMP) },
  { weight: 1, arbitrary: fc.constantFrom(...COMBINING) },
  { weight: 1, arbitrary: fc.constantFrom(...ASTRAL) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)

// Up to five segments, so that every boundary rule gets exercised.
const textOf = (character: fc.Arbitrary<string>) =>
  fc.array(character, { maxLength: 800, size: 'max' }).map((chars) => chars.join(''))

const gsmText = textOf(gsmCharacter)
const anyText = fc.oneof(
  textOf(anyCharacter),
  // Mostly GSM with one intruder: the case where a single character triples the cost.
  fc
    .tuple(gsmText, fc.constantFrom(...NON_GSM_BMP, ...ASTRAL, ...LONE_SURROGATES), fc.nat())
    .map(([text, intruder, at]) => {
      const i = text.length === 0 ? 0 : at % text.length
      return text.slice(0, i) + intruder + text.slice(i)
    }),
  fc.string({ unit: 'binary', maxLength: 400 }),
)

const isHighSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdbff
const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff

function septets(part: string): number {
  return [...part].reduce((sum, ch) => sum + (GSM_EXTENSION.includes(ch) ? 2 : 1), 0)
}

function unitsOf(part: string, encoding: 'gsm7' | 'ucs2'): number {
  return encoding === 'gsm7' ? septets(part) : part.length
}

// The oracle keeps whole grapheme clusters together while 3GPP only keeps code points whole;
// where every cluster is one code point the two models are the same.
function oracleModelMatches(oracle: SegmentedMessage): boolean {
  return oracle.graphemes.every((g) => [...g].length === 1)
}

describe('fuzz: lib/sms', () => {
  it('decodes what it encodes, for any GSM 03.38 text', () => {
    checkProperty(
      fc.property(gsmText, (text) => {
        assert.equal(decodeGsm7(encodeGsm7(text)), text)
      }),
      150,
    )
  })

  it('decodes what it encodes as UCS-2, for any string, lone surrogates included', () => {
    checkProperty(
      fc.property(anyText, (text) => {
        const bytes = encodeUcs2(text)
        assert.equal(bytes.length, text.length * 2)
        assert.equal(decodeUcs2(bytes), text)
      }),
      150,
    )
  })

  it('refuses in GSM-7 exactly the texts that hold a character outside GSM 03.38', () => {
    checkProperty(
      fc.property(anyText, (text) => {
        const outside = [...text].find(
          (ch) => !GSM_BASIC.includes(ch) && !GSM_EXTENSION.includes(ch),
        )
        if (outside === undefined) assert.equal(decodeGsm7(encodeGsm7(text)), text)
        else assert.throws(() => encodeGsm7(text), RangeError)
        assert.equal(analyseSms(text).nonGsmCharacter, outside ?? null)
        assert.equal(analyseSms(text).encoding, outside === undefined ? 'gsm7' : 'ucs2')
      }),
      200,
    )
  })

  it('plans segments that fit, keep characters whole, rebuild the text and are as few as can be', () => {
    checkProperty(
      fc.property(fc.oneof(gsmText, anyText), (text) => {
        const analysis = analyseSms(text)
        const { encoding, parts } = splitSms(text)
        const encoded = encodeSms(text)
        assert.equal(encoding, analysis.encoding)
        assert.equal(parts.join(''), text)
        assert.equal(parts.length, analysis.segments)
        assert.equal(encoded.segments, parts.length)
        assert.equal(encoded.dataCoding, encoding === 'gsm7' ? 0x00 : 0x08)
        if (text === '') assert.equal(parts.length, 0)

        const limit =
          parts.length <= 1 ? (encoding === 'gsm7' ? 160 : 70) : encoding === 'gsm7' ? 153 : 67
        assert.equal(analysis.unitsPerSegment, limit)
        const units = parts.map((part) => unitsOf(part, encoding))
        assert.equal(
          analysis.units,
          units.reduce((a, b) => a + b, 0),
        )
        for (const [i, part] of parts.entries()) {
          assert.ok(part !== '', `part ${i} is empty`)
          assert.ok(units[i] <= limit, `part ${i} has ${units[i]} units, limit ${limit}`)
          const payload = encoded.parts[i]
          if (encoding === 'gsm7') {
            assert.equal(payload.length, units[i])
            assert.notEqual(payload[payload.length - 1], 0x1b, `part ${i} ends on an escape`)
            assert.equal(decodeGsm7(payload), part)
          } else {
            assert.equal(payload.length, part.length * 2)
            assert.equal(decodeUcs2(payload), part)
          }
          const next = parts[i + 1]
          if (next === undefined) continue
          const splitPair =
            isHighSurrogate(part.charCodeAt(part.length - 1)) && isLowSurrogate(next.charCodeAt(0))
          assert.ok(!splitPair, `a surrogate pair is split after part ${i}`)
          // Greedy packing is optimal here: a part ends only when the next character can't fit.
          const nextCharacter = [...next][0]
          assert.ok(
            units[i] + unitsOf(nextCharacter, encoding) > limit,
            `part ${i} (${units[i]} units) had room for ${show(nextCharacter)}`,
          )
        }
        assert.equal(analysis.remainingInLastSegment, limit - (units[units.length - 1] ?? 0))
      }),
      300,
    )
  })

  it('counts the segments sms-segments-calculator counts, where the two models agree', () => {
    let compared = 0
    checkProperty(
      fc.property(fc.oneof(gsmText, anyText), (text) => {
        const oracle = new SegmentedMessage(text)
        const ours = analyseSms(text)
        assert.equal(ours.encoding, oracle.encodingName === 'GSM-7' ? 'gsm7' : 'ucs2')
        if (!oracleModelMatches(oracle)) {
          // Clusters kept whole can only cost the oracle more segments, never fewer.
          assert.ok(text === '' || ours.segments <= oracle.segmentsCount)
          return
        }
        compared++
        if (ours.encoding === 'gsm7') assert.equal(ours.units, oracle.numberOfCharacters)
        // The oracle reports one segment for the empty text; we report none.
        assert.equal(ours.segments, text === '' ? 0 : oracle.segmentsCount)
      }),
      200,
    )
    assert.ok(compared > 0, 'no text fell where the two models agree')
  })
})
