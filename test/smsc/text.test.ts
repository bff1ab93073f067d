import assert from 'node:assert/strict'
import { decodeGsm7, encodeGsm7 } from '../support/smsc/gsm7'
import { receiptDate, receiptText } from '../support/smsc/receipt'
import { decodeText, decodeUcs2, encodeText } from '../support/smsc/text'
import { concatUdh, splitUdh } from '../support/smsc/udh'

describe('SMSC simulator text helpers', function () {
  describe('GSM 03.38', function () {
    it('decodes the basic table and the extension table', function () {
      const septets = Buffer.from([
        0x00, 0x01, 0x02, 0x11, 0x09, 0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x14,
      ])
      assert.equal(decodeGsm7(septets), '@£$_Ç€[^')
    })

    it('shows octets that are not septets, and a trailing ESC, as U+FFFD', function () {
      assert.equal(decodeGsm7(Buffer.from([0x41, 0x80, 0x42, 0x1b])), 'A\ufffdB\ufffd')
    })

    it('shows the basic character after an ESC the extension table lacks', function () {
      assert.equal(decodeGsm7(Buffer.from([0x1b, 0x41])), 'A')
    })

    it('encodes what it decodes, extension characters as two septets', function () {
      const text = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./09:;<=>?¡AZÄÖÑÜ§¿azäöñüà'
      assert.equal(decodeGsm7(encodeGsm7(text)), text)
      assert.deepEqual([...encodeGsm7('€{}')], [0x1b, 0x65, 0x1b, 0x28, 0x1b, 0x29])
      assert.throws(() => encodeGsm7('ê'), /not in the GSM 03.38 alphabet: U\+ea/)
    })
  })

  describe('data codings', function () {
    it('decodes UCS-2, Latin-1 and IA5 by data_coding', function () {
      assert.equal(decodeText(0x08, Buffer.from('00e9d83dde42', 'hex')), 'é🙂')
      assert.equal(decodeText(0x03, Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'café')
      assert.equal(decodeText(0xf0, Buffer.from([0x00])), '@')
    })

    it('shows a lone surrogate or an odd octet in UCS-2 as U+FFFD', function () {
      assert.equal(decodeUcs2(Buffer.from('0041d83d', 'hex')), 'A\ufffd')
      assert.equal(decodeUcs2(Buffer.from('de420041', 'hex')), '\ufffdA')
      assert.equal(decodeUcs2(Buffer.from('004100', 'hex')), 'A\ufffd')
    })

    it('refuses text the chosen encoding cannot carry', function () {
      assert.deepEqual(encodeText('é🙂', 'ucs2'), Buffer.from('00e9d83dde42', 'hex'))
      assert.throws(() => encodeText('œ', 'latin1'), /not Latin-1/)
    })
  })

  describe('UDH', function () {
    it('reads 8-bit and 16-bit concatenation references', function () {
      const eight = splitUdh(
        Buffer.concat([concatUdh({ ref: 300, total: 3, seq: 2 }), Buffer.from('x')]),
      )
      assert.deepEqual(eight?.concat, { ref: 300 & 0xff, total: 3, seq: 2 })
      assert.deepEqual(eight?.body, Buffer.from('x'))
      const sixteen = splitUdh(Buffer.from('0608041234020178', 'hex'))
      assert.deepEqual(sixteen?.concat, { ref: 0x1234, total: 2, seq: 1 })
      assert.deepEqual(sixteen?.body, Buffer.from([0x78]))
    })

    it('returns null for a header longer than the data', function () {
      assert.equal(splitUdh(Buffer.from('0500030102', 'hex')), null)
    })
  })

  describe('receipt text', function () {
    it('follows the id/sub/dlvrd/dates/stat/err/text layout', function () {
      const text = receiptText({
        messageId: 'a1b2c3d4',
        stat: 'UNDELIV',
        submittedAt: new Date(Date.UTC(2026, 10, 27, 9, 5)),
        doneAt: new Date(Date.UTC(2026, 10, 27, 9, 6)),
        text: 'Réunion à 14h, salle B — merci',
      })
      assert.equal(
        text,
        'id:a1b2c3d4 sub:001 dlvrd:000 submit date:2611270905 done date:2611270906 ' +
          'stat:UNDELIV err:001 text:R?union ? 14h, salle',
      )
      assert.equal(receiptDate(new Date(Date.UTC(2031, 0, 2, 3, 4))), '3101020304')
    })
  })
})
