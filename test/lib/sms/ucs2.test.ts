import assert from 'node:assert/strict'
import { decodeUcs2, encodeUcs2 } from '../../../lib/sms/ucs2'

describe('lib/sms/ucs2', () => {
  describe('encodeUcs2', () => {
    it('writes each code unit big-endian', () => {
      assert.deepEqual([...encodeUcs2('Aê€')], [0x00, 0x41, 0x00, 0xea, 0x20, 0xac])
    })

    it('keeps an emoji as its surrogate pair', () => {
      assert.deepEqual([...encodeUcs2('😀')], [0xd8, 0x3d, 0xde, 0x00])
    })

    it('returns an empty buffer for the empty text', () => {
      assert.equal(encodeUcs2('').length, 0)
    })
  })

  describe('decodeUcs2', () => {
    it('reads big-endian code units', () => {
      assert.equal(
        decodeUcs2(Buffer.from([0x00, 0x66, 0x00, 0xea, 0x00, 0x74, 0x00, 0x65])),
        'fête',
      )
    })

    it('round-trips accents, CJK, emoji and joined emoji', () => {
      const text = 'Crème brûlée, 中文, 😀, 👨‍👩‍👧, 🇫🇷'
      assert.equal(decodeUcs2(encodeUcs2(text)), text)
    })

    it('drops an odd trailing octet', () => {
      assert.equal(decodeUcs2(Buffer.from([0x00, 0x61, 0x00, 0x62, 0x00])), 'ab')
      assert.equal(decodeUcs2(Buffer.from([0x41])), '')
    })

    it('leaves the caller buffer untouched', () => {
      const bytes = Buffer.from([0x00, 0x61, 0x00, 0x62])
      decodeUcs2(bytes)
      assert.deepEqual([...bytes], [0x00, 0x61, 0x00, 0x62])
    })
  })
})
