/**
 * Watches for submit_sm going unanswered in a row. An SMSC whose application hangs while its
 * link layer still answers enquire_link looks like this: after a window's worth of silence in a
 * row the session is dropped, since a new one is what usually gets such an SMSC going again.
 * It logs one line when timeouts start and one when answers come back, not one per part.
 */

import type { SmppConnection, SmppLogger } from './connection'

export interface UnansweredSubmitsOptions {
  requestTimeoutMs: number
  /** The client's window: this many timeouts in a row drop the session (at least 3). */
  window: number
  logger: SmppLogger
  /** The session's connection now: a timeout on an older one drops nothing. */
  currentLink(): SmppConnection | null
}

export class UnansweredSubmits {
  /** Submits without an answer in a row, and since when; null while the SMSC answers. */
  private silence: { count: number; since: number } | null = null

  constructor(private readonly options: UnansweredSubmitsOptions) {}

  /** A submit_sm sent on `link` got no answer in time. */
  timedOut(link: SmppConnection): void {
    const { requestTimeoutMs, window, logger } = this.options
    if (this.silence === null) {
      this.silence = { count: 0, since: Date.now() }
      logger.warn(`smpp submit_sm unanswered timeout_ms=${requestTimeoutMs}: timeouts started`)
    }
    this.silence.count++
    const limit = Math.max(3, window)
    if (this.silence.count % limit === 0 && this.options.currentLink() === link && !link.isClosed) {
      logger.warn(
        `smpp no answer to ${this.silence.count} submit_sm in a row while the link is up ` +
          `(the SMSC's application may be stuck): reconnecting`,
      )
      void link.destroy(`${this.silence.count} submit_sm unanswered`)
    }
  }

  /** A submit_sm got an answer, whatever its status. */
  answered(): void {
    if (this.silence === null) return
    const { count, since } = this.silence
    this.silence = null
    this.options.logger.info(
      `smpp submit_sm answered again: timeouts ended count=${count} duration_ms=${Date.now() - since}`,
    )
  }
}
