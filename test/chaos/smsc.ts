import { SmscSimulator, STATUS, type ReceivedSubmit } from '../support/smsc/simulator'

const CLOSE_WAIT_MS = 5000

export const SMSC_CREDENTIALS = { systemId: 'mail2sms', password: 'secret' }

/**
 * The SMSC simulator, restartable on the same port: dropping it closes every session at once,
 * as a carrier's restart or a lost link would, and the next one takes over the port. What every
 * incarnation received is kept for the reconciliation.
 */
export class RestartableSmsc {
  private readonly past: SmscSimulator[] = []

  readonly port: number

  private constructor(private current: SmscSimulator | null) {
    this.port = current!.port
  }

  static async start(): Promise<RestartableSmsc> {
    return new RestartableSmsc(
      await SmscSimulator.start({ ...SMSC_CREDENTIALS, receiptDelayMs: 20 }),
    )
  }

  /** Closes every session and the listener, waits `downMs`, then listens again on the port. */
  async drop(downMs: number): Promise<void> {
    const old = this.current
    if (!old) return
    this.current = null
    this.past.push(old)
    // The listener is closed at once; the wait is for sessions to end, which must not stall the run.
    await Promise.race([old.close(), new Promise((r) => setTimeout(r, CLOSE_WAIT_MS))])
    await new Promise((r) => setTimeout(r, downMs))
    this.current = await SmscSimulator.start({
      ...SMSC_CREDENTIALS,
      receiptDelayMs: 20,
      port: this.port,
    })
  }

  /** Submits the SMSC took (it gave them an id), in every incarnation, answered or not. */
  acceptedSubmits(): ReceivedSubmit[] {
    return [...this.past, ...(this.current ? [this.current] : [])]
      .flatMap((s) => s.received)
      .filter((r) => r.status === STATUS.OK)
  }

  async close(): Promise<void> {
    await this.current?.close()
    this.current = null
  }
}
