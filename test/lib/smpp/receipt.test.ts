import assert from 'node:assert/strict'
import { PDU } from 'smpp'
import { parseDeliveryReceipt, parseReceiptDate } from '../../../lib/smpp/receipt'

const TEXT =
  'id:0000001A2B sub:001 dlvrd:001 submit date:2411271530 done date:2411271531 ' +
  'stat:DELIVRD err:000 text:Bonjour'

describe('lib/smpp/receipt', () => {
  describe('from the receipt text', () => {
    it('reads id, state, error and done date', () => {
      const receipt = parseDeliveryReceipt({ esm_class: 0x04, short_message: Buffer.from(TEXT) })
      assert.deepEqual(receipt, {
        messageId: '0000001A2B',
        state: 'delivered',
        error: null,
        doneAt: new Date('2024-11-27T15:31:00Z'),
        raw: TEXT,
      })
    })

    it('maps every Appendix B state, spelled-out variants and FAILED', () => {
      const cases: Array<[string, string]> = [
        ['DELIVRD', 'delivered'],
        ['UNDELIV', 'undeliverable'],
        ['EXPIRED', 'expired'],
        ['DELETED', 'deleted'],
        ['REJECTD', 'rejected'],
        ['ACCEPTD', 'accepted'],
        ['ENROUTE', 'enroute'],
        ['UNKNOWN', 'unknown'],
        ['delivered', 'delivered'],
        ['Undeliverable', 'undeliverable'],
        ['FAILED', 'undeliverable'],
        ['WHATEVER', 'unknown'],
      ]
      for (const [stat, state] of cases) {
        const receipt = parseDeliveryReceipt({
          esm_class: 0x04,
          short_message: `id:1 stat:${stat}`,
        })
        assert.equal(receipt?.state, state, stat)
      }
    })

    it('is case-insensitive and accepts seconds and an underscore in the date keys', () => {
      const receipt = parseDeliveryReceipt({
        esm_class: 0x04,
        short_message:
          'ID:abc SUB:001 DLVRD:000 Submit_Date:241127153000 Done_Date:241127153245 STAT:undeliv ERR:034',
      })
      assert.equal(receipt?.messageId, 'abc')
      assert.equal(receipt?.state, 'undeliverable')
      assert.equal(receipt?.error, '034')
      assert.deepEqual(receipt?.doneAt, new Date('2024-11-27T15:32:45Z'))
    })

    it('never takes fields from the free text tail', () => {
      const receipt = parseDeliveryReceipt({
        esm_class: 0x04,
        short_message: 'id:42 sub:001 dlvrd:000 text:stat:DELIVRD done date:2411271531',
      })
      assert.equal(receipt?.state, 'unknown')
      assert.equal(receipt?.doneAt, null)
    })

    it('repairs what reading ASCII through the GSM table does to _ $ @', () => {
      const receipt = parseDeliveryReceipt({
        esm_class: 0x04,
        short_message: {
          message: 'id:ab§1¤x¡y sub:001 dlvrd:001 done§date:2411271531 stat:DELIVRD',
        },
      })
      assert.equal(receipt?.messageId, 'ab_1$x@y')
      assert.deepEqual(receipt?.doneAt, new Date('2024-11-27T15:31:00Z'))
    })

    it('repairs GSM-7 octets read as ASCII (0x11 _, 0x02 $, 0x00 @)', () => {
      const text = Buffer.concat([
        Buffer.from('id:ab'),
        Buffer.from([0x11]),
        Buffer.from('1'),
        Buffer.from([0x02, 0x00]),
        Buffer.from(' stat:EXPIRED'),
        Buffer.from([0x00, 0x00]),
      ])
      const receipt = parseDeliveryReceipt({ esm_class: 0x04, short_message: text })
      assert.equal(receipt?.messageId, 'ab_1$@')
      assert.equal(receipt?.state, 'expired')
      assert.equal(receipt?.raw, 'id:ab\u00111\u0002\u0000 stat:EXPIRED')
    })

    it('reads a UCS-2 receipt and one carried in message_payload', () => {
      const ucs2 = Buffer.from('id:77 stat:REJECTD', 'utf16le').swap16()
      const fromUcs2 = parseDeliveryReceipt({
        esm_class: 0x04,
        data_coding: 8,
        short_message: ucs2,
      })
      assert.equal(fromUcs2?.messageId, '77')
      assert.equal(fromUcs2?.state, 'rejected')
      const fromPayload = parseDeliveryReceipt({
        esm_class: 0x04,
        short_message: Buffer.alloc(0),
        message_payload: Buffer.from('id:78 stat:DELETED'),
      })
      assert.equal(fromPayload?.messageId, '78')
      assert.equal(fromPayload?.state, 'deleted')
    })
  })

  describe('from TLVs', () => {
    it('prefers receipted_message_id, message_state and network_error_code to the text', () => {
      const receipt = parseDeliveryReceipt({
        esm_class: 0x04,
        short_message: Buffer.from('id:6699 stat:DELIVRD err:000 done date:2411271531'),
        receipted_message_id: Buffer.from('1A2B\u0000'),
        message_state: 5,
        network_error_code: Buffer.from([0x03, 0x00, 0x22]),
      })
      assert.equal(receipt?.messageId, '1A2B')
      assert.equal(receipt?.state, 'undeliverable')
      assert.equal(receipt?.error, 'GSM:34')
      assert.deepEqual(receipt?.doneAt, new Date('2024-11-27T15:31:00Z'))
    })

    it('maps every message_state value', () => {
      const states = [
        'enroute',
        'enroute',
        'delivered',
        'expired',
        'deleted',
        'undeliverable',
        'accepted',
        'unknown',
        'rejected',
        'unknown',
      ]
      states.forEach((state, value) => {
        const receipt = parseDeliveryReceipt({
          esm_class: 0x04,
          short_message: '',
          receipted_message_id: 'x',
          message_state: value,
        })
        assert.equal(receipt?.state, state, `message_state ${value}`)
      })
    })

    it('falls back to the text error when network_error_code says 0', () => {
      const receipt = parseDeliveryReceipt({
        esm_class: 0x04,
        short_message: 'id:1 stat:UNDELIV err:0x0b',
        network_error_code: Buffer.from([0x03, 0x00, 0x00]),
      })
      assert.equal(receipt?.error, '0x0b')
    })

    it('cuts what smpp@0.5.1 reads past an unterminated receipted_message_id', () => {
      // A real deliver_sm whose receipted_message_id TLV is "abc" without its NUL, followed by
      // message_state: the package reads into the next TLV's tag and length.
      const base = new PDU('deliver_sm', {
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from('id:ab_1$@ stat:ENROUTE', 'ascii'),
        message_state: 2,
      }).toBuffer()
      const unterminated = Buffer.from([0x00, 0x1e, 0x00, 0x03, 0x61, 0x62, 0x63])
      const pdu = Buffer.concat([
        base.subarray(0, base.length - 5),
        unterminated,
        base.subarray(-5),
      ])
      pdu.writeUInt32BE(pdu.length, 0)
      const decoded = new PDU(pdu)
      assert.equal(decoded.receipted_message_id, "abc\u0004'", 'the damage this guards against')
      assert.deepEqual(decoded.short_message, { message: 'id:ab§1¤¡ stat:ENROUTE' })
      const receipt = parseDeliveryReceipt(
        decoded as unknown as Parameters<typeof parseDeliveryReceipt>[0],
      )
      assert.equal(receipt?.messageId, 'abc')
      assert.equal(receipt?.state, 'delivered')
    })
  })

  describe('what is not a receipt', () => {
    it('ignores an MO whose text looks like a receipt', () => {
      assert.equal(
        parseDeliveryReceipt({ esm_class: 0x00, short_message: 'id:1 stat:DELIVRD' }),
        null,
      )
    })

    it('accepts a receipt an SMSC forgot to flag when receipted_message_id is there', () => {
      const receipt = parseDeliveryReceipt({
        esm_class: 0x00,
        short_message: 'id:9 stat:DELIVRD',
        receipted_message_id: '9',
      })
      assert.equal(receipt?.state, 'delivered')
    })

    it('reads intermediate notifications, and gives null for a receipt without id', () => {
      assert.equal(
        parseDeliveryReceipt({ esm_class: 0x20, short_message: 'id:5 stat:ENROUTE' })?.state,
        'enroute',
      )
      assert.equal(parseDeliveryReceipt({ esm_class: 0x04, short_message: 'stat:DELIVRD' }), null)
    })
  })

  describe('parseReceiptDate', () => {
    it('reads 10, 12 and 14 digit dates as UTC and refuses impossible ones', () => {
      assert.deepEqual(parseReceiptDate('2402291200'), new Date('2024-02-29T12:00:00Z'))
      assert.deepEqual(parseReceiptDate('240229120059'), new Date('2024-02-29T12:00:59Z'))
      assert.deepEqual(parseReceiptDate('20240229120059'), new Date('2024-02-29T12:00:59Z'))
      assert.equal(parseReceiptDate('2302291200'), null)
      assert.equal(parseReceiptDate('2413011200'), null)
      assert.equal(parseReceiptDate('24010112'), null)
      assert.equal(parseReceiptDate(null), null)
    })
  })
})
