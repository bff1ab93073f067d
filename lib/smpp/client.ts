/**
 * The SMPP 3.4 client the worker sends SMS with: one transceiver session at a time, a window of
 * outstanding submit_sm shared by all messages, a timeout per part, an optional rate limit,
 * reconnection with backoff, delivery receipts and MO messages as events, and a graceful stop.
 *
 * Failures are reported, never retried here: the worker owns retry policy, because only it knows
 * the message's age and can record what happened.
 *
 * This class wires the parts together: the session (session-keeper.ts), the window and its
 * queue (submit-window.ts, part-queue.ts), the pace (submit-pace.ts), the watch on unanswered
 * submits (unanswered-submits.ts), what arrives from the SMSC (deliver-dispatch.ts,
 * mo-offer.ts), and what an observer is told (observed.ts).
 */

import { EventEmitter } from 'node:events'
import type { SmppBindState, SmppObserver } from '../ops/observers'
import type { SmscAlphabet } from '../sms'
import type { SmppLogger } from './connection'
import { dispatchDeliver, dispatchUnparsedDeliver, type DeliverSinks } from './deliver-dispatch'
import { SmppSubmitError } from './errors'
import { bindStateOf, guarded } from './observed'
import { DEFAULT_MO_ACK_TIMEOUT_MS, answerMo, type MoMessage } from './mo-offer'
import type { DeliveryReceipt } from './receipt'
import { SessionKeeper, type SmppClientState } from './session-keeper'
import { planSubmit, type LongSmsMethod, type SubmitPlan } from './submit'
import { adaptivePace, tickEverySecond, type SubmitPace } from './submit-pace'
import {
  wholeSmsResult,
  type PartsResult,
  type SubmitRequest,
  type SubmitResult,
} from './submit-result'
import { DEFAULT_THROTTLE_REQUEUES, SubmitWindow } from './submit-window'
import { UnansweredSubmits } from './unanswered-submits'

export type { SmppLogger } from './connection'
export { offerMo } from './mo-offer'
export type { MoListener, MoMessage } from './mo-offer'
export type { SmppClientState } from './session-keeper'
export type { SubmitPace } from './submit-pace'
export type { PartOutcome, PartsResult, SubmitRequest, SubmitResult } from './submit-result'

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
  /** Told of the bind state, the window in use and each submit_sm's outcome (for metrics). */
  observer?: SmppObserver
}

export interface SmppClientEvents {
  bound: []
  disconnected: [reason: string]
  /** Acknowledged to the SMSC before the listeners run. */
  receipt: [DeliveryReceipt]
  /** Listeners are MoListener: the SMSC is answered once their promises settle. */
  mo: [MoMessage]
}

const consoleLogger: SmppLogger = {
  info: (message) => console.log(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
}

export class SmppClient extends EventEmitter<SmppClientEvents> {
  private readonly session: SessionKeeper
  private readonly window: SubmitWindow
  private readonly pace: SubmitPace
  private readonly logger: SmppLogger
  private stopPaceTicks: (() => void) | null = null
  private reference = 0
  private stopping: Promise<void> | null = null

  constructor(private readonly options: SmppClientOptions) {
    super()
    if (!(options.window >= 1)) throw new RangeError('window must be at least 1')
    const logger = (this.logger = options.logger ?? consoleLogger)
    const observer = guarded(options.observer, logger)
    let bindState: SmppBindState = bindStateOf('idle')
    this.pace = options.pace ?? adaptivePace(options, logger)
    const sinks: DeliverSinks = {
      logger,
      receipt: (receipt) => this.notify('receipt', receipt),
      mo: (reply, fields) =>
        answerMo(this, reply, fields, {
          stopping: this.state === 'stopping' || this.state === 'stopped',
          timeoutMs: options.moAckTimeoutMs ?? DEFAULT_MO_ACK_TIMEOUT_MS,
          logger,
        }),
    }
    this.session = new SessionKeeper(options, logger, {
      stateChanged: (state) => {
        if (bindStateOf(state) === bindState) return
        bindState = bindStateOf(state)
        observer.bindState(bindState)
      },
      bound: () => {
        this.notify('bound')
        this.window.pump()
      },
      lost: (reason, wasBound) => {
        this.window.dropAll(`connection lost: ${reason}`)
        if (wasBound) this.notify('disconnected', reason)
      },
      deliver: (deliver, respond) => dispatchDeliver(deliver, respond, sinks),
      unparsedDeliver: (pdu, err) => dispatchUnparsedDeliver(pdu, err, sinks),
    })
    const unanswered = new UnansweredSubmits({
      requestTimeoutMs: options.requestTimeoutMs,
      window: options.window,
      logger,
      currentLink: () => this.session.link,
    })
    this.window = new SubmitWindow({
      window: options.window,
      requestTimeoutMs: options.requestTimeoutMs,
      throttleRequeues: options.throttleRequeues ?? DEFAULT_THROTTLE_REQUEUES,
      pace: this.pace,
      unanswered,
      logger,
      observer,
      boundLink: () => this.session.boundLink(),
    })
  }

  get state(): SmppClientState {
    return this.session.state
  }

  /** Connects and binds, then keeps the session up (reconnecting with backoff) until stop(). */
  start(): void {
    if (this.state !== 'idle' && this.state !== 'stopped') {
      throw new Error(`SMPP client is already ${this.state}`)
    }
    this.stopping = null
    this.stopPaceTicks ??= tickEverySecond(this.pace)
    this.session.start()
  }

  /**
   * Sends one SMS as one or more submit_sm. Resolves when the SMSC accepted every part; rejects
   * with SmppSubmitError once every part that was sent has been answered, timed out or lost,
   * naming the first reason (a permanent one before any other).
   */
  async submit(message: SubmitRequest): Promise<SubmitResult> {
    return wholeSmsResult(await this.submitParts(message))
  }

  /**
   * Sends the parts of one SMS not in `skipParts`, and resolves once each has an outcome: its
   * message id, or why it was not taken. A part refused for good does not stop the others:
   * they can still reach the phone. After any other failure the parts still queued are not
   * sent (a sick SMSC is not loaded further; the worker retries them). Rejects only when nothing
   * could be tried: the client is not bound, or no SMSC could take the message as it is.
   */
  submitParts(request: SubmitRequest): Promise<PartsResult> {
    if (this.state !== 'bound') {
      return Promise.reject(
        new SmppSubmitError('disconnected', `SMPP client is ${this.state}, not bound`),
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
    return this.window.enqueue(plan, indexes)
  }

  /**
   * Refuses new submits and drops queued parts ('disconnected'), waits up to graceMs for the
   * responses of parts already sent, unbinds and closes. Resolves once the socket is closed.
   */
  stop(graceMs = 0): Promise<void> {
    if (this.stopping) return this.stopping
    if (this.state === 'idle' || this.state === 'stopped') {
      this.session.markStopped()
      return Promise.resolve()
    }
    this.stopping = this.shutdown(graceMs)
    return this.stopping
  }

  private async shutdown(graceMs: number): Promise<void> {
    this.session.beginStop()
    this.stopPaceTicks?.()
    this.stopPaceTicks = null
    this.window.dropAll('SMPP client stopping')
    await this.window.drained(graceMs)
    await this.session.close()
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
}
