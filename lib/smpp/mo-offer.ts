/**
 * MO messages (SMS from phones) and their acknowledgement: the deliver_sm_resp waits until the
 * 'mo' listeners have stored the message, so that nothing acknowledged to the SMSC is lost.
 */

import { ESME_RX_T_APPN, type DeliverResponder, type SmppLogger } from './connection'

/**
 * A deliver_sm that is not a receipt: an SMS from a phone, for a later reassembly step. Its
 * deliver_sm_resp waits for the 'mo' listeners: see MoListener.
 */
export interface MoMessage {
  from: string
  fromTon: number
  to: string
  toTon: number
  dataCoding: number
  esmClass: number
  /** The octets as sent, UDH included when esmClass has 0x40. */
  shortMessage: Buffer
  /** Optional parameters by tag (message_payload 0x0424, sar_* 0x020C..0x020F, ...). */
  tlvs: Map<number, Buffer>
  /**
   * Settles once the deliver_sm_resp is decided: true when status 0 was written on the
   * socket (the SMSC will not redeliver it), false for an error status or a closed session.
   */
  acknowledged: Promise<boolean>
}

/** An MO as read from the deliver_sm, before its acknowledgement is decided. */
export type MoFields = Omit<MoMessage, 'acknowledged'>

/**
 * An 'mo' listener that stores the MO returns a promise: true once it is durably stored, false
 * (or a rejection) to have the SMSC redeliver it later. A listener that returns anything else
 * takes the MO as it is, and the SMSC gets its acknowledgement at once.
 */
export type MoListener = (mo: MoMessage) => unknown

export interface MoEmitter {
  listeners(event: 'mo'): unknown[]
}

/**
 * Hands an MO to the 'mo' listeners of `emitter`. Resolves true when the SMSC may forget it:
 * every listener that returned a promise resolved true (or none returned one). A listener that
 * throws counts as one that could not store it.
 */
export function offerMo(
  emitter: MoEmitter,
  mo: MoMessage,
  onError: (err: Error) => void,
): Promise<boolean> {
  const stores: Promise<boolean>[] = []
  for (const listener of emitter.listeners('mo') as MoListener[]) {
    let result: unknown
    try {
      result = listener(mo)
    } catch (err) {
      onError(err as Error)
      return Promise.resolve(false)
    }
    if (isPromiseLike(result)) {
      stores.push(
        Promise.resolve(result).then(
          (stored) => stored === true,
          (err: Error) => {
            onError(err)
            return false
          },
        ),
      )
    }
  }
  return Promise.all(stores).then((results) => results.every(Boolean))
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

export const DEFAULT_MO_ACK_TIMEOUT_MS = 5000

export interface MoAnswerOptions {
  /** The client is stopping: nothing will be stored, so the SMSC keeps the MO for later. */
  stopping: boolean
  timeoutMs: number
  logger: SmppLogger
}

/**
 * Acknowledges an MO once the listeners have stored it, and asks for a redelivery when they
 * could not, took too long, or the client is stopping: nothing acknowledged may be lost.
 */
export function answerMo(
  emitter: MoEmitter,
  reply: DeliverResponder,
  fields: MoFields,
  options: MoAnswerOptions,
): void {
  const { logger, timeoutMs } = options
  let acknowledge: (written: boolean) => void = () => undefined
  const mo: MoMessage = { ...fields, acknowledged: new Promise((r) => (acknowledge = r)) }
  const respond = (status: number) => acknowledge(reply(status) && status === 0)
  const label = `from=${mo.from} to=${mo.to}`
  if (options.stopping) {
    logger.info(`smpp MO ${label} refused for now (stopping): the SMSC will redeliver it`)
    respond(ESME_RX_T_APPN)
    return
  }
  // The store may still finish after this answer; its redelivery is then recognised as such.
  const timer = setTimeout(() => {
    logger.warn(`smpp MO ${label} not stored in ${timeoutMs} ms: asked for a redelivery`)
    respond(ESME_RX_T_APPN)
  }, timeoutMs)
  // A session that goes away needs no answer: this timer must not hold a stopping process.
  timer.unref()
  const onError = (err: Error) => logger.error(`smpp mo listener failed: ${err.stack}`)
  void offerMo(emitter, mo, onError).then((stored) => {
    clearTimeout(timer)
    respond(stored ? 0 : ESME_RX_T_APPN)
  })
}
