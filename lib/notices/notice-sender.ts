import type { Db } from '../db/connection'
import type { Mailer } from '../mail/mailer'
import { composeFailureNotice } from './failure-notice'
import { whileHoldingLease } from '../inbound/lease-keeper'
import { PollLoop } from '../process/poll-loop'
import { FailureStreak } from '../process/failure-streak'
import type { PollerObservers } from '../ops/poller-observers'
import {
  claimDueNotices,
  extendNoticeLease,
  markNoticeSent,
  markNoticeSkipped,
  scheduleNoticeRetry,
  type ClaimedNotice,
} from './notice-store'

export interface NoticeSenderOptions {
  db: Db
  mailer: Mailer
  /** The SMS domain named in the notices' DSN fields (the first of mx.domains). */
  smsDomain: string
  log?: (line: string) => void
  /** How often to look for due notices when there were none. Default 1 s. */
  pollMs?: number
  /** Notices claimed at once. Default 20. */
  batch?: number
  /**
   * How long a claim holds a notice if its sender dies; renewed while the relay is answering,
   * however slowly, so that no other sender mails it meanwhile. Default 10 min.
   */
  leaseMs?: number
  /** Delay before the first retry after the relay failed; doubles each time. Default 1 min. */
  retryInitialMs?: number
  retryMaxMs?: number
  /**
   * A notice is given up ('skipped', logged) once it has been tried this many times and its SMS
   * failed more than maxAgeMs ago: a relay down for a weekend still gets every notice, and a
   * notice held back by a clock step still gets its tries. Defaults 8 and 5 days, as inbound
   * mails.
   */
  maxAttempts?: number
  maxAgeMs?: number
  clock?: () => number
  /** Counts the loop's rounds and its claims (metrics); nothing by default. */
  observers?: PollerObservers
}

/**
 * Mails failure notices: claims SMS whose notice is due, skips those the account does not want
 * (or that have no sender address), sends the others through the mailer, and retries with
 * backoff while the relay refuses. Several senders on one database share the work safely.
 *
 * Sent twice: a sender that dies after the relay took a notice but before recording it sends
 * it again once the lease runs out: at most `batch` notices per crash.
 */
export class NoticeSender {
  readonly stats = { sent: 0, skipped: 0, retried: 0, abandoned: 0 }
  private readonly db: Db
  private readonly log: (line: string) => void
  private readonly clock: () => number
  private readonly pollMs: number
  private readonly batch: number
  private readonly leaseMs: number
  private readonly retryInitialMs: number
  private readonly retryMaxMs: number
  private readonly maxAttempts: number
  private readonly maxAgeMs: number
  private readonly loop: PollLoop

  constructor(private readonly opts: NoticeSenderOptions) {
    this.db = opts.db
    this.log = opts.log ?? ((line) => console.log(`[notices] ${line}`))
    this.clock = opts.clock ?? Date.now
    this.pollMs = opts.pollMs ?? 1000
    this.batch = opts.batch ?? 20
    this.leaseMs = opts.leaseMs ?? 600_000
    this.retryInitialMs = opts.retryInitialMs ?? 60_000
    this.retryMaxMs = opts.retryMaxMs ?? 3_600_000
    this.maxAttempts = opts.maxAttempts ?? 8
    this.maxAgeMs = opts.maxAgeMs ?? 5 * 24 * 3600_000
    this.loop = new PollLoop(() => this.round(), {
      name: 'notices',
      observer: opts.observers?.loop,
      failures: {
        streak: new FailureStreak('claim failure notices', this.log, this.clock),
        initialMs: this.pollMs * 2,
        maxMs: 30_000,
      },
    })
  }

  start(): void {
    this.loop.start()
  }

  /** Stops claiming and waits for the notices being sent to be recorded. */
  async stop(): Promise<void> {
    await this.loop.stop()
  }

  /** Claims and handles a batch; throws when the claim fails (the loop backs off). */
  private async round(): Promise<number> {
    const claimed = await claimDueNotices(this.db, {
      limit: this.batch,
      leaseMs: this.leaseMs,
      now: this.clock(),
      observer: this.opts.observers?.claim,
    })
    // One at a time or all together makes little odds: the mailer pools its connections.
    await Promise.all(claimed.map((notice) => this.handle(notice)))
    return claimed.length < this.batch ? this.pollMs : 0
  }

  /** Never throws: a notice that cannot be recorded now comes back when its lease ends. */
  private async handle(notice: ClaimedNotice): Promise<void> {
    const { sms } = notice
    try {
      if (!notice.accountWantsNotices || !sms.senderEmail) {
        const why = notice.accountWantsNotices ? 'no sender address' : 'notices off for account'
        if (await markNoticeSkipped(this.db, notice)) {
          this.stats.skipped += 1
          this.log(`notice sms=${sms.id} skipped (${why})`)
        }
        return
      }
      let sentId: string
      try {
        const mail = composeFailureNotice(sms, { smsDomain: this.opts.smsDomain })
        const sent = await whileHoldingLease(
          {
            leaseMs: this.leaseMs,
            clock: this.clock,
            extend: (until) => extendNoticeLease(this.db, notice, until),
            log: (line) => this.log(`notice sms=${sms.id}: ${line}`),
          },
          () => this.opts.mailer.send(mail),
        )
        sentId = sent.messageId
      } catch (err) {
        await this.afterRelayFailure(notice, err as Error)
        return
      }
      if (await markNoticeSent(this.db, notice)) this.stats.sent += 1
      this.log(`notice sms=${sms.id} sent to=${sms.senderEmail} id=${sentId}`)
    } catch (err) {
      this.log(`notice sms=${sms.id} not recorded (lease will expire): ${(err as Error).message}`)
    }
  }

  private async afterRelayFailure(notice: ClaimedNotice, err: Error): Promise<void> {
    const { sms } = notice
    const reason = err.message.replace(/\s+/g, ' ').slice(0, 200)
    const age = this.clock() - (sms.finalAt ?? sms.createdAt)
    if (notice.attempts >= this.maxAttempts && age > this.maxAgeMs) {
      if (await markNoticeSkipped(this.db, notice)) this.stats.abandoned += 1
      this.log(
        `notice sms=${sms.id} given up after ${notice.attempts} attempts to=${sms.senderEmail} error=${JSON.stringify(reason)}`,
      )
      return
    }
    const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** (notice.attempts - 1))
    if (await scheduleNoticeRetry(this.db, notice, this.clock() + delay)) this.stats.retried += 1
    this.log(
      `notice sms=${sms.id} relay failed (attempt ${notice.attempts}), retry in ${Math.round(delay / 1000)} s: ${reason}`,
    )
  }
}
