// The parts of Haraka's plugin API that our plugins use. Haraka ships no types.
declare module 'haraka' {
  export type Next = (code?: number, msg?: unknown) => void

  export interface Address {
    readonly address: string
    user: string | null
    host: string | null
    isNull(): boolean
  }

  export interface Results {
    add(plugin: unknown, result: Record<string, unknown>): void
  }

  export interface Notes {
    [key: string]: unknown
  }

  export interface MessageStream {
    get_data(cb: (data: Buffer) => void): void
    /** Called by the transaction with each line of DATA as received (dot-stuffed). */
    add_line(line: Buffer | string): unknown
    /** Headers set before the body arrived; get_data() writes them instead of the raw ones. */
    headers: unknown[]
    /** Set once the message outgrew memory (`spool_after`) and goes to a spool file. */
    spooling: boolean
    /** Ends the stream; removes the spool file. */
    destroy(): void
  }

  export interface Transaction {
    uuid: string
    notes: Notes
    results: Results
    mail_from: Address
    rcpt_to: Address[]
    message_stream: MessageStream
    data_bytes: number
  }

  export interface Connection {
    uuid: string
    remote: { ip: string; host?: string }
    hello: { host?: string; verb?: string }
    notes: Notes
    results: Results
    transaction: Transaction | null
    /** Haraka's socket wrapper; the TCP (or TLS) socket is its `targetsocket`. */
    client?: {
      targetsocket?: {
        setNoDelay?(on: boolean): unknown
        resume?(): unknown
        destroy?(): unknown
        once?(event: 'close', listener: () => void): unknown
      }
    }
    loginfo(plugin: unknown, msg: string): void
    /** A plain object's keys become the line's fields (Haraka's logfmt and json formats). */
    lognotice(plugin: unknown, msg: string | Record<string, unknown>): void
    logwarn(plugin: unknown, msg: string): void
    logerror(plugin: unknown, msg: string): void
  }

  export interface Server {
    notes: Notes
    /** node:cluster, set when smtp.ini nodes > 0 (master and workers). */
    cluster?: unknown
  }

  export interface Plugin {
    name: string
    timeout: number
    /** priority: -100 (first) to 100 (last), 0 by default; then the order of config/plugins. */
    register_hook(hook: string, method: string, priority?: number): void
    /** One of Haraka's own modules (`logger`, …), as its plugins load them. */
    haraka_require(name: string): unknown
    loginfo(msg: string): void
    lognotice(msg: string): void
    logwarn?(msg: string): void
    logerror(msg: string): void
  }
}
