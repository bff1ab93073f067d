// The parts of smpp@0.5.1 that Mail2SMS uses. The package ships no types; this follows its
// lib/smpp.js, lib/pdu.js and lib/defs.js as published.
declare module 'smpp' {
  import { EventEmitter } from 'node:events'
  import type { Server as NetServer, Socket } from 'node:net'

  /**
   * Mandatory parameters and TLVs by their SMPP names. Values are numbers, strings, Buffers, or
   * the objects the package's filters produce (`short_message` decodes to `{ message, udh? }`).
   */
  export type PduFields = Record<string, unknown>

  export class PDU {
    constructor(command: string, options?: PduFields)
    /** Parses a whole PDU, header included. */
    constructor(buffer: Buffer)
    /** The command name (`submit_sm`, `deliver_sm_resp`, ...) or `unknown`. */
    command: string
    command_id: number
    command_length: number
    command_status: number
    sequence_number: number;
    [field: string]: unknown
    isResponse(): boolean
    /** The matching `_resp` PDU with the same sequence number (generic_nack for unknown ones). */
    response(options?: PduFields): PDU
    toBuffer(): Buffer
    static fromBuffer(buffer: Buffer): PDU | false
    /** Larger PDUs make the reader throw (and stop reading that session for good). */
    static maxLength: number
  }

  export interface SessionOptions {
    host?: string
    port?: number
    /** An already connected socket, as the server side uses. */
    socket?: Socket
    tls?: boolean
    auto_enquire_link_period?: number
  }

  type PduCallback = (pdu: PDU) => void
  /** A command shortcut: builds the PDU from `options` and sends it; false if not writable. */
  type CommandShortcut = (
    options?: PduFields,
    responseCallback?: PduCallback,
    sendCallback?: PduCallback,
  ) => boolean

  export class Session extends EventEmitter {
    constructor(options: SessionOptions)
    socket: Socket
    /** Last sequence number handed out; send() assigns ++sequence to requests without one. */
    sequence: number
    /**
     * Writes `pdu`. Returns false, calling nothing, when the socket is not writable. The response
     * callback is kept until a response with the same sequence number arrives: never failed.
     */
    send(pdu: PDU, responseCallback?: PduCallback, sendCallback?: PduCallback): boolean
    close(callback?: () => void): void
    destroy(callback?: () => void): void
    pause(): void
    resume(): void
    bind_transceiver: CommandShortcut
    bind_transmitter: CommandShortcut
    bind_receiver: CommandShortcut
    submit_sm: CommandShortcut
    deliver_sm: CommandShortcut
    data_sm: CommandShortcut
    enquire_link: CommandShortcut
    unbind: CommandShortcut
    generic_nack: CommandShortcut
  }

  export class Server extends NetServer {
    sessions: Session[]
  }

  export function createServer(listener?: (session: Session) => void): Server
  export function createServer(options: object, listener?: (session: Session) => void): Server

  /** Starts connecting at once; the session emits 'connect', then 'pdu' and one event per command. */
  export function connect(options: SessionOptions, listener?: () => void): Session

  /** command_status values by ESME_* name. */
  export const errors: Readonly<Record<string, number>>

  export const consts: {
    readonly ESM_CLASS: Readonly<Record<string, number>>
    readonly MESSAGE_STATE: Readonly<Record<string, number>>
    readonly TON: Readonly<Record<string, number>>
    readonly NPI: Readonly<Record<string, number>>
    readonly ENCODING: Readonly<Record<string, number>>
    readonly REGISTERED_DELIVERY: Readonly<Record<string, number>>
  }
}
