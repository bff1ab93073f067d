/**
 * Takes MO messages from the SMPP client and stores them: each part through acceptMoPart, and
 * now and then a sweep for sets that completed without being stored or went stale.
 *
 * The SMSC gets its deliver_sm_resp only once the part is committed (see MoListener): receive()
 * resolves true then, and false when the database refused it or the receiver is stopping, so
 * that the SMSC keeps the SMS and redelivers it later. No retry is needed here.
 *
 * Once the client has written status 0 (MoMessage.acknowledged), the SMS's held key is released
 * (redelivery.ts): an identical MO after that is a new SMS. Identical MO that arrive together
 * are taken one after the other, each once the one before has its answer, so that a second
 * "OK" is not taken for a redelivery of a first one still being answered.
 */

import type { Db } from '../db/connection'
import { releaseInboundKey } from '../db/inbound'
import type { MoMessage } from '../smpp/client'
import { DEFAULT_STALE_AFTER_MS, acceptMoPart, sweepParts } from './assembly'
import { readMoPart, type DefaultAlphabet } from './decode'
import type { IntakeLog, IntakeResult } from './intake'
import { partKey } from './redelivery'

export interface MoReceiverOptions {
  db: Db
  log?: IntakeLog
  clock?: () => number
  /** An incomplete long SMS older than this is stored with what came. */
  staleAfterMs?: number
  sweepEveryMs?: number
  /** What data_coding 0 means to this SMSC (smpp.default_alphabet). */
  defaultAlphabet?: DefaultAlphabet
}

export class MoReceiver {
  readonly stats = { received: 0, stored: 0, failed: 0, refused: 0 }
  private readonly running = new Set<Promise<unknown>>()
  /** By part key: the last delivery of those octets still being stored or answered. */
  private readonly inFlight = new Map<string, Promise<void>>()
  private sweepTimer: NodeJS.Timeout | null = null
  private stopped = false
  private readonly log: IntakeLog
  private readonly clock: () => number

  constructor(private readonly opts: MoReceiverOptions) {
    this.log = opts.log ?? (() => undefined)
    this.clock = opts.clock ?? Date.now
  }

  start(): void {
    this.stopped = false
    this.sweep()
    this.sweepTimer = setInterval(() => this.sweep(), this.opts.sweepEveryMs ?? 60_000)
    this.sweepTimer.unref()
  }

  /**
   * The 'mo' listener: resolves true once the part (or the SMS it completes) is committed,
   * false when it is not stored and the SMSC must redeliver it. Never rejects.
   */
  readonly receive = (mo: MoMessage): Promise<boolean> => {
    if (this.stopped) {
      this.stats.refused++
      return Promise.resolve(false)
    }
    this.stats.received++
    const part = readMoPart(mo, this.opts.defaultAlphabet)
    const key = partKey(part)
    const before = this.inFlight.get(key) ?? Promise.resolve()
    const stored = before.then(() =>
      acceptMoPart(this.opts.db, part, this.clock(), { source: 'smpp', log: this.log }),
    )
    const answered = stored.then(
      (result) => this.afterAnswer(mo, result),
      () => undefined,
    )
    this.inFlight.set(key, answered)
    void answered.finally(() => {
      if (this.inFlight.get(key) === answered) this.inFlight.delete(key)
    })
    this.track(answered)
    const verdict = stored.then(
      () => {
        this.stats.stored++
        return true
      },
      (err: Error) => {
        this.stats.failed++
        this.log(
          `inbound store failed from=${mo.from} to=${mo.to}: ${err.message}; the SMSC will redeliver it`,
        )
        return false
      },
    )
    this.track(verdict)
    return verdict
  }

  /** Releases the SMS's held key once the SMSC has our status 0; kept held otherwise. */
  private async afterAnswer(mo: MoMessage, result: IntakeResult | null): Promise<void> {
    if (!(await mo.acknowledged) || !result?.heldKey) return
    try {
      await releaseInboundKey(this.opts.db, result.id, result.heldKey)
    } catch (err) {
      // Held, the key only makes an identical MO within MO_KEY_HOLD_MS count as this one.
      this.log(`inbound key release failed id=${result.id}: ${(err as Error).message}`)
    }
  }

  /** Refuses new MO (the SMSC redelivers them) and waits up to graceMs for those being stored. */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true
    if (this.sweepTimer) clearInterval(this.sweepTimer)
    this.sweepTimer = null
    if (this.running.size === 0) return
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))
    await Promise.race([Promise.allSettled([...this.running]), grace])
    clearTimeout(timer)
  }

  private track(run: Promise<unknown>): void {
    this.running.add(run)
    void run.finally(() => this.running.delete(run))
  }

  private sweep(): void {
    if (this.stopped) return
    const run = sweepParts(
      this.opts.db,
      this.clock(),
      this.opts.staleAfterMs ?? DEFAULT_STALE_AFTER_MS,
      this.log,
    ).then(
      () => undefined,
      (err: Error) => this.log(`inbound parts sweep failed: ${err.message}`),
    )
    this.track(run)
  }
}
