import { EventEmitter } from 'node:events'
import type { SmppConfig } from '../config'
import type { SmppObserver } from '../ops/observers'
import { SmppClient, offerMo, type MoMessage, type PartOutcome } from '../smpp/client'
import type { DeliveryReceipt } from '../smpp/receipt'
import type { SmsSender } from '../smpp/submit'
import { encodeSms } from '../sms/segments'
import { asLogger, lineLogger, type Logger, type LogSink } from '../log'

export interface OutgoingSms {
  id: number
  /** The MX transaction that queued it, for the log. */
  trace?: string | null
  from: SmsSender
  /** E.164 */
  to: string
  text: string
  /** Concatenation reference, the same on every try of this SMS. */
  reference?: number
  /** 1-based parts settled on an earlier try: not sent again. */
  skipParts?: ReadonlySet<number>
}

/** What one try did: an outcome per part tried, and how many parts the SMS has in all. */
export interface SendResult {
  outcomes: PartOutcome[]
  parts: number
}

export interface TransportEvents {
  receipt: [DeliveryReceipt]
  /**
   * An SMS a phone sent to one of our numbers (SMPP only). The SMSC is answered when the promise
   * a listener returns settles: see MoListener in lib/smpp/mo-offer.ts.
   */
  mo: [MoMessage]
}

/** Where the worker hands SMS over: the carrier over SMPP, or the console. */
export interface SmsTransport extends EventEmitter<TransportEvents> {
  readonly name: string
  /** Whether send() can go out now (SMPP: bound). */
  readonly ready: boolean
  /** The carrier's cap, when there is one: submits per second, and submits awaiting an answer. */
  readonly rateLimit?: { perSecond: number; window: number }
  start(): void
  /**
   * Submits the parts not in skipParts and resolves with each one's outcome; rejects with
   * SmppSubmitError only when no part could be tried.
   */
  send(sms: OutgoingSms): Promise<SendResult>
  stop(graceMs: number): Promise<void>
}

export class SmppTransport extends EventEmitter<TransportEvents> implements SmsTransport {
  readonly name = 'smpp'
  readonly client: SmppClient
  readonly rateLimit?: { perSecond: number; window: number }

  get ready(): boolean {
    return this.client.state === 'bound'
  }

  constructor(
    config: SmppConfig,
    logger?: { info(m: string): void; warn(m: string): void; error(m: string): void },
    options: { moAckTimeoutMs?: number; observer?: SmppObserver } = {},
  ) {
    super()
    if (config.throughputPerSecond > 0)
      this.rateLimit = { perSecond: config.throughputPerSecond, window: config.window }
    this.client = new SmppClient({
      host: config.host,
      port: config.port,
      systemId: config.systemId,
      password: config.password,
      systemType: config.systemType || undefined,
      window: config.window,
      requestTimeoutMs: config.requestTimeoutMs,
      enquireLinkMs: config.enquireLinkMs,
      reconnectInitialMs: config.reconnectInitialMs,
      reconnectMaxMs: config.reconnectMaxMs,
      longSms: config.longSms,
      throughputPerSecond: config.throughputPerSecond,
      adaptiveRate: config.adaptiveRate,
      defaultAlphabet: config.defaultAlphabet,
      moAckTimeoutMs: options.moAckTimeoutMs,
      logger,
      observer: options.observer,
    })
    this.client.on('receipt', (r) => this.emit('receipt', r))
    // Returns the listeners' verdict, so that the client answers the SMSC once the MO is stored.
    const report = (err: Error) => logger?.error(`mo listener failed: ${err.stack}`)
    this.client.on('mo', (mo) => offerMo(this, mo, report))
  }

  start(): void {
    this.client.start()
  }

  async send(sms: OutgoingSms): Promise<SendResult> {
    const result = await this.client.submitParts({
      from: sms.from,
      to: sms.to,
      text: sms.text,
      requestReceipt: true,
      reference: sms.reference,
      skipParts: sms.skipParts,
    })
    return { outcomes: result.outcomes, parts: result.parts }
  }

  stop(graceMs: number): Promise<void> {
    return this.client.stop(graceMs)
  }
}

/**
 * The embedded default: prints each SMS and reports it sent, so a fresh install works end to
 * end with no carrier. There are no delivery receipts and no inbound SMS.
 */
export class ConsoleTransport extends EventEmitter<TransportEvents> implements SmsTransport {
  readonly name = 'console'
  readonly ready = true
  private count = 0
  private readonly log: Logger

  constructor(log?: LogSink) {
    super()
    this.log = asLogger(log, () => lineLogger((l) => console.log(l)))
  }

  start(): void {}

  async send(sms: OutgoingSms): Promise<SendResult> {
    const encoded = encodeSms(sms.text)
    const from =
      sms.from.type === 'alphanumeric'
        ? sms.from.name
        : sms.from.type === 'number'
          ? sms.from.number
          : '(carrier default)'
    this.log.info('sms.console', {
      trace: sms.trace ?? undefined,
      sms: sms.id,
      from,
      to: sms.to,
      encoding: encoded.encoding,
      segments: encoded.segments,
      text: sms.text,
    })
    const parts = Math.max(1, encoded.parts.length)
    const outcomes: PartOutcome[] = []
    for (let part = 1; part <= parts; part++) {
      if (!sms.skipParts?.has(part))
        outcomes.push({ part, messageId: `console-${sms.id}-${++this.count}` })
    }
    return { outcomes, parts }
  }

  async stop(): Promise<void> {}
}
