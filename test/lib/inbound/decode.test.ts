import assert from 'node:assert/strict'
import type { MoMessage } from '../../../lib/smpp/client'
import { TLV_TAG } from '../../../lib/smpp/deliver'
import {
  decodeUserData,
  encodingOf,
  readMoPart,
  splitUserDataHeader,
} from '../../../lib/inbound/decode'
import { encodeGsm7 } from '../../../lib/sms/gsm7'
import { encodeUcs2 } from '../../../lib/sms/ucs2'

function mo(fields: Partial<MoMessage>): MoMessage {
  return {
    from: '33612345678',
    fromTon: 1,
    to: '33700000001',
    toTon: 1,
    dataCoding: 0,
    esmClass: 0,
    shortMessage: Buffer.alloc(0),
    tlvs: new Map(),
    acknowledged: Promise.resolve(true),
    ...fields,
  }
}

describe('lib/inbound/decode', () => {
  describe('decodeUserData', () => {
    it('reads data_coding 0 as unpacked GSM 03.38, extension table included', () => {
      const text = 'Prix: 5€ [salle {2}] ~ à très vite @home_ \\o/'
      assert.deepEqual(decodeUserData(0, encodeGsm7(text)), { text, encoding: 'gsm7' })
    })

    it('reads the GSM message-class codings 0xF0-0xF3 as GSM and 0xF4-0xF7 as binary', () => {
      assert.equal(decodeUserData(0xf1, encodeGsm7('Hello')).text, 'Hello')
      assert.deepEqual(decodeUserData(0xf5, Buffer.from([0x01, 0xab])), {
        text: '01AB',
        encoding: 'binary',
      })
    })

    it('reads the GSM general coding groups: flash SMS in GSM or UCS-2, compressed as binary', () => {
      assert.deepEqual(decodeUserData(0x10, encodeGsm7('Flash [1]')), {
        text: 'Flash [1]',
        encoding: 'gsm7',
      })
      assert.deepEqual(decodeUserData(0x18, encodeUcs2('Flash 😀')), {
        text: 'Flash 😀',
        encoding: 'ucs2',
      })
      assert.equal(encodingOf(0x19), 'ucs2')
      assert.equal(encodingOf(0x48), 'ucs2')
      assert.equal(encodingOf(0x14), 'binary')
      assert.equal(encodingOf(0x30), 'binary')
      assert.equal(encodingOf(0xc8), 'gsm7')
      assert.equal(encodingOf(0xe8), 'ucs2')
    })

    it('reads IA5 as 7-bit ASCII and Latin-1 as Latin-1', () => {
      assert.deepEqual(decodeUserData(1, Buffer.from([0x48, 0xe9, 0x21])), {
        text: 'Hi!',
        encoding: 'ascii',
      })
      assert.deepEqual(decodeUserData(3, Buffer.from('Ça coûte 5 £', 'latin1')), {
        text: 'Ça coûte 5 £',
        encoding: 'latin1',
      })
    })

    it('reads UCS-2 big-endian and keeps surrogate pairs (emoji)', () => {
      const text = 'Привет 😀 très bien'
      assert.deepEqual(decodeUserData(8, encodeUcs2(text)), { text, encoding: 'ucs2' })
    })

    it('keeps 8-bit and unknown codings as hex, and says so', () => {
      assert.deepEqual(decodeUserData(4, Buffer.from([0x06, 0x05, 0x04, 0x0b, 0x84])), {
        text: '0605040B84',
        encoding: 'binary',
      })
      assert.equal(encodingOf(2), 'binary')
      assert.equal(encodingOf(6), 'binary')
    })
  })

  describe('splitUserDataHeader', () => {
    it('reads a concatenation element with an 8-bit reference', () => {
      const data = Buffer.concat([Buffer.from([5, 0x00, 3, 0x2a, 3, 2]), Buffer.from('abc')])
      assert.deepEqual(splitUserDataHeader(data), {
        body: Buffer.from('abc'),
        concat: { ref: 0x2a, total: 3, seq: 2 },
      })
    })

    it('reads a 16-bit reference, skipping other elements', () => {
      const header = [9, 0x24, 1, 0x01, 0x08, 4, 0x12, 0x34, 2, 1]
      const data = Buffer.concat([Buffer.from(header), Buffer.from('xy')])
      assert.deepEqual(splitUserDataHeader(data), {
        body: Buffer.from('xy'),
        concat: { ref: 0x1234, total: 2, seq: 1 },
      })
    })

    it('keeps the octets whole when the header overruns them', () => {
      const data = Buffer.from([9, 0x00, 3, 1])
      assert.deepEqual(splitUserDataHeader(data), { body: data, concat: null })
    })
  })

  describe('readMoPart', () => {
    it('strips the UDH only when esm_class has 0x40', () => {
      const udh = Buffer.from([5, 0x00, 3, 7, 2, 1])
      const body = encodeUcs2('Bonjour')
      const flagged = readMoPart(
        mo({ esmClass: 0x40, dataCoding: 8, shortMessage: Buffer.concat([udh, body]) }),
      )
      assert.deepEqual(flagged.body, body)
      assert.deepEqual(flagged.concat, { ref: 7, total: 2, seq: 1 })
      const plain = readMoPart(mo({ dataCoding: 4, shortMessage: Buffer.concat([udh, body]) }))
      assert.equal(plain.concat, null)
      assert.equal(plain.body.length, udh.length + body.length)
    })

    it('reads the SAR TLVs', () => {
      const tlvs = new Map([
        [TLV_TAG.sarMsgRefNum, Buffer.from([0x01, 0x02])],
        [TLV_TAG.sarTotalSegments, Buffer.from([3])],
        [TLV_TAG.sarSegmentSeqnum, Buffer.from([3])],
      ])
      const part = readMoPart(mo({ shortMessage: encodeGsm7('end'), tlvs }))
      assert.deepEqual(part.concat, { ref: 0x0102, total: 3, seq: 3 })
      assert.deepEqual(part.body, encodeGsm7('end'))
    })

    it('takes message_payload when short_message is empty', () => {
      const payload = encodeGsm7('x'.repeat(300))
      const part = readMoPart(mo({ tlvs: new Map([[TLV_TAG.messagePayload, payload]]) }))
      assert.deepEqual(part.body, payload)
      assert.equal(part.concat, null)
    })

    it("reads data_coding 0 in the SMSC's default alphabet, other codings as they are", () => {
      const latin1 = Buffer.from('Réponse déjà reçue', 'latin1')
      const asLatin1 = readMoPart(mo({ shortMessage: latin1 }), 'latin1')
      assert.deepEqual(decodeUserData(asLatin1.dataCoding, asLatin1.body), {
        text: 'Réponse déjà reçue',
        encoding: 'latin1',
      })
      const asAscii = readMoPart(mo({ shortMessage: Buffer.from([0x4f, 0xcb]) }), 'ascii')
      assert.deepEqual(decodeUserData(asAscii.dataCoding, asAscii.body), {
        text: 'OK',
        encoding: 'ascii',
      })
      assert.equal(readMoPart(mo({ shortMessage: latin1 })).dataCoding, 0, 'gsm by default')
      assert.equal(readMoPart(mo({ dataCoding: 8 }), 'latin1').dataCoding, 8)
    })

    it('reads a part numbered outside its set as a whole message', () => {
      const udh = Buffer.from([5, 0x00, 3, 7, 2, 3])
      const part = readMoPart(
        mo({ esmClass: 0x40, shortMessage: Buffer.concat([udh, Buffer.from('a')]) }),
      )
      assert.equal(part.concat, null)
      assert.deepEqual(part.body, Buffer.from('a'))
    })
  })
})
