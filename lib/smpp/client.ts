/**
 * The SMPP 3.4 client the worker sends SMS with: one transceiver session at a time, a window of
 * outstanding submit_sm shared by all messages, a timeout per part, an optional rate limit,
 * reconnection with backoff, delivery receipts and MO messages as events, and a graceful stop.
 *
 * Failures are reported, never retried here: the worker owns retry policy, because only it knows
 * the message's age and can record what happened.
 */

import { EventEmitter } from 'node:events'
import type { PDU } from 'smpp'
import type { SmsEncoding } from '../sms'
import {
  BindError,
  ESME_RX_T_APPN,
  RequestError,
  SmppConnection,
  type DeliverResponder,
  type SmppLogger,
} from './connection'
import { TLV_TAG, type DeliverSm } from './deliver'
import { SmppSubmitError } from './errors'
import {
  isReceiptEsmClass,
  parseDeliveryReceipt,
  type DeliveryReceipt,
  type ReceiptPduLike,
} from './receipt'
import { classifySubmitStatus, describeStatus } from './status'
import { planSubmit, type LongSmsMethod, type SubmitMessage, type SubmitPlan } from './submit'
import { AdaptiveRate, type AdaptiveRateEvent } from './adaptive-rate'
import type { SmscAlphabet } from '../sms'

export type { SmppLogger } from './connection'

export interface SmppClientOptions {
  host: string
  port: number
  systemId: string
  password: string
  systemType?: string
  /** Most submit_sm awaiting their response at once, across all messages. */
  window: number
  /** Per request: each submit_sm part, bind, enquire_link, unbind; also the connect timeout. */
  requestTimeoutMs: number
  /** Sends enquire_link after this long without a PDU from the SMSC. */
  enquireLinkMs: number
  reconnectInitialMs: number
  reconnectMaxMs: number
  longSms: LongSmsMethod
  /** Most submit_sm per second; 0 or absent for no limit. */
  throughputPerSecond?: number
  /**
   * Learn the carrier's rate from its throttling answers (lib/smpp/adaptive-rate.ts), under
   * throughputPerSecond when set. Default true.
   */
  adaptiveRate?: boolean
  /** What data_coding 0 means to this SMSC (default gsm): see planSubmit. */
  defaultAlphabet?: SmscAlphabet
  /** The pace of submit_sm, for tests; default an AdaptiveRate as above. */
  pace?: SubmitPace
  /** Throttling answers one part may get before it is reported throttled (default 5). */
  throttleRequeues?: number
  /**
   * Longest wait for an 'mo' listener to store an MO before the SMSC is told to redeliver it
   * (default 5000): well under the SMSC's own response timeout, which is often 10 to 30 s.
   */
  moAckTimeoutMs?: number
  logger?: SmppLogger
}

/** Decides when the next submit_sm may leave, and hears how the SMSC took the last ones. */
export interface SubmitPace {
  /** 0 to send now; else the milliseconds to wait. Takes the slot when it returns 0. */
  take(): number
  accepted(): void
  /** The SMSC answered ESME_RTHROTTLED or ESME_RMSGQFUL. */
  throttled(status: number): void
  /** Called every second while the client runs: time-driven changes with nothing being sent. */
  tick?(): void
}

export type SmppClientState = 'idle' | 'connecting' | 'bound' | 'stopping' | 'stopped'

/** One SMS to submit, as the worker retries it: only the parts not settled on an earlier try. */
export interface SubmitRequest extends SubmitMessage {
  /**
   * Concatenation reference (1..255) for UDH or SAR. The worker gives the same one on every try
   * of one SMS, so that parts sent on different tries still join up on the handset.
   */
  reference?: number
  /** 1-based parts the SMSC already accepted, or refused for good, on an earlier try. */
  skipParts?: ReadonlySet<number>
}

/** What became of one part on this try. */
export type PartOutcome =
  { part: number; messageId: string } | { part: number; error: SmppSubmitError }

export interface PartsResult {
  /** The parts tried this time (skipped ones are absent), in part order. */
  outcomes: PartOutcome[]
  /** submit_sm PDUs the whole SMS takes: the segments, or 1 with message_payload. */
  parts: number
  segments: number
  encoding: SmsEncoding
}

export interface SubmitResult {
  /** The SMSC's message_id for each submit_sm, in part order, as it gave them. */
  messageIds: string[]
  /** submit_sm PDUs sent: the segments, or 1 with message_payload. */
  parts: number
  /** Segments the recipient is billed for and sees. */
  segments: number
  encoding: SmsEncoding
}

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

export interface SmppClientEvents {
  bound: []
  disconnected: [reason: string]
  /** Acknowledged to the SMSC before the listeners run. */
  receipt: [DeliveryReceipt]
  /** Listeners are MoListener: the SMSC is answered once their promises settle. */
  mo: [MoMessage]
}

/**
 * An 'mo' listener that stores the MO returns a promise: true once it is durably stored, false
 * (or a rejection) to have the SMSC redeliver it later. A listener that returns anything else
 * takes the MO as it is, and the SMSC gets its acknowledgement at once.
 */
export type MoListener = (mo: MoMessage) => unknown

/**
 * Hands an MO to the 'mo' listeners of `emitter`. Resolves true when the SMSC may forget it:
 * every listener that returned a promise resolved true (or none returned one). A listener that
 * throws counts as one that could not store it.
 */
export function offerMo(
  emitter: { listeners(event: 'mo'): unknown[] },
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

const DEFAULT_MO_ACK_TIMEOUT_MS = 5000

interface MessageJob {
  plan: SubmitPlan
  /** By part index; undefined for a part skipped or not answered yet. */
  outcomes: (PartOutcome | undefined)[]
  /** Parts queued or in flight. */
  unfinished: number
  /** Parts still in the queue. */
  queued: number
  resolve: (result: PartsResult) => void
}

interface QueuedPart {
  job: MessageJob
  index: number
  /** Throttling answers this part got so far on this try. */
  throttled: number
}

/**
 * How often one part is put back in the queue after a throttling answer before it is reported
 * throttled (the worker then retries it later): the rate has been lowered each time, so a
 * carrier that still refuses is not just asking us to slow down.
 */
const DEFAULT_THROTTLE_REQUEUES = 5

const consoleLogger: SmppLogger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
}

/** A FIFO that does not copy the array on every shift. */
class PartQueue {
  private items: QueuedPart[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(part: QueuedPart): void {
    this.items.push(part)
  }

  /** Puts a part back at the head: a throttled part goes before those that never tried. */
  unshift(part: QueuedPart): void {
    if (this.head > 0) this.items[--this.head] = part
    else this.items.unshift(part)
  }

  shift(): QueuedPart | undefined {
    if (this.head >= this.items.length) return undefined
    const part = this.items[this.head++]
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return part
  }

  /** Removes and returns the parts that match, keeping the order of the others. */
  remove(match: (part: QueuedPart) => boolean): QueuedPart[] {
    const live = this.items.slice(this.head)
    this.items = live.filter((part) => !match(part))
    this.head = 0
    return live.filter(match)
  }
}

export class SmppClient extends EventEmitter<SmppClientEvents> {
  private currentState: SmppClientState = 'idle'
  private link: SmppConnection | null = null
  private linkBound = false
  private reconnectTimer: NodeJS.Timeout | null = null
  private pumpTimer: NodeJS.Timeout | null = null
  private attempts = 0
  private reference = 0
  private outstanding = 0
  private readonly queue = new PartQueue()
  private readonly drainWaiters = new Set<() => void>()
  private readonly pace: SubmitPace
  /** Lets the pace notice the end of a throttling episode while nothing is being sent. */
  private paceTimer: NodeJS.Timeout | null = null
  /** Submits without an answer in a row, and since when; null while the SMSC answers. */
  private silence: { count: number; since: number } | null = null
  private readonly logger: SmppLogger
  private stopping: Promise<void> | null = null

  constructor(private readonly options: SmppClientOptions) {
    super()
    if (!(options.window >= 1)) throw new RangeError('window must be at least 1')
    this.logger = options.logger ?? consoleLogger
    this.pace =
      options.pace ??
      new AdaptiveRate({
        ceiling: options.throughputPerSecond ?? 0,
        enabled: options.adaptiveRate ?? true,
        onEvent: (event) => this.logThrottling(event),
      })
  }

  get state(): SmppClientState {
    return this.currentState
  }

  /** Connects and binds, then keeps the session up (reconnecting with backoff) until stop(). */
  start(): void {
    if (this.currentState !== 'idle' && this.currentState !== 'stopped') {
      throw new Error(`SMPP client is already ${this.currentState}`)
    }
    this.currentState = 'connecting'
    this.stopping = null
    this.attempts = 0
    if (this.pace.tick && this.paceTimer === null) {
      this.paceTimer = setInterval(() => this.pace.tick?.(), 1000)
      this.paceTimer.unref()
    }
    this.connect()
  }

  /**
   * Sends one SMS as one or more submit_sm. Resolves when the SMSC accepted every part; rejects
   * with SmppSubmitError once every part that was sent has been answered, timed out or lost,
   * naming the first reason (a permanent one before any other).
   */
  async submit(message: SubmitRequest): Promise<SubmitResult> {
    const result = await this.submitParts(message)
    const failures = result.outcomes.flatMap((o) => ('error' in o ? [o.error] : []))
    const accepted = result.outcomes.flatMap((o) => ('messageId' in o ? [o.messageId] : []))
    if (failures.length === 0) {
      return {
        messageIds: accepted,
        parts: result.parts,
        segments: result.segments,
        encoding: result.encoding,
      }
    }
    const error = failures.find((f) => f.kind === 'permanent') ?? failures[0]
    throw new SmppSubmitError(error.kind, error.message, {
      status: error.status,
      partsAccepted: accepted,
    })
  }

  /**
   * Sends the parts of one SMS not in `skipParts`, and resolves once each has an outcome: its
   * message id, or why it was not taken. A part refused for good does not stop the others:
   * they can still reach the phone. After any other failure the parts still queued are not
   * sent (a sick SMSC is not loaded further; the worker retries them). Rejects only when nothing
   * could be tried: the client is not bound, or no SMSC could take the message as it is.
   */
  submitParts(request: SubmitRequest): Promise<PartsResult> {
    if (this.currentState !== 'bound') {
      return Promise.reject(
        new SmppSubmitError('disconnected', `SMPP client is ${this.currentState}, not bound`),
      )
    }
    let plan: SubmitPlan
    try {
      const { reference } = request
      plan = planSubmit(
        request,
        this.options.longSms,
        () => reference ?? this.nextReference(),
        this.options.defaultAlphabet,
      )
    } catch (err) {
      return Promise.reject(err)
    }
    const indexes = plan.pdus.map((_, i) => i).filter((i) => !request.skipParts?.has(i + 1))
    return new Promise<PartsResult>((resolve) => {
      const job: MessageJob = {
        plan,
        outcomes: new Array<PartOutcome | undefined>(plan.pdus.length),
        unfinished: indexes.length,
        queued: indexes.length,
        resolve,
      }
      if (indexes.length === 0) {
        this.settleIfDone(job)
        return
      }
      for (const index of indexes) this.queue.push({ job, index, throttled: 0 })
      this.pump()
    })
  }

  /**
   * Refuses new submits and drops queued parts ('disconnected'), waits up to graceMs for the
   * responses of parts already sent, unbinds and closes. Resolves once the socket is closed.
   */
  stop(graceMs = 0): Promise<void> {
    if (this.stopping) return this.stopping
    if (this.currentState === 'idle' || this.currentState === 'stopped') {
      this.currentState = 'stopped'
      return Promise.resolve()
    }
    this.stopping = this.shutdown(graceMs)
    return this.stopping
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.currentState = 'stopping'
    if (this.paceTimer) clearInterval(this.paceTimer)
    this.paceTimer = null
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    if (this.pumpTimer) clearTimeout(this.pumpTimer)
    this.reconnectTimer = this.pumpTimer = null
    this.dropQueued(() => true, 'SMPP client stopping')
    await this.drained(graceMs)
    const link = this.link
    if (link !== null) {
      if (this.linkBound && !link.isClosed) {
        await link.unbind(this.options.requestTimeoutMs)
        await link.close(this.options.requestTimeoutMs, 'client stopped')
      } else {
        await link.destroy('client stopped')
      }
    }
    this.currentState = 'stopped'
    this.logger.info(`smpp stopped host=${this.options.host}:${this.options.port}`)
  }

  // Listeners run inside socket and promise callbacks, where a throw would crash the process or
  // stop the session reading: log it instead.
  private notify<K extends keyof SmppClientEvents>(event: K, ...args: SmppClientEvents[K]): void {
    try {
      // TypeScript cannot match the rest parameters to emit()'s conditional type for a generic K.
      ;(this.emit as (event: K, ...args: SmppClientEvents[K]) => boolean)(event, ...args)
    } catch (err) {
      this.logger.error(`smpp ${event} listener threw: ${(err as Error).stack}`)
    }
  }

  private nextReference(): number {
    this.reference = (this.reference % 255) + 1
    return this.reference
  }

  private connect(): void {
    this.reconnectTimer = null
    const { host, port, requestTimeoutMs, enquireLinkMs, systemId } = this.options
    const link = new SmppConnection({
      host,
      port,
      requestTimeoutMs,
      enquireLinkMs,
      logger: this.logger,
    })
    this.link = link
    link.on('deliver', (deliver, respond) => this.onDeliver(deliver, respond))
    link.on('unparsedDeliver', (pdu, err) => this.onUnparsedDeliver(pdu, err))
    link.once('close', (reason) => this.onLinkClose(link, reason))
    link
      .open({ systemId, password: this.options.password, systemType: this.options.systemType })
      .then(
        () => {
          if (this.link !== link || this.currentState !== 'connecting') return
          this.linkBound = true
          this.currentState = 'bound'
          this.attempts = 0
          this.logger.info(`smpp bound host=${host}:${port} system_id=${systemId}`)
          this.notify('bound')
          this.pump()
        },
        (err: Error) => {
          if (this.currentState === 'stopping') return
          if (err instanceof BindError && err.status !== undefined) {
            // Credentials or account trouble will not fix itself: say so loudly on every try.
            this.logger.error(
              `smpp BIND FAILED host=${host}:${port} system_id=${systemId}: ${err.message}`,
            )
          } else {
            this.logger.warn(`smpp connect failed host=${host}:${port} reason=${err.message}`)
          }
          void link.destroy(err.message)
        },
      )
  }

  private onLinkClose(link: SmppConnection, reason: string): void {
    if (this.link !== link) return
    this.link = null
    const wasBound = this.linkBound
    this.linkBound = false
    this.dropQueued(() => true, `connection lost: ${reason}`)
    // The connection logged the close and its reason, as a warning unless we asked for it.
    if (wasBound) this.notify('disconnected', reason)
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return
    this.currentState = 'connecting'
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    const { reconnectInitialMs, reconnectMaxMs } = this.options
    const ceiling = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** Math.min(this.attempts, 30))
    this.attempts++
    // Half fixed, half random: many workers restarted together do not reconnect in step.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
    this.logger.info(`smpp reconnecting in_ms=${delay} attempt=${this.attempts}`)
    this.reconnectTimer = setTimeout(() => this.connect(), delay)
  }

  private pump(): void {
    while (
      this.currentState === 'bound' &&
      this.link !== null &&
      this.outstanding < this.options.window &&
      this.queue.length > 0
    ) {
      const wait = this.pace.take()
      if (wait > 0) {
        this.pumpTimer ??= setTimeout(() => {
          this.pumpTimer = null
          this.pump()
        }, wait)
        return
      }
      const part = this.queue.shift()
      if (part === undefined) return
      part.job.queued--
      this.send(this.link, part)
    }
  }

  private send(link: SmppConnection, part: QueuedPart): void {
    this.outstanding++
    const { pdus } = part.job.plan
    link.request('submit_sm', pdus[part.index], this.options.requestTimeoutMs).then(
      (response) => this.onSubmitResponse(part, response),
      (err: Error) => {
        if (err instanceof RequestError && err.kind === 'timeout') this.submitTimedOut(link)
        this.finishSent(part, submitErrorFromRequest(err, part, pdus.length))
      },
    )
  }

  /**
   * One line when submits start going unanswered and one when answers come back, not one per
   * part. An SMSC whose application hangs while its link layer still answers enquire_link
   * looks like this: after a window's worth of silence in a row the session is dropped, since a
   * new one is what usually gets such an SMSC going again.
   */
  private submitTimedOut(link: SmppConnection): void {
    const { requestTimeoutMs, window } = this.options
    if (this.silence === null) {
      this.silence = { count: 0, since: Date.now() }
      this.logger.warn(`smpp submit_sm unanswered timeout_ms=${requestTimeoutMs}: timeouts started`)
    }
    this.silence.count++
    const limit = Math.max(3, window)
    if (this.silence.count % limit === 0 && this.link === link && !link.isClosed) {
      this.logger.warn(
        `smpp no answer to ${this.silence.count} submit_sm in a row while the link is up ` +
          `(the SMSC's application may be stuck): reconnecting`,
      )
      void link.destroy(`${this.silence.count} submit_sm unanswered`)
    }
  }

  /** One line when the carrier starts pushing back and one when it has stopped, not one per answer. */
  private logThrottling(event: AdaptiveRateEvent): void {
    const rate = event.rate === null ? 'unlimited' : `${Math.round(event.rate * 10) / 10}/s`
    if (event.type === 'throttling-started') {
      this.logger.warn(`smpp throttling started: the SMSC asks us to slow down rate=${rate}`)
    } else {
      this.logger.info(
        `smpp throttling ended answers=${event.answers} duration_ms=${Math.round(event.durationMs)} rate=${rate}`,
      )
    }
  }

  private submitAnswered(): void {
    if (this.silence === null) return
    const { count, since } = this.silence
    this.silence = null
    this.logger.info(
      `smpp submit_sm answered again: timeouts ended count=${count} duration_ms=${Date.now() - since}`,
    )
  }

  private onSubmitResponse(part: QueuedPart, response: PDU): void {
    this.submitAnswered()
    const status = response.command_status
    const label = `part ${part.index + 1}/${part.job.plan.pdus.length}`
    if (status === 0 && response.command !== 'submit_sm_resp') {
      this.finishSent(part, new SmppSubmitError('temporary', `${label}: ${response.command}`))
      return
    }
    if (status === 0) {
      const id = typeof response.message_id === 'string' ? response.message_id : ''
      if (id === '') this.logger.warn('smpp submit_sm_resp without message_id')
      this.pace.accepted()
      this.finishSent(part, id)
      return
    }
    const kind = classifySubmitStatus(status)
    if (kind === 'throttled') {
      this.pace.throttled(status)
      const requeues = this.options.throttleRequeues ?? DEFAULT_THROTTLE_REQUEUES
      if (part.throttled < requeues && this.currentState === 'bound') {
        // Throttling is the carrier's flow control, not a failure: the part goes back to the
        // head of the queue and leaves at the lowered pace.
        part.throttled++
        this.outstanding--
        part.job.queued++
        this.queue.unshift(part)
        this.pump()
        return
      }
    }
    const refusal = response.command === 'generic_nack' ? 'generic_nack' : 'refused'
    const error = new SmppSubmitError(
      // Only status 0 is 'ok', and it was handled above.
      kind === 'ok' ? 'temporary' : kind,
      `${label} ${refusal}: ${describeStatus(status)}`,
      { status },
    )
    this.finishSent(part, error)
  }

  private finishSent(part: QueuedPart, outcome: string | SmppSubmitError): void {
    this.outstanding--
    const { job } = part
    const no = part.index + 1
    job.outcomes[part.index] =
      typeof outcome === 'string' ? { part: no, messageId: outcome } : { part: no, error: outcome }
    // A part refused for good leaves the others deliverable; any other failure means trouble at
    // the SMSC or on the link: the rest of this SMS waits for the worker's retry.
    if (typeof outcome !== 'string' && outcome.kind !== 'permanent' && job.queued > 0) {
      this.dropQueued((queued) => queued.job === job, 'an earlier part was not taken')
    }
    job.unfinished--
    this.settleIfDone(job)
    if (this.outstanding === 0) for (const wake of this.drainWaiters) wake()
    this.pump()
  }

  private dropQueued(match: (part: QueuedPart) => boolean, reason: string): void {
    for (const part of this.queue.remove(match)) {
      const { job } = part
      job.queued--
      const total = job.plan.pdus.length
      job.outcomes[part.index] = {
        part: part.index + 1,
        error: new SmppSubmitError(
          'disconnected',
          `part ${part.index + 1}/${total} not sent: ${reason}`,
        ),
      }
      job.unfinished--
      this.settleIfDone(job)
    }
  }

  private settleIfDone(job: MessageJob): void {
    if (job.unfinished > 0) return
    job.resolve({
      outcomes: job.outcomes.filter((o): o is PartOutcome => o !== undefined),
      parts: job.plan.pdus.length,
      segments: job.plan.segments,
      encoding: job.plan.encoding,
    })
  }

  private drained(graceMs: number): Promise<void> {
    if (this.outstanding === 0 || graceMs <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.drainWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, graceMs)
      this.drainWaiters.add(done)
    })
  }

  private onDeliver(deliver: DeliverSm, respond: DeliverResponder): void {
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
      this.emitReceipt(
        receipt && {
          ...receipt,
          handset: deliver.sourceAddr || undefined,
          handsetTon: deliver.sourceAddr ? deliver.sourceAddrTon : undefined,
        },
        deliver.shortMessage.toString('latin1'),
      )
      return
    }
    if ((deliver.esmClass & 0x3c) !== 0) {
      // SME or user acknowledgements: we never ask for them, so there is nothing to match.
      respond(0)
      this.logger.info(`smpp ignored deliver_sm esm_class=0x${deliver.esmClass.toString(16)}`)
      return
    }
    this.offerMo(respond, {
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
   * Acknowledges an MO once the listeners have stored it, and asks for a redelivery when they
   * could not, took too long, or the client is stopping: nothing acknowledged may be lost.
   */
  private offerMo(reply: DeliverResponder, fields: Omit<MoMessage, 'acknowledged'>): void {
    let acknowledge: (written: boolean) => void = () => undefined
    const mo: MoMessage = { ...fields, acknowledged: new Promise((r) => (acknowledge = r)) }
    const respond = (status: number) => acknowledge(reply(status) && status === 0)
    const label = `from=${mo.from} to=${mo.to}`
    if (this.currentState === 'stopping' || this.currentState === 'stopped') {
      this.logger.info(`smpp MO ${label} refused for now (stopping): the SMSC will redeliver it`)
      respond(ESME_RX_T_APPN)
      return
    }
    const timeoutMs = this.options.moAckTimeoutMs ?? DEFAULT_MO_ACK_TIMEOUT_MS
    // The store may still finish after this answer; its redelivery is then recognised as such.
    const timer = setTimeout(() => {
      this.logger.warn(`smpp MO ${label} not stored in ${timeoutMs} ms: asked for a redelivery`)
      respond(ESME_RX_T_APPN)
    }, timeoutMs)
    // A session that goes away needs no answer: this timer must not hold a stopping process.
    timer.unref()
    const onError = (err: Error) => this.logger.error(`smpp mo listener failed: ${err.stack}`)
    void offerMo(this, mo, onError).then((stored) => {
      clearTimeout(timer)
      respond(stored ? 0 : ESME_RX_T_APPN)
    })
  }

  // Only receipts can be read from the package's lossy decoding; an MO would arrive altered.
  private onUnparsedDeliver(pdu: PDU, err: Error): void {
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
      this.logger.warn(`smpp deliver_sm read through smpp's decoding (${err.message})`)
      const handset =
        typeof pdu.source_addr === 'string' && pdu.source_addr ? pdu.source_addr : undefined
      const handsetTon =
        handset && typeof pdu.source_addr_ton === 'number' ? pdu.source_addr_ton : undefined
      this.emitReceipt({ ...receipt, handset, handsetTon }, receipt.raw)
      return
    }
    this.logger.error(
      `smpp deliver_sm dropped (${err.message}): seq=${pdu.sequence_number} ` +
        `from=${String(pdu.source_addr)} esm_class=${esmClass}`,
    )
  }

  private emitReceipt(receipt: DeliveryReceipt | null, text: string): void {
    if (receipt === null) {
      this.logger.warn(`smpp receipt without a message id: ${JSON.stringify(text)}`)
      return
    }
    this.notify('receipt', receipt)
  }
}

function submitErrorFromRequest(err: Error, part: QueuedPart, total: number): SmppSubmitError {
  const label = `part ${part.index + 1}/${total}`
  if (err instanceof RequestError) return new SmppSubmitError(err.kind, `${label}: ${err.message}`)
  // The package could not serialise the PDU: the same message would fail the same way.
  return new SmppSubmitError('permanent', `${label} not encodable: ${err.message}`)
}
