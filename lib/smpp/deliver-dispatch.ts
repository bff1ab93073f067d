/**
 * Where a deliver_sm goes: a delivery receipt is acknowledged at once and handed on; an SME or
 * user acknowledgement is acknowledged and ignored; anything else is an MO, acknowledged only
 * once stored (lib/smpp/mo-offer.ts).
 */

import type { PDU } from 'smpp'
import type { DeliverResponder, SmppLogger } from './connection'
import { TLV_TAG, type DeliverSm } from './deliver'
import type { MoFields } from './mo-offer'
import {
  isReceiptEsmClass,
  parseDeliveryReceipt,
  type DeliveryReceipt,
  type ReceiptPduLike,
} from './receipt'

export interface DeliverSinks {
  logger: SmppLogger
  receipt(receipt: DeliveryReceipt): void
  /** `reply` answers the SMSC: the sink calls it once the MO is stored, or not. */
  mo(reply: DeliverResponder, fields: MoFields): void
}

/** A deliver_sm read from its own octets; `respond` is called, here or by the MO sink. */
export function dispatchDeliver(
  deliver: DeliverSm,
  respond: DeliverResponder,
  sinks: DeliverSinks,
): void {
  const receiptedId = deliver.tlvs.get(TLV_TAG.receiptedMessageId)
  if (isReceiptEsmClass(deliver.esmClass) || receiptedId !== undefined) {
    // Acknowledged before anything else: a slow or failing listener must not make the SMSC
    // resend or throttle us. The worker records receipts with retries of its own.
    respond(0)
    const receipt = parseDeliveryReceipt({
      esm_class: deliver.esmClass,
      data_coding: deliver.dataCoding,
      short_message: deliver.shortMessage,
      message_payload: deliver.tlvs.get(TLV_TAG.messagePayload),
      receipted_message_id: receiptedId,
      message_state: deliver.tlvs.get(TLV_TAG.messageState)?.[0],
      network_error_code: deliver.tlvs.get(TLV_TAG.networkErrorCode),
    })
    handOnReceipt(
      receipt && {
        ...receipt,
        handset: deliver.sourceAddr || undefined,
        handsetTon: deliver.sourceAddr ? deliver.sourceAddrTon : undefined,
      },
      deliver.shortMessage.toString('latin1'),
      sinks,
    )
    return
  }
  if ((deliver.esmClass & 0x3c) !== 0) {
    // SME or user acknowledgements: we never ask for them, so there is nothing to match.
    respond(0)
    sinks.logger.info(`smpp ignored deliver_sm esm_class=0x${deliver.esmClass.toString(16)}`)
    return
  }
  sinks.mo(respond, {
    from: deliver.sourceAddr,
    fromTon: deliver.sourceAddrTon,
    to: deliver.destinationAddr,
    toTon: deliver.destAddrTon,
    dataCoding: deliver.dataCoding,
    esmClass: deliver.esmClass,
    shortMessage: deliver.shortMessage,
    tlvs: deliver.tlvs,
  })
}

/**
 * A deliver_sm our parser refused, already acknowledged. Only receipts can be read from the
 * package's lossy decoding; an MO would arrive altered, so it is dropped with an error line.
 */
export function dispatchUnparsedDeliver(pdu: PDU, err: Error, sinks: DeliverSinks): void {
  const esmClass = typeof pdu.esm_class === 'number' ? pdu.esm_class : 0
  const receipt = parseDeliveryReceipt({
    esm_class: esmClass,
    data_coding: typeof pdu.data_coding === 'number' ? pdu.data_coding : undefined,
    short_message: pdu.short_message as ReceiptPduLike['short_message'],
    receipted_message_id:
      typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined,
    message_state: typeof pdu.message_state === 'number' ? pdu.message_state : undefined,
    network_error_code: Buffer.isBuffer(pdu.network_error_code)
      ? pdu.network_error_code
      : undefined,
  })
  if (receipt !== null) {
    sinks.logger.warn(`smpp deliver_sm read through smpp's decoding (${err.message})`)
    const handset =
      typeof pdu.source_addr === 'string' && pdu.source_addr ? pdu.source_addr : undefined
    const handsetTon =
      handset && typeof pdu.source_addr_ton === 'number' ? pdu.source_addr_ton : undefined
    handOnReceipt({ ...receipt, handset, handsetTon }, receipt.raw, sinks)
    return
  }
  sinks.logger.error(
    `smpp deliver_sm dropped (${err.message}): seq=${pdu.sequence_number} ` +
      `from=${String(pdu.source_addr)} esm_class=${esmClass}`,
  )
}

function handOnReceipt(receipt: DeliveryReceipt | null, text: string, sinks: DeliverSinks): void {
  if (receipt === null) {
    sinks.logger.warn(`smpp receipt without a message id: ${JSON.stringify(text)}`)
    return
  }
  sinks.receipt(receipt)
}
