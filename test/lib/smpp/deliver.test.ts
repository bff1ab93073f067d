import assert from 'node:assert/strict'
import { PDU } from 'smpp'
import { PduFormatError, parseDeliverSm, TLV_TAG } from '../../../lib/smpp/deliver'

function deliverSm(fields: Record<string, unknown>): Buffer {
  return new PDU('deliver_sm', { sequence_number: 7, ...fields }).toBuffer()
}

describe('lib/smpp/deliver', () => {
  it('reads the mandatory parameters and the octets of short_message as sent', () => {
    // GSM-7 "@_$" and a byte above 0x7F: the package would decode these into other characters.
    const octets = Buffer.from([0x00, 0x11, 0x02, 0xe9])
    const parsed = parseDeliverSm(
      deliverSm({
        source_addr_ton: 1,
        source_addr_npi: 1,
        source_addr: '33612345678',
        dest_addr_ton: 3,
        dest_addr_npi: 9,
        destination_addr: '38000',
        esm_class: 0x40,
        protocol_id: 0x7f,
        registered_delivery: 1,
        data_coding: 0,
        short_message: octets,
      }),
    )
    assert.equal(parsed.sequenceNumber, 7)
    assert.equal(parsed.sourceAddr, '33612345678')
    assert.equal(parsed.sourceAddrTon, 1)
    assert.equal(parsed.sourceAddrNpi, 1)
    assert.equal(parsed.destinationAddr, '38000')
    assert.equal(parsed.destAddrTon, 3)
    assert.equal(parsed.destAddrNpi, 9)
    assert.equal(parsed.esmClass, 0x40)
    assert.equal(parsed.protocolId, 0x7f)
    assert.equal(parsed.registeredDelivery, 1)
    assert.equal(parsed.dataCoding, 0)
    assert.deepEqual(parsed.shortMessage, octets)
    assert.equal(parsed.tlvs.size, 0)
  })

  it('keeps each TLV at its declared length, NUL included', () => {
    const parsed = parseDeliverSm(
      deliverSm({
        esm_class: 0x04,
        data_coding: 0,
        short_message: Buffer.from('id:1'),
        receipted_message_id: '1A2B',
        message_state: 2,
        network_error_code: Buffer.from([3, 0, 1]),
      }),
    )
    assert.deepEqual(parsed.tlvs.get(TLV_TAG.receiptedMessageId), Buffer.from('1A2B\u0000'))
    assert.deepEqual(parsed.tlvs.get(TLV_TAG.messageState), Buffer.from([2]))
    assert.deepEqual(parsed.tlvs.get(TLV_TAG.networkErrorCode), Buffer.from([3, 0, 1]))
  })

  it('refuses cut PDUs and other commands', () => {
    const whole = deliverSm({ data_coding: 0, short_message: Buffer.from('hello') })
    const cut = Buffer.from(whole.subarray(0, whole.length - 2))
    cut.writeUInt32BE(cut.length, 0)
    assert.throws(() => parseDeliverSm(cut), PduFormatError)
    const submit = new PDU('submit_sm', { data_coding: 0, short_message: Buffer.from('x') })
    assert.throws(() => parseDeliverSm(submit.toBuffer()), PduFormatError)
    const badTlv = Buffer.concat([whole, Buffer.from([0x04, 0x27, 0x00, 0x05, 0x01])])
    badTlv.writeUInt32BE(badTlv.length, 0)
    assert.throws(() => parseDeliverSm(badTlv), PduFormatError)
  })
})
