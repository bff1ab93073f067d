export { SmppClient } from './client'
export type {
  MoMessage,
  SmppClientEvents,
  SmppClientOptions,
  SmppClientState,
  SmppLogger,
  SubmitResult,
} from './client'
export { SmppSubmitError } from './errors'
export type { SubmitFailureKind } from './errors'
export { canonicalMessageId, normaliseMessageId } from './message-id'
export { isReceiptEsmClass, parseDeliveryReceipt, parseReceiptDate } from './receipt'
export type { DeliveryReceipt, ReceiptPduLike, ReceiptState } from './receipt'
export { classifySubmitStatus, describeStatus, statusName } from './status'
export type { SubmitStatusClass } from './status'
export { planSubmit } from './submit'
export type { LongSmsMethod, SmsSender, SubmitMessage, SubmitPlan } from './submit'
export { parseDeliverSm, PduFormatError, TLV_TAG } from './deliver'
export type { DeliverSm } from './deliver'
