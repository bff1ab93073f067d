import { randomInt } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServer, PDU, type PduFields, type Server, type Session } from 'smpp'
import { captureRawPdus, parseShortMessagePdu } from './pdu'
import { MESSAGE_STATE, receiptText, type ReceiptStat } from './receipt'
import {
  concatKey,
  reassemble,
  submitText,
  toReceivedSubmit,
  type ReassembledMessage,
  type ReceivedSubmit,
} from './received'
import { moParts, type MoMessage } from './mo'

export type { ReassembledMessage, ReceivedSubmit } from './received'
export type { ReceiptStat } from './receipt'
export type { MoMessage } from './mo'

export const STATUS = {
  OK: 0x00,
  INVALID_MESSAGE_LENGTH: 0x01,
  INVALID_COMMAND_ID: 0x03,
  INVALID_BIND_STATUS: 0x04,
  ALREADY_BOUND: 0x05,
  INVALID_DEST_ADDR: 0x0b,
  BIND_FAILED: 0x0d,
  INVALID_PASSWORD: 0x0e,
  INVALID_SYSTEM_ID: 0x0f,
  MESSAGE_QUEUE_FULL: 0x14,
  THROTTLED: 0x58,
  INVALID_TLV_VALUE: 0xc4,
} as const

export type IdFormat = 'hex' | 'decimal'
export type ReceiptStyle = 'tlv+text' | 'text-only'
/** Final state of the message to `dest`; null sends no receipt at all. */
export type ReceiptRule = (dest: string) => ReceiptStat | null

export interface SmscSimulatorOptions {
  systemId: string
  password: string
  /** 0 (the default) picks a free port. The simulator listens on 127.0.0.1 only. */
  port?: number
  /** Form of message ids: `a1b2c3d4` or `1234567890`. Default hex. */
  idFormat?: IdFormat
  /** Time from submit_sm_resp to the receipt. Default 50. */
  receiptDelayMs?: number
  /** One receipt per part (true) or one for the last part once all have arrived (default). */
  receiptPerSegment?: boolean
  /** Receipt text plus receipted_message_id and message_state TLVs (default), or text only. */
  receiptStyle?: ReceiptStyle
  /** When set, the simulator sends enquire_link to each bound session this often. */
  enquireLinkMs?: number
}

export interface SentReceipt {
  messageId: string
  /** The handset the message went to (the receipt's source_addr). */
  dest: string
  stat: ReceiptStat
  text: string
  sessionId: number
  at: number
}

export interface DeliverResponse {
  kind: 'receipt' | 'mo'
  messageId?: string
  /** For an MO part: its source_addr and short_message, as sent. */
  sourceAddr?: string
  shortMessage?: Buffer
  commandStatus: number
  sessionId: number
  at: number
}

type BindKind = 'transceiver' | 'transmitter' | 'receiver'

interface Delivery {
  kind: 'receipt' | 'mo'
  fields: PduFields
  receipt?: SentReceipt
  settle?: (error: Error | null, commandStatus?: number) => void
}

interface SessionState {
  id: number
  session: Session
  bound: BindKind | null
  open: boolean
  /** Submits received on this session and not yet answered. */
  unanswered: Set<ReceivedSubmit>
  /** deliver_sm sent and not yet acknowledged, by sequence number. */
  deliveries: Map<number, Delivery>
  enquireTimer?: NodeJS.Timeout
}

const REGISTERED_RECEIPT_MASK = 0x03
const ESM_CLASS_RECEIPT = 0x04

/**
 * An SMSC for tests and benchmarks, over the same `smpp` package the worker uses but on the
 * server side: it checks binds, answers submit_sm with ids, records the octets it got, sends
 * delivery receipts and MO messages, and can be told to throttle, fail, stall or drop.
 */
export class SmscSimulator extends EventEmitter {
  /** Every submit_sm from a bound transmitter or transceiver, in order of arrival. */
  readonly received: ReceivedSubmit[] = []
  /** Every receipt written to a session (a receipt redelivered after a lost session twice). */
  readonly receipts: SentReceipt[] = []
  readonly deliverResponses: DeliverResponse[] = []
  /** Successful binds, ever. */
  binds = 0
  bindFailures = 0
  /** TCP connections accepted, ever. */
  sessions = 0
  /** Submits received and not yet answered, across sessions, now and at most. */
  outstanding = 0
  maxOutstanding = 0
  enquireLinksReceived = 0
  /** unbind requests received from ESMEs. */
  unbindsReceived = 0
  enquireLinkResponses = 0

  private readonly server: Server
  private readonly options: Required<Omit<SmscSimulatorOptions, 'port' | 'enquireLinkMs'>> &
    Pick<SmscSimulatorOptions, 'enquireLinkMs'>
  private readonly states = new Set<SessionState>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly idBase: number
  private idCount = 0
  private moRef = randomInt(256)
  private receiptRule: ReceiptRule = () => 'DELIVRD'
  private throttleCount = 0
  private throttleStatus: number = STATUS.THROTTLED
  private failCount = 0
  private failStatus: number = STATUS.INVALID_DEST_ADDR
  private responseDelayMs = 0
  private holding = false
  private held: Array<() => void> = []
  private dropCountdown: number | null = null
  private refusingBinds = false
  private closing = false
  /** Receipts waiting for a receiver or transceiver to bind. */
  private pendingReceipts: Delivery[] = []
  /** Parts of concatenated messages seen so far, when one receipt covers all parts. */
  private readonly partsSeen = new Map<string, Map<number, ReceivedSubmit>>()

  private constructor(options: SmscSimulatorOptions) {
    super()
    this.setMaxListeners(0)
    this.options = {
      systemId: options.systemId,
      password: options.password,
      idFormat: options.idFormat ?? 'hex',
      receiptDelayMs: options.receiptDelayMs ?? 50,
      receiptPerSegment: options.receiptPerSegment ?? false,
      receiptStyle: options.receiptStyle ?? 'tlv+text',
      enquireLinkMs: options.enquireLinkMs,
    }
    // A random base keeps ids apart between simulators that share one test database.
    this.idBase =
      this.options.idFormat === 'hex'
        ? 0xa0000000 + randomInt(0x10000000)
        : 1_000_000_000 + randomInt(1_000_000_000)
    this.server = createServer((session) => this.accept(session))
  }

  static async start(options: SmscSimulatorOptions): Promise<SmscSimulator> {
    const simulator = new SmscSimulator(options)
    await new Promise<void>((resolve, reject) => {
      simulator.server.once('error', reject)
      simulator.server.listen(options.port ?? 0, '127.0.0.1', () => {
        simulator.server.off('error', reject)
        resolve()
      })
    })
    return simulator
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** Sessions open and bound now. */
  get activeSessions(): number {
    return [...this.states].filter((state) => state.open && state.bound !== null).length
  }

  messagesTo(dest: string): ReassembledMessage[] {
    return reassemble(this.received.filter((submit) => submit.destAddr === dest))
  }

  messages(): ReassembledMessage[] {
    return reassemble(this.received)
  }

  /** Resolves once `condition` holds, re-checking after every change of state. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve()
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition()) return
        this.off('change', check)
        resolve()
      }
      this.on('change', check)
    })
  }

  setReceiptRule(rule: ReceiptRule): void {
    this.receiptRule = rule
  }

  /** Answers the next `n` submit_sm with `status` (ESME_RTHROTTLED by default). */
  throttleNext(n: number, status: number = STATUS.THROTTLED): void {
    this.throttleCount = n
    this.throttleStatus = status
  }

  /** Answers the next `n` submit_sm with `status`, after any throttling asked for. */
  failNext(n: number, status: number): void {
    this.failCount = n
    this.failStatus = status
  }

  /** Delays each later submit_sm_resp by `ms`; 0 answers at once again. */
  delayResponses(ms: number): void {
    this.responseDelayMs = ms
  }

  /** Keeps every submit_sm_resp back until releaseResponses(). */
  holdResponses(): void {
    this.holding = true
  }

  releaseResponses(): void {
    this.holding = false
    const held = this.held
    this.held = []
    for (const answer of held) answer()
  }

  /** The `n`th submit_sm from now is not answered: its socket is destroyed instead. */
  dropConnectionsAfter(nSubmits: number): void {
    this.dropCountdown = nSubmits
  }

  /** Cuts every session, as a network failure would: what was not answered is kept. */
  dropSessions(): void {
    for (const state of this.states) state.session.socket.destroy()
  }

  refuseBinds(refuse: boolean): void {
    this.refusingBinds = refuse
  }

  /**
   * Sends an MO message to the first bound receiver or transceiver, as one deliver_sm per part.
   * Resolves with the command_status of each deliver_sm_resp (the last one, with `redeliver`).
   *
   * With `redeliver`, a part answered with an error, or whose session closed before it was
   * answered, is sent again, the same octets, after `afterMs` (on whichever session is bound
   * then), as an SMSC does, until it is answered 0 or `attempts` deliveries were made.
   */
  injectMo(
    mo: MoMessage,
    options: { redeliver?: { afterMs: number; attempts: number } } = {},
  ): Promise<number[]> {
    const state = this.receiverSession()
    if (!state) return Promise.reject(new Error('no receiver or transceiver is bound'))
    const attempts = options.redeliver?.attempts ?? 1
    const afterMs = options.redeliver?.afterMs ?? 0
    const deliveries = moParts(mo, this.moRef++ & 0xff).map(
      (fields) =>
        new Promise<number>((resolve, reject) => {
          let made = 0
          const attempt = (target: SessionState | undefined): void => {
            made++
            if (!target) return settle(new Error('no receiver or transceiver is bound'))
            this.deliver(target, { kind: 'mo', fields, settle })
          }
          const again = () => this.later(afterMs, () => attempt(this.receiverSession()))
          const settle = (error: Error | null, status?: number): void => {
            if (error) return made >= attempts || this.closing ? reject(error) : again()
            if (status === STATUS.OK || made >= attempts) return resolve(status ?? 0)
            again()
          }
          attempt(state)
        }),
    )
    return Promise.all(deliveries)
  }

  async close(): Promise<void> {
    this.closing = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    this.held = []
    for (const state of this.states) {
      clearInterval(state.enquireTimer)
      for (const delivery of state.deliveries.values()) {
        delivery.settle?.(new Error('SMSC simulator closed'))
      }
      state.deliveries.clear()
      state.session.destroy()
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(session: Session): void {
    session.socket.setNoDelay(true)
    const state: SessionState = {
      id: ++this.sessions,
      session,
      bound: null,
      open: true,
      unanswered: new Set(),
      deliveries: new Map(),
    }
    this.states.add(state)
    captureRawPdus(session, (pdu, raw) => this.dispatch(state, pdu, raw))
    session.on('error', () => session.destroy())
    session.on('close', () => this.closed(state))
    this.changed()
  }

  private dispatch(state: SessionState, pdu: PDU, raw: Buffer): void {
    switch (pdu.command) {
      case 'bind_transceiver':
        return this.bind(state, pdu, 'transceiver')
      case 'bind_transmitter':
        return this.bind(state, pdu, 'transmitter')
      case 'bind_receiver':
        return this.bind(state, pdu, 'receiver')
      case 'submit_sm':
        return this.submit(state, pdu, raw)
      case 'enquire_link':
        this.enquireLinksReceived++
        state.session.send(pdu.response())
        return this.changed()
      case 'unbind':
        this.unbindsReceived++
        state.bound = null
        state.session.send(pdu.response(), undefined, () => state.session.close())
        return this.changed()
      default:
        // Responses are matched by the session's callbacks; other requests are not supported.
        if (!pdu.isResponse()) {
          const nack = { sequence_number: pdu.sequence_number }
          state.session.send(
            new PDU('generic_nack', { ...nack, command_status: STATUS.INVALID_COMMAND_ID }),
          )
        }
    }
  }

  private bind(state: SessionState, pdu: PDU, kind: BindKind): void {
    const status =
      state.bound !== null
        ? STATUS.ALREADY_BOUND
        : this.refusingBinds
          ? STATUS.BIND_FAILED
          : pdu.system_id !== this.options.systemId
            ? STATUS.INVALID_SYSTEM_ID
            : pdu.password !== this.options.password
              ? STATUS.INVALID_PASSWORD
              : STATUS.OK
    if (status !== STATUS.OK) {
      this.bindFailures++
      state.session.send(pdu.response({ command_status: status }))
      return this.changed()
    }
    state.bound = kind
    this.binds++
    state.session.send(pdu.response({ system_id: 'SMSCSIM' }))
    if (this.options.enquireLinkMs) {
      state.enquireTimer = setInterval(() => {
        state.session.send(new PDU('enquire_link'), () => {
          this.enquireLinkResponses++
          this.changed()
        })
      }, this.options.enquireLinkMs)
    }
    if (kind !== 'transmitter') {
      const pending = this.pendingReceipts
      this.pendingReceipts = []
      for (const delivery of pending) this.deliver(state, delivery)
    }
    this.changed()
  }

  private submit(state: SessionState, pdu: PDU, raw: Buffer): void {
    if (state.bound !== 'transmitter' && state.bound !== 'transceiver') {
      state.session.send(pdu.response({ command_status: STATUS.INVALID_BIND_STATUS }))
      return
    }
    let parsed
    try {
      parsed = parseShortMessagePdu(raw)
    } catch {
      state.session.send(pdu.response({ command_status: STATUS.INVALID_MESSAGE_LENGTH }))
      return
    }
    const record: ReceivedSubmit = {
      messageId: null,
      status: null,
      answered: false,
      ...toReceivedSubmit(parsed, state.id),
    }
    this.received.push(record)
    if (this.dropCountdown !== null && --this.dropCountdown <= 0) {
      this.dropCountdown = null
      state.session.destroy()
      this.emit('submit', record)
      return this.changed()
    }
    record.status = this.decideStatus(record)
    if (record.status === STATUS.OK) record.messageId = this.nextMessageId()
    state.unanswered.add(record)
    this.outstanding++
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding)
    this.emit('submit', record)
    this.changed()
    this.respond(state, pdu, record)
  }

  private decideStatus(record: ReceivedSubmit): number {
    if (this.throttleCount > 0) {
      this.throttleCount--
      return this.throttleStatus
    }
    if (this.failCount > 0) {
      this.failCount--
      return this.failStatus
    }
    if (record.destAddr === '') return STATUS.INVALID_DEST_ADDR
    // SMPP 3.4 §5.3.2.32: short_message and message_payload must not both carry data.
    if (record.messagePayload && record.shortMessage.length > 0) return STATUS.INVALID_TLV_VALUE
    return STATUS.OK
  }

  private respond(state: SessionState, pdu: PDU, record: ReceivedSubmit): void {
    const answer = (): void => {
      if (!state.unanswered.delete(record)) return
      this.outstanding--
      state.session.send(
        record.status === STATUS.OK
          ? pdu.response({ message_id: record.messageId })
          : pdu.response({ command_status: record.status }),
      )
      record.answered = true
      if (record.status === STATUS.OK) this.considerReceipt(record)
      this.changed()
    }
    if (this.holding) this.held.push(answer)
    else if (this.responseDelayMs > 0) this.later(this.responseDelayMs, answer)
    else answer()
  }

  private nextMessageId(): string {
    const id = this.idBase + ++this.idCount
    return this.options.idFormat === 'hex' ? id.toString(16) : String(id)
  }

  /** Schedules the receipt an accepted submit asked for, following the receipt options. */
  private considerReceipt(record: ReceivedSubmit): void {
    const wanted = record.registeredDelivery & REGISTERED_RECEIPT_MASK
    if (wanted === 0) return
    let parts = [record]
    const key = concatKey(record)
    if (key !== null && !this.options.receiptPerSegment) {
      const concat = (record.udh ?? record.sar)!
      const seen = this.partsSeen.get(key) ?? new Map<number, ReceivedSubmit>()
      seen.set(concat.seq, record)
      this.partsSeen.set(key, seen)
      if (seen.size < concat.total) return
      this.partsSeen.delete(key)
      parts = [...seen.entries()].sort(([a], [b]) => a - b).map(([, part]) => part)
    }
    const last = parts[parts.length - 1]
    const stat = this.receiptRule(last.destAddr)
    if (stat === null) return
    // 1: always; 2: on failure only; 3 (SMPP 5.0): on success only.
    if ((wanted === 2 && stat === 'DELIVRD') || (wanted === 3 && stat !== 'DELIVRD')) return
    const text = receiptText({
      messageId: last.messageId!,
      stat,
      submittedAt: new Date(parts[0].at),
      doneAt: new Date(),
      text: parts.map(submitText).join(''),
    })
    const tlvs =
      this.options.receiptStyle === 'tlv+text'
        ? { receipted_message_id: last.messageId, message_state: MESSAGE_STATE[stat] }
        : {}
    const delivery: Delivery = {
      kind: 'receipt',
      fields: {
        source_addr_ton: last.destTon,
        source_addr_npi: last.destNpi,
        source_addr: last.destAddr,
        dest_addr_ton: last.sourceTon,
        dest_addr_npi: last.sourceNpi,
        destination_addr: last.sourceAddr,
        esm_class: ESM_CLASS_RECEIPT,
        data_coding: 0,
        short_message: Buffer.from(text, 'latin1'),
        ...tlvs,
      },
      receipt: {
        messageId: last.messageId!,
        dest: last.destAddr,
        stat,
        text,
        sessionId: 0,
        at: 0,
      },
    }
    this.later(this.options.receiptDelayMs, () => {
      const target = this.receiverSession(last.sessionId)
      if (target) this.deliver(target, delivery)
      else this.pendingReceipts.push(delivery)
    })
  }

  /** The session `preferredId` if it can receive, else the first session that can. */
  private receiverSession(preferredId?: number): SessionState | undefined {
    const receivers = [...this.states].filter(
      (state) => state.open && (state.bound === 'receiver' || state.bound === 'transceiver'),
    )
    return receivers.find((state) => state.id === preferredId) ?? receivers[0]
  }

  private deliver(state: SessionState, delivery: Delivery): void {
    const pdu = new PDU('deliver_sm', { ...delivery.fields })
    const sent = state.session.send(pdu, (response) => {
      state.deliveries.delete(pdu.sequence_number)
      this.deliverResponses.push({
        kind: delivery.kind,
        messageId: delivery.receipt?.messageId,
        ...(delivery.kind === 'mo' && {
          sourceAddr: String(delivery.fields.source_addr),
          shortMessage: delivery.fields.short_message as Buffer,
        }),
        commandStatus: response.command_status,
        sessionId: state.id,
        at: Date.now(),
      })
      delivery.settle?.(null, response.command_status)
      this.changed()
    })
    if (!sent) {
      // The socket is gone even if its close event has not come yet: no more deliveries here.
      state.open = false
      return this.undelivered(delivery)
    }
    state.deliveries.set(pdu.sequence_number, delivery)
    if (delivery.receipt) {
      const receipt = { ...delivery.receipt, sessionId: state.id, at: Date.now() }
      this.receipts.push(receipt)
      this.emit('receipt', receipt)
    }
    this.changed()
  }

  /** A receipt the ESME never acknowledged is kept for redelivery, as an SMSC stores it. */
  private undelivered(delivery: Delivery): void {
    if (delivery.kind === 'mo') return delivery.settle?.(new Error('session closed before MO ack'))
    const target = this.receiverSession()
    if (target) this.deliver(target, delivery)
    else this.pendingReceipts.push(delivery)
  }

  private closed(state: SessionState): void {
    state.open = false
    clearInterval(state.enquireTimer)
    this.states.delete(state)
    this.outstanding -= state.unanswered.size
    // Accepted but unanswered: the SMSC has the message and delivers it anyway.
    for (const record of state.unanswered) {
      if (record.status === STATUS.OK) this.considerReceipt(record)
    }
    state.unanswered.clear()
    const deliveries = [...state.deliveries.values()]
    state.deliveries.clear()
    for (const delivery of deliveries) this.undelivered(delivery)
    this.changed()
  }

  private later(ms: number, action: () => void): void {
    if (this.closing) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      action()
    }, ms)
    this.timers.add(timer)
  }

  private changed(): void {
    this.emit('change')
  }
}
