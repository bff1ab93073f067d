import assert from 'node:assert/strict'
import { SegmentedMessage } from 'sms-segments-calculator'
import {
  decodeGsm7,
  encodeGsm7,
  firstNonGsm7Character,
  gsm7SeptetLength,
  isGsm7Character,
} from '../../../lib/sms/gsm7'

// Codes of the extension table in TS 23.038, written out here so the test does not trust the
// module's own table.
const EXTENSION_CODES = [0x0a, 0x14, 0x28, 0x29, 0x2f, 0x3c, 0x3d, 0x3e, 0x40, 0x65]

function bmpCharacters(): string[] {
  const chars: string[] = []
  for (let unit = 0; unit <= 0xffff; unit++) {
    if (unit < 0xd800 || unit > 0xdfff) chars.push(String.fromCharCode(unit))
  }
  return chars
}

describe('lib/sms/gsm7', () => {
  describe('alphabet', () => {
    it('accepts exactly the 127 basic and 10 extension characters of the BMP', () => {
      const accepted = bmpCharacters().filter(isGsm7Character)
      assert.equal(accepted.length, 137)
      assert.equal(accepted.filter((ch) => gsm7SeptetLength(ch) === 2).length, 10)
    })

    it('matches the independent table of sms-segments-calculator for every BMP character', () => {
      for (const ch of bmpCharacters()) {
        const oracle = new SegmentedMessage(ch)
        const oracleIsGsm = oracle.encodingName === 'GSM-7'
        assert.equal(isGsm7Character(ch), oracleIsGsm, `membership of U+${ch.charCodeAt(0)}`)
        if (oracleIsGsm) {
          assert.deepEqual([...encodeGsm7(ch)], oracle.encodedChars[0].codeUnits, `code of ${ch}`)
        }
      }
    })

    it('decodes every basic septet to a distinct character that encodes back to it', () => {
      const seen = new Set<string>()
      for (let code = 0; code < 128; code++) {
        if (code === 0x1b) continue
        const ch = decodeGsm7(Buffer.from([code]))
        assert.equal(ch.length, 1)
        assert.equal(gsm7SeptetLength(ch), 1, `septet 0x${code.toString(16)}`)
        assert.deepEqual([...encodeGsm7(ch)], [code])
        seen.add(ch)
      }
      assert.equal(seen.size, 127)
    })

    it('decodes every extension code to a two-septet character that encodes back to it', () => {
      for (const code of EXTENSION_CODES) {
        const ch = decodeGsm7(Buffer.from([0x1b, code]))
        assert.equal(gsm7SeptetLength(ch), 2, `extension 0x${code.toString(16)}`)
        assert.deepEqual([...encodeGsm7(ch)], [0x1b, code])
      }
    })

    it('round-trips a text holding every character of the alphabet', () => {
      const text = bmpCharacters().filter(isGsm7Character).join('')
      assert.equal(decodeGsm7(encodeGsm7(text)), text)
      assert.equal(encodeGsm7(text).length, 127 + 2 * 10)
    })
  })

  describe('encodeGsm7', () => {
    const known: Array<[string, number[]]> = [
      ['@', [0x00]],
      ['£', [0x01]],
      ['$', [0x02]],
      ['é', [0x05]],
      ['Ç', [0x09]],
      ['\n', [0x0a]],
      ['_', [0x11]],
      ['¤', [0x24]],
      ['¡', [0x40]],
      ['§', [0x5f]],
      ['à', [0x7f]],
      ['€', [0x1b, 0x65]],
      ['^', [0x1b, 0x14]],
      ['{', [0x1b, 0x28]],
      ['\f', [0x1b, 0x0a]],
    ]
    for (const [ch, bytes] of known) {
      it(`encodes ${JSON.stringify(ch)} as ${bytes.map((b) => b.toString(16)).join(' ')}`, () => {
        assert.deepEqual([...encodeGsm7(ch)], bytes)
      })
    }

    it('writes one octet per septet, unpacked', () => {
      assert.deepEqual(
        [...encodeGsm7('Prix: 5€')],
        [0x50, 0x72, 0x69, 0x78, 0x3a, 0x20, 0x35, 0x1b, 0x65],
      )
    })

    it('returns an empty buffer for the empty text', () => {
      assert.equal(encodeGsm7('').length, 0)
    })

    it('throws a RangeError naming the first character it cannot carry', () => {
      assert.throws(
        () => encodeGsm7('Crème brûlée'),
        (err: unknown) => {
          assert.ok(err instanceof RangeError)
          assert.match(err.message, /"û" \(U\+00FB\) at index 8/)
          return true
        },
      )
    })

    it('names an emoji whole in the error', () => {
      assert.throws(() => encodeGsm7('ok 😀'), /"😀" \(U\+1F600\)/)
    })
  })

  describe('French accents', () => {
    for (const ch of ['é', 'è', 'à', 'ù', 'É', 'Ç']) {
      it(`carries ${ch} in GSM-7`, () => {
        assert.equal(isGsm7Character(ch), true)
        assert.equal(gsm7SeptetLength(ch), 1)
      })
    }
    for (const ch of ['ê', 'â', 'ô', 'û', 'ï', 'ç', 'œ']) {
      it(`cannot carry ${ch} in GSM-7`, () => {
        assert.equal(isGsm7Character(ch), false)
        assert.equal(gsm7SeptetLength(ch), 0)
      })
    }
  })

  describe('isGsm7Character and gsm7SeptetLength', () => {
    it('reject anything that is not exactly one character', () => {
      for (const text of ['', 'ab', '€€', '\x1b']) {
        assert.equal(isGsm7Character(text), false, JSON.stringify(text))
        assert.equal(gsm7SeptetLength(text), 0, JSON.stringify(text))
      }
    })

    it('count 0 septets for an emoji', () => {
      assert.equal(gsm7SeptetLength('😀'), 0)
    })
  })

  describe('firstNonGsm7Character', () => {
    it('returns null for GSM-7 text and for the empty text', () => {
      assert.equal(firstNonGsm7Character('Rendez-vous à 20h [salle {B}] ~ 5€'), null)
      assert.equal(firstNonGsm7Character(''), null)
    })

    it('returns the first character GSM-7 cannot carry', () => {
      assert.equal(firstNonGsm7Character('À la fête, ça va'), 'À')
      assert.equal(firstNonGsm7Character('la fête, ça va'), 'ê')
    })

    it('returns an emoji whole, not half a surrogate pair', () => {
      assert.equal(firstNonGsm7Character('ok 😀 ê'), '😀')
    })
  })

  describe('decodeGsm7', () => {
    it('shows the default-alphabet character for an escape the extension table lacks', () => {
      assert.equal(decodeGsm7(Buffer.from([0x1b, 0x41, 0x62])), 'Ab')
    })

    it('shows a space for a double escape and for a dangling escape at the end', () => {
      assert.equal(decodeGsm7(Buffer.from([0x61, 0x1b, 0x1b, 0x62])), 'a b')
      assert.equal(decodeGsm7(Buffer.from([0x61, 0x1b])), 'a ')
    })

    it('ignores the high bit', () => {
      assert.equal(decodeGsm7(Buffer.from([0x80, 0xc1])), '@A')
    })

    it('returns the empty text for no octets', () => {
      assert.equal(decodeGsm7(Buffer.alloc(0)), '')
    })
  })
})
