/**
 * Keeps one bound transceiver session to the SMSC: connects and binds, and when the connection
 * is lost or the bind fails, tries again with backoff until stopped. A connection
 * (lib/smpp/connection.ts) is used once; this is where the next one is made.
 */

import type { PDU } from 'smpp'
import { BindError, SmppConnection, type DeliverResponder, type SmppLogger } from './connection'
import type { DeliverSm } from './deliver'

export type SmppClientState = 'idle' | 'connecting' | 'bound' | 'stopping' | 'stopped'

export interface SessionSettings {
  host: string
  port: number
  systemId: string
  password: string
  systemType?: string
  requestTimeoutMs: number
  enquireLinkMs: number
  reconnectInitialMs: number
  reconnectMaxMs: number
}

/** What the owner hears from the session; called from socket and timer callbacks. */
export interface SessionHooks {
  stateChanged(state: SmppClientState): void
  bound(): void
  /** The connection closed; `wasBound` when it had been bound (else a connect or bind failed). */
  lost(reason: string, wasBound: boolean): void
  deliver(deliver: DeliverSm, respond: DeliverResponder): void
  unparsedDeliver(pdu: PDU, err: Error): void
}

export class SessionKeeper {
  private currentState: SmppClientState = 'idle'
  private currentLink: SmppConnection | null = null
  private linkBound = false
  private reconnectTimer: NodeJS.Timeout | null = null
  private attempts = 0

  constructor(
    private readonly settings: SessionSettings,
    private readonly logger: SmppLogger,
    private readonly hooks: SessionHooks,
  ) {}

  get state(): SmppClientState {
    return this.currentState
  }

  /** The connection, bound or on its way, until it closes. */
  get link(): SmppConnection | null {
    return this.currentLink
  }

  /** The connection while the session is bound and not stopping, else null. */
  boundLink(): SmppConnection | null {
    return this.currentState === 'bound' ? this.currentLink : null
  }

  /** Connects and binds, then keeps the session up until stopping. */
  start(): void {
    this.setState('connecting')
    this.attempts = 0
    this.connect()
  }

  /** From now on nothing reconnects, and the session counts as stopping. */
  beginStop(): void {
    this.setState('stopping')
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer)
    this.reconnectTimer = null
  }

  /** Unbinds and closes the connection (or drops one not bound yet); the session is stopped. */
  async close(): Promise<void> {
    const link = this.currentLink
    const { requestTimeoutMs, host, port } = this.settings
    if (link !== null) {
      if (this.linkBound && !link.isClosed) {
        await link.unbind(requestTimeoutMs)
        await link.close(requestTimeoutMs, 'client stopped')
      } else {
        await link.destroy('client stopped')
      }
    }
    this.setState('stopped')
    this.logger.info(`smpp stopped host=${host}:${port}`)
  }

  /** Stopped without having run (or already stopped). */
  markStopped(): void {
    this.setState('stopped')
  }

  private setState(state: SmppClientState): void {
    if (state === this.currentState) return
    this.currentState = state
    this.hooks.stateChanged(state)
  }

  private connect(): void {
    this.reconnectTimer = null
    const { host, port, requestTimeoutMs, enquireLinkMs, systemId } = this.settings
    const link = new SmppConnection({
      host,
      port,
      requestTimeoutMs,
      enquireLinkMs,
      logger: this.logger,
    })
    this.currentLink = link
    link.on('deliver', (deliver, respond) => this.hooks.deliver(deliver, respond))
    link.on('unparsedDeliver', (pdu, err) => this.hooks.unparsedDeliver(pdu, err))
    link.once('close', (reason) => this.onLinkClose(link, reason))
    link
      .open({ systemId, password: this.settings.password, systemType: this.settings.systemType })
      .then(
        () => {
          if (this.currentLink !== link || this.currentState !== 'connecting') return
          this.linkBound = true
          this.setState('bound')
          this.attempts = 0
          this.logger.info(`smpp bound host=${host}:${port} system_id=${systemId}`)
          this.hooks.bound()
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
    if (this.currentLink !== link) return
    this.currentLink = null
    const wasBound = this.linkBound
    this.linkBound = false
    // The connection logged the close and its reason, as a warning unless we asked for it.
    this.hooks.lost(reason, wasBound)
    if (this.currentState === 'stopping' || this.currentState === 'stopped') return
    this.setState('connecting')
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    const { reconnectInitialMs, reconnectMaxMs } = this.settings
    const ceiling = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** Math.min(this.attempts, 30))
    this.attempts++
    // Half fixed, half random: many workers restarted together do not reconnect in step.
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
    this.logger.info(`smpp reconnecting in_ms=${delay} attempt=${this.attempts}`)
    this.reconnectTimer = setTimeout(() => this.connect(), delay)
  }
}
