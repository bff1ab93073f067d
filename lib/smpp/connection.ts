/**
 * One TCP session to the SMSC over smpp@0.5.1, from connect to close.
 *
 * The package matches responses to callbacks but never fails a callback, has no timeouts, and
 * stops reading for good if a listener throws inside its read loop. So this class keeps its own
 * table of requests by sequence number, each with a timer, fails all of them when the socket
 * closes, and never lets an exception reach the package. It answers what the SMSC asks
 * (enquire_link and unbind at once; a deliver_sm when its listener says how) and sends
 * enquire_link when the link is quiet. The reconnect policy belongs to the client: a connection
 * is used once.
 *
 * Log lines start with "smpp " and are key=value. A closed socket is logged once, with its
 * reason: as a warning unless the owner asked for it. A request without an answer and a refused
 * bind are not logged here: the owner sees them fail, and can report a burst as one line.
 */

import { EventEmitter } from 'node:events'
import { PDU, connect, type PduFields, type Session } from 'smpp'
import { DELIVER_SM_ID, parseDeliverSm, type DeliverSm } from './deliver'
import { statusName } from './status'

export interface SmppLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** A log value as is when it is one word, else quoted (JSON), so a line stays key=value. */
export function logValue(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)
}

export interface ConnectionOptions {
  host: string
  port: number
  requestTimeoutMs: number
  enquireLinkMs: number
  logger: SmppLogger
}

export interface BindCredentials {
  systemId: string
  password: string
  systemType?: string
}

/** A request that got no response: its timer ran out, or the connection closed first. */
export class RequestError extends Error {
  constructor(
    readonly kind: 'timeout' | 'disconnected',
    message: string,
  ) {
    super(message)
    this.name = 'RequestError'
  }
}

/** The bind did not succeed; `status` is set when the SMSC answered with an error. */
export class BindError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message)
    this.name = 'BindError'
  }
}

/**
 * Sends the deliver_sm_resp with this command_status. Only the first call counts; once the
 * session has closed it does nothing (the SMSC redelivers what it got no answer for). True
 * when this call wrote the answer on the socket.
 */
export type DeliverResponder = (commandStatus: number) => boolean

export interface ConnectionEvents {
  /** A deliver_sm read from its own bytes; the listener must call `respond` exactly once. */
  deliver: [DeliverSm, respond: DeliverResponder]
  /** A deliver_sm our parser refused; already acknowledged. The PDU is the package's reading. */
  unparsedDeliver: [PDU, Error]
  close: [reason: string]
}

interface Pending {
  command: string
  timer: NodeJS.Timeout
  resolve: (pdu: PDU) => void
  reject: (err: Error) => void
}

const SMPP_VERSION_3_4 = 0x34
const ESME_RINVCMDID = 0x03
/** "Temporary application error": the SMSC keeps the deliver_sm and redelivers it later. */
export const ESME_RX_T_APPN = 0x64

export class SmppConnection extends EventEmitter<ConnectionEvents> {
  private session: Session | null = null
  private readonly pending = new Map<number, Pending>()
  private idleTimer: NodeJS.Timeout | null = null
  private connectTimer: NodeJS.Timeout | null = null
  private closed = false
  private closeReason: string | null = null
  private closedByOwner = false
  private connected = false
  private lastRead: Buffer | null = null
  /** The socket holds writes until the end of this tick (see write()). */
  private corked = false
  private readonly closedPromise: Promise<void>
  private markClosed: () => void = () => {}

  constructor(private readonly options: ConnectionOptions) {
    super()
    this.closedPromise = new Promise((resolve) => (this.markClosed = resolve))
  }

  get isClosed(): boolean {
    return this.closed
  }

  /** Connects, sets TCP_NODELAY and binds as transceiver. Rejects with BindError. */
  open(credentials: BindCredentials): Promise<void> {
    const { host, port, requestTimeoutMs } = this.options
    return new Promise<void>((resolve, reject) => {
      this.once('close', (reason) => reject(new BindError(`connection closed: ${reason}`)))
      const session = connect({ host, port })
      this.session = session
      this.keepRawReads(session)
      session.on('error', (err: Error) => this.fail(err.message))
      session.socket.once('close', () => this.onClose())
      session.on('pdu', (pdu: PDU) => this.onPdu(pdu))
      this.connectTimer = setTimeout(() => this.fail('connect timed out'), requestTimeoutMs)
      session.once('connect', () => {
        if (this.connectTimer) clearTimeout(this.connectTimer)
        this.connected = true
        // Without it, Nagle holds each small PDU for the peer's delayed ACK (~40 ms).
        session.socket.setNoDelay(true)
        this.bind(credentials).then(resolve, reject)
      })
    })
  }

  private async bind(credentials: BindCredentials): Promise<void> {
    const response = await this.request(
      'bind_transceiver',
      {
        system_id: credentials.systemId,
        password: credentials.password,
        system_type: credentials.systemType ?? '',
        // The package would announce SMPP 5.0 (0x50); we speak 3.4.
        interface_version: SMPP_VERSION_3_4,
      },
      this.options.requestTimeoutMs,
    )
    if (response.command !== 'bind_transceiver_resp' || response.command_status !== 0) {
      const command =
        response.command === 'bind_transceiver_resp' ? '' : ` command=${response.command}`
      // Not logged here: the owner logs it once, with what it does next (retry or give up).
      throw new BindError(
        `bind refused${command} status=${statusName(response.command_status)}`,
        response.command_status,
      )
    }
    this.idleTimer = setTimeout(() => this.onIdle(), this.options.enquireLinkMs)
  }

  /** Sends a request and resolves with its response, whatever its command_status. */
  request(command: string, fields: PduFields, timeoutMs: number): Promise<PDU> {
    const session = this.session
    if (this.closed || session === null) {
      return Promise.reject(new RequestError('disconnected', `${command}: not connected`))
    }
    return new Promise<PDU>((resolve, reject) => {
      const pdu = new PDU(command, fields)
      if (!this.write(session, pdu)) {
        reject(new RequestError('disconnected', `${command}: connection not writable`))
        return
      }
      const sequence = pdu.sequence_number
      const timer = setTimeout(() => {
        this.pending.delete(sequence)
        reject(new RequestError('timeout', `${command} got no response in ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(sequence, { command, timer, resolve, reject })
    })
  }

  /** Sends unbind and waits for unbind_resp (or the timeout); never rejects. */
  async unbind(timeoutMs: number): Promise<void> {
    try {
      await this.request('unbind', {}, timeoutMs)
    } catch (err) {
      this.options.logger.warn(`smpp unbind unanswered error=${logValue((err as Error).message)}`)
    }
  }

  /** Ends the socket politely, destroys it if it has not closed after timeoutMs. */
  close(timeoutMs: number, reason = 'closed by us'): Promise<void> {
    this.noteReason(reason, true)
    return this.endSession(timeoutMs)
  }

  /** Drops the socket at once; pending requests fail 'disconnected'. */
  destroy(reason: string): Promise<void> {
    this.noteReason(reason, true)
    return this.dropSession()
  }

  /**
   * Sends a PDU through the package, which writes each one to the socket on its own: with
   * TCP_NODELAY that is a system call and a TCP segment per PDU, for us and for the SMSC. The
   * PDUs of one tick (the deliver_sm_resp to receipts read together, the submit_sm that refill
   * the window after a burst of answers) leave in one write at the end of the tick instead.
   * False when the socket is not writable.
   */
  private write(session: Session, pdu: PDU): boolean {
    if (!this.corked && session.socket.writable) {
      this.corked = true
      session.socket.cork()
      process.nextTick(() => {
        this.corked = false
        session.socket.uncork()
      })
    }
    return session.send(pdu) !== false
  }

  // The package reads a PDU as read(4) then read(length - 4) and keeps no bytes. Remembering the
  // last chunk it read gives the octets of the PDU it is about to emit.
  private keepRawReads(session: Session): void {
    const socket = session.socket
    const read = socket.read.bind(socket)
    socket.read = (size?: number): Buffer | null => {
      const chunk = read(size) as Buffer | null
      if (chunk !== null) this.lastRead = chunk
      return chunk
    }
  }

  private rawPdu(pdu: PDU): Buffer | null {
    const body = this.lastRead
    if (
      body === null ||
      body.length + 4 !== pdu.command_length ||
      body.readUInt32BE(0) !== pdu.command_id ||
      body.readUInt32BE(8) !== pdu.sequence_number
    ) {
      return null
    }
    const head = Buffer.alloc(4)
    head.writeUInt32BE(pdu.command_length, 0)
    return Buffer.concat([head, body])
  }

  private onPdu(pdu: PDU): void {
    this.idleTimer?.refresh()
    try {
      if (pdu.isResponse()) this.onResponse(pdu)
      else this.onRequest(pdu)
    } catch (err) {
      // An exception here would stop the package's read loop for good.
      const error = err as Error
      this.options.logger.error(
        `smpp pdu handling failed command=${pdu.command} error=${logValue(error.stack ?? error.message)}`,
      )
    }
  }

  private onResponse(pdu: PDU): void {
    const pending = this.pending.get(pdu.sequence_number)
    if (pending === undefined) {
      // Typically a submit_sm_resp after its timeout: that SMS was taken, and a retry may
      // deliver it twice.
      this.options.logger.warn(
        `smpp late or unknown ${pdu.command} seq=${pdu.sequence_number} ` +
          `status=${statusName(pdu.command_status)} message_id=${logValue(String(pdu.message_id ?? ''))}`,
      )
      return
    }
    this.pending.delete(pdu.sequence_number)
    clearTimeout(pending.timer)
    pending.resolve(pdu)
  }

  private onRequest(pdu: PDU): void {
    const session = this.session
    if (session === null) return
    switch (pdu.command) {
      case 'deliver_sm':
        this.onDeliver(pdu, this.responder(pdu))
        return
      case 'enquire_link':
        this.write(session, pdu.response())
        return
      case 'unbind':
        this.options.logger.info('smpp unbind received from=SMSC')
        this.write(session, pdu.response())
        this.noteReason('unbound by SMSC', false)
        void this.endSession(this.options.requestTimeoutMs)
        return
      case 'alert_notification':
        return
      default:
        this.write(
          session,
          new PDU('generic_nack', {
            sequence_number: pdu.sequence_number,
            command_status: ESME_RINVCMDID,
          }),
        )
    }
  }

  private responder(pdu: PDU): DeliverResponder {
    let answered = false
    return (commandStatus) => {
      if (answered) return false
      answered = true
      const session = this.session
      if (this.closed || session === null) return false
      try {
        return this.write(session, pdu.response({ command_status: commandStatus }))
      } catch (err) {
        // Called from promise callbacks: a socket gone bad must not become an unhandled error.
        this.options.logger.warn(
          `smpp deliver_sm_resp unsent error=${logValue((err as Error).message)}`,
        )
        return false
      }
    }
  }

  private onDeliver(pdu: PDU, respond: DeliverResponder): void {
    const raw = pdu.command_id === DELIVER_SM_ID ? this.rawPdu(pdu) : null
    let deliver: DeliverSm | null = null
    let unreadable: Error | null = raw === null ? new Error('deliver_sm octets not captured') : null
    if (raw !== null) {
      try {
        deliver = parseDeliverSm(raw)
      } catch (err) {
        unreadable = err as Error
      }
    }
    if (deliver === null) {
      // Acknowledged all the same: a PDU we cannot read would come back forever.
      respond(0)
      this.emit('unparsedDeliver', pdu, unreadable ?? new Error('deliver_sm not parsed'))
      return
    }
    try {
      if (!this.emit('deliver', deliver, respond)) respond(0)
    } catch (err) {
      // The listener may not have stored it: have the SMSC try again later.
      respond(ESME_RX_T_APPN)
      throw err
    }
  }

  private onIdle(): void {
    this.request('enquire_link', {}, this.options.requestTimeoutMs).catch((err: RequestError) => {
      if (err.kind === 'timeout') this.fail('enquire_link not answered')
    })
  }

  // The first reason given is the one reported: a close we start after the SMSC dropped us is
  // still the SMSC's doing.
  private noteReason(reason: string, byOwner: boolean): void {
    if (this.closeReason !== null) return
    this.closeReason = reason
    this.closedByOwner = byOwner
  }

  private fail(reason: string): void {
    this.noteReason(reason, false)
    void this.dropSession()
  }

  private endSession(timeoutMs: number): Promise<void> {
    if (this.closed || this.session === null) return this.closedPromise
    const timer = setTimeout(() => void this.dropSession(), timeoutMs)
    this.session.close()
    return this.closedPromise.finally(() => clearTimeout(timer))
  }

  private dropSession(): Promise<void> {
    if (this.session === null) this.onClose()
    else this.session.destroy()
    return this.closedPromise
  }

  private onClose(): void {
    if (this.closed) return
    this.closed = true
    if (this.idleTimer) clearTimeout(this.idleTimer)
    if (this.connectTimer) clearTimeout(this.connectTimer)
    const reason = this.closeReason ?? 'closed by SMSC'
    // A connect that failed is the owner's to report, with what it will do next.
    if (this.connected) {
      const { host, port } = this.options
      const line = `smpp connection closed host=${host}:${port} reason=${logValue(reason)}`
      if (this.closedByOwner) this.options.logger.info(line)
      else this.options.logger.warn(line)
    }
    for (const [sequence, pending] of this.pending) {
      clearTimeout(pending.timer)
      this.pending.delete(sequence)
      pending.reject(new RequestError('disconnected', `${pending.command}: ${reason}`))
    }
    this.markClosed()
    this.emit('close', reason)
  }
}
