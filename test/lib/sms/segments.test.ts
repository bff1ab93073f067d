import assert from 'node:assert/strict'
import { SegmentedMessage } from 'sms-segments-calculator'
import { analyseSms, encodeSms, splitSms, type SmsEncoding } from '../../../lib/sms'
import { seededRandom } from '../../support/seeded-random'

function bytes(buffer: Buffer): number[] {
  return [...buffer]
}

// Tiny deterministic PRNG (mulberry32) so a failing text can be reproduced from its index.
const PLAIN_GSM = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:!?\'"()-+*/=<>#%&@$_',
  ...'\n\r£¥¤§¡¿ÄÖÑÜÅÆØäöñüåæøßìòΔΦΓΛΩΠΨΣΘΞ',
]
const EXTENSION = [...'€[]{}^~\\|\f']
const FRENCH_GSM = [...'éèàùÉÇ']
const NON_GSM = [...'êâôûïçœÀ`«дж中']
const EMOJI = [...'😀🎉🚀💬']
// Several code points shown as one character. The oracle keeps each one whole in a segment,
// while 3GPP only forbids splitting a character: see the disagreement below.
const CLUSTERS = ['👨‍👩‍👧', '🇫🇷', '👍🏽', 'e\u0301', '❤️']

type Profile = 'gsm' | 'mixed' | 'clusters'

function randomText(random: () => number, profile: Profile): string {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
  const length = Math.floor(random() * 501)
  let text = ''
  for (let i = 0; i < length; i++) {
    const roll = random()
    if (profile === 'clusters' && roll < 0.05) text += pick(CLUSTERS)
    else if (profile !== 'gsm' && roll < 0.1) text += pick(EMOJI)
    else if (profile !== 'gsm' && roll < 0.15) text += pick(NON_GSM)
    else if (roll < 0.3) text += pick(EXTENSION)
    else if (roll < 0.4) text += pick(FRENCH_GSM)
    else text += pick(PLAIN_GSM)
  }
  return text
}

// A part ending on an escape or a high surrogate has cut a character in two.
function endsInsideCharacter(part: Buffer, encoding: SmsEncoding): boolean {
  if (encoding === 'gsm7') return part[part.length - 1] === 0x1b
  const lastUnit = part.readUInt16BE(part.length - 2)
  return lastUnit >= 0xd800 && lastUnit <= 0xdbff
}

// A segment other than the last one left short: a character straddled its end and moved on.
function movedACharacter(text: string): boolean {
  const { parts, segments } = encodeSms(text)
  const perSegment = analyseSms(text).unitsPerSegment
  const octetsPerUnit = analyseSms(text).encoding === 'gsm7' ? 1 : 2
  return parts.slice(0, segments - 1).some((part) => part.length < perSegment * octetsPerUnit)
}

function oracleEncoding(message: SegmentedMessage): string {
  return message.encodingName === 'GSM-7' ? 'gsm7' : 'ucs2'
}

describe('lib/sms/segments', () => {
  describe('analyseSms', () => {
    it('gives no segment for the empty text', () => {
      assert.deepEqual(analyseSms(''), {
        encoding: 'gsm7',
        units: 0,
        segments: 0,
        unitsPerSegment: 160,
        remainingInLastSegment: 160,
        nonGsmCharacter: null,
      })
    })

    it('fits 160 septets in one segment', () => {
      assert.deepEqual(analyseSms('a'.repeat(160)), {
        encoding: 'gsm7',
        units: 160,
        segments: 1,
        unitsPerSegment: 160,
        remainingInLastSegment: 0,
        nonGsmCharacter: null,
      })
    })

    it('needs two segments of 153 for 161 septets', () => {
      const analysis = analyseSms('a'.repeat(161))
      assert.equal(analysis.segments, 2)
      assert.equal(analysis.unitsPerSegment, 153)
      assert.equal(analysis.remainingInLastSegment, 153 - 8)
    })

    it('fits 306 septets in two segments and needs a third for 307', () => {
      assert.equal(analyseSms('a'.repeat(306)).segments, 2)
      assert.equal(analyseSms('a'.repeat(306)).remainingInLastSegment, 0)
      assert.equal(analyseSms('a'.repeat(307)).segments, 3)
    })

    it('counts extension characters as two septets', () => {
      const analysis = analyseSms('a'.repeat(158) + '€')
      assert.equal(analysis.units, 160)
      assert.equal(analysis.segments, 1)
      assert.equal(analyseSms('a'.repeat(159) + '€').segments, 2)
    })

    it('switches to UCS-2 for a single ê and names it', () => {
      const analysis = analyseSms('a'.repeat(100) + 'ê')
      assert.equal(analysis.encoding, 'ucs2')
      assert.equal(analysis.nonGsmCharacter, 'ê')
      assert.equal(analysis.units, 101)
      assert.equal(analysis.segments, 2)
      assert.equal(analysis.unitsPerSegment, 67)
    })

    it('fits 70 UCS-2 code units in one segment and needs two for 71', () => {
      const seventy = analyseSms('ê'.repeat(70))
      assert.equal(seventy.segments, 1)
      assert.equal(seventy.unitsPerSegment, 70)
      assert.equal(seventy.remainingInLastSegment, 0)
      const seventyOne = analyseSms('ê'.repeat(71))
      assert.equal(seventyOne.segments, 2)
      assert.equal(seventyOne.unitsPerSegment, 67)
      assert.equal(seventyOne.remainingInLastSegment, 67 - 4)
    })

    it('counts an emoji as two code units', () => {
      const analysis = analyseSms('ok 😀')
      assert.equal(analysis.encoding, 'ucs2')
      assert.equal(analysis.units, 5)
      assert.equal(analysis.nonGsmCharacter, '😀')
      assert.equal(analyseSms('ê'.repeat(68) + '😀').segments, 1)
      assert.equal(analyseSms('ê'.repeat(69) + '😀').segments, 2)
    })
  })

  describe('splitSms', () => {
    it('moves an extension character straddling the 153 boundary to the next segment', () => {
      // 306 septets would fit two segments, but the escape pair cannot start at septet 153.
      const text = 'a'.repeat(152) + '€' + 'b'.repeat(152)
      assert.equal(analyseSms(text).units, 306)
      assert.equal(analyseSms(text).segments, 3)
      const { encoding, parts } = splitSms(text)
      assert.equal(encoding, 'gsm7')
      assert.deepEqual(parts, ['a'.repeat(152), '€' + 'b'.repeat(151), 'b'])
    })

    it('moves an emoji straddling the 67 boundary to the next segment', () => {
      // 134 code units would fit two segments, but the surrogate pair cannot start at unit 67.
      const text = 'ê'.repeat(66) + '😀' + 'ô'.repeat(66)
      assert.equal(analyseSms(text).units, 134)
      assert.equal(analyseSms(text).segments, 3)
      const { encoding, parts } = splitSms(text)
      assert.equal(encoding, 'ucs2')
      assert.deepEqual(parts, ['ê'.repeat(66), '😀' + 'ô'.repeat(65), 'ô'])
    })

    it('keeps a single-segment text whole and gives no parts for the empty text', () => {
      assert.deepEqual(splitSms('Bonjour'), { encoding: 'gsm7', parts: ['Bonjour'] })
      assert.deepEqual(splitSms(''), { encoding: 'gsm7', parts: [] })
    })
  })

  describe('encodeSms', () => {
    it('encodes a GSM-7 text as unpacked septets with data_coding 0x00', () => {
      assert.deepEqual(encodeSms('Prix: 5€ @'), {
        encoding: 'gsm7',
        dataCoding: 0x00,
        parts: [Buffer.from([0x50, 0x72, 0x69, 0x78, 0x3a, 0x20, 0x35, 0x1b, 0x65, 0x20, 0x00])],
        segments: 1,
      })
    })

    it('encodes a UCS-2 text as UTF-16BE with data_coding 0x08', () => {
      assert.deepEqual(encodeSms('fête'), {
        encoding: 'ucs2',
        dataCoding: 0x08,
        parts: [Buffer.from([0x00, 0x66, 0x00, 0xea, 0x00, 0x74, 0x00, 0x65])],
        segments: 1,
      })
    })

    it('encodes an emoji as its surrogate pair', () => {
      const sms = encodeSms('ok 😀')
      assert.equal(sms.dataCoding, 0x08)
      assert.deepEqual(sms.parts.map(bytes), [
        [0x00, 0x6f, 0x00, 0x6b, 0x00, 0x20, 0xd8, 0x3d, 0xde, 0x00],
      ])
    })

    it('gives one payload per segment, without header', () => {
      const gsm = encodeSms('a'.repeat(152) + '€' + 'b'.repeat(152))
      assert.equal(gsm.segments, 3)
      assert.deepEqual(
        gsm.parts.map((part) => part.length),
        [152, 153, 1],
      )
      assert.deepEqual(bytes(gsm.parts[1].subarray(0, 3)), [0x1b, 0x65, 0x62])
      const ucs2 = encodeSms('ê'.repeat(66) + '😀' + 'ô'.repeat(66))
      assert.deepEqual(
        ucs2.parts.map((part) => part.length),
        [132, 134, 2],
      )
      assert.deepEqual(bytes(ucs2.parts[1].subarray(0, 4)), [0xd8, 0x3d, 0xde, 0x00])
    })

    it('gives no parts for the empty text', () => {
      assert.deepEqual(encodeSms(''), {
        encoding: 'gsm7',
        dataCoding: 0x00,
        parts: [],
        segments: 0,
      })
    })
  })
})

// 400 texts of 0..500 characters; one in eight holds grapheme clusters (see the disagreement).
function buildOracleCases(): Array<{ index: number; profile: Profile; text: string }> {
  const random = seededRandom(0x5ec7)
  const profiles: Profile[] = ['gsm', 'mixed', 'gsm', 'mixed', 'gsm', 'mixed', 'gsm', 'clusters']
  return Array.from({ length: 400 }, (_, index) => {
    const profile = profiles[index % profiles.length]
    return { index, profile, text: randomText(random, profile) }
  })
}

describe('lib/sms/segments against sms-segments-calculator on random texts', () => {
  const cases = buildOracleCases()

  it('agrees on encoding, segment count and the first non-GSM character', () => {
    const straddles = { gsm7: 0, ucs2: 0 }
    let compared = 0
    for (const { index, profile, text } of cases) {
      if (profile === 'clusters') continue
      const ours = analyseSms(text)
      const oracle = new SegmentedMessage(text)
      const label = `text #${index} (${text.length} code units)`
      assert.equal(ours.encoding, oracleEncoding(oracle), label)
      assert.equal(ours.nonGsmCharacter, oracle.getNonGsmCharacters()[0] ?? null, label)
      if (ours.encoding === 'gsm7') assert.equal(ours.units, oracle.numberOfCharacters, label)
      // The oracle always reports one segment, even for the empty text; we report none.
      if (text !== '') assert.equal(ours.segments, oracle.segmentsCount, label)
      if (movedACharacter(text)) straddles[ours.encoding]++
      compared++
    }
    assert.ok(compared >= 300, `only ${compared} texts compared`)
    // Without straddling characters the boundary rules would go untested.
    assert.ok(straddles.gsm7 >= 20, `gsm7 straddles: ${straddles.gsm7}`)
    assert.ok(straddles.ucs2 >= 20, `ucs2 straddles: ${straddles.ucs2}`)
  })

  // Disagreement: sms-segments-calculator never splits a grapheme cluster (a ZWJ family emoji,
  // a flag, a letter with a combining accent), so it can need more segments than the 3GPP rule,
  // which only keeps each code point (escape pair, surrogate pair) whole. Handsets reassemble
  // the cluster from the concatenated parts, so we pack tighter. On these texts only the
  // encoding must match, and we may never need more segments than the oracle.
  it('packs a skin-tone emoji across a boundary where the oracle moves it whole', () => {
    const text = 'ê'.repeat(65) + '👍🏽' + 'ê'.repeat(64)
    assert.deepEqual(splitSms(text).parts, ['ê'.repeat(65) + '👍', '🏽' + 'ê'.repeat(64)])
    assert.equal(new SegmentedMessage(text).segmentsCount, 3)
  })

  it('agrees on encoding and never needs more segments for texts with grapheme clusters', () => {
    for (const { index, profile, text } of cases) {
      if (profile !== 'clusters') continue
      const ours = analyseSms(text)
      const oracle = new SegmentedMessage(text)
      const label = `text #${index} (${text.length} code units)`
      assert.equal(ours.encoding, oracleEncoding(oracle), label)
      assert.ok(ours.segments <= oracle.segmentsCount, label)
    }
  })

  it('splits every text into parts that rebuild it and fit their segments', () => {
    for (const { index, text } of cases) {
      const analysis = analyseSms(text)
      const { encoding, parts } = splitSms(text)
      const encoded = encodeSms(text)
      const label = `text #${index}`
      assert.equal(encoding, analysis.encoding, label)
      assert.equal(parts.length, analysis.segments, label)
      assert.equal(encoded.segments, analysis.segments, label)
      assert.equal(parts.join(''), text, label)
      for (const part of encoded.parts) {
        const units = encoding === 'gsm7' ? part.length : part.length / 2
        assert.ok(units <= analysis.unitsPerSegment, label)
        assert.equal(endsInsideCharacter(part, encoding), false, label)
      }
    }
  })
})
