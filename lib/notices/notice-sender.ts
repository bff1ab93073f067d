import type { Db } from '../db/connection'
import type { Mailer } from '../mail/mailer'
import { composeFailureNotice } from './failure-notice'
import { whileHoldingLease } from '../inbound/lease-keeper'
import { PollLoop } from '../process/poll-loop'
import { FailureStreak } from '../process/failure-streak'
import { asLogger, errorText, lineLogger, lineSink, type Logger, type LogSink } from '../log'
import type { PollerObservers } from '../ops/poller-observers'
import {
  claimDueNotices,
  extendNoticeLease,
  markNoticeSent,
  markNoticeSkipped,
  scheduleNoticeRetry,
  type ClaimedNotice,
} from '../db/outbound'

export interface NoticeSenderOptions {
  db: Db
  mailer: Mailer
  /** The SMS domain named in the notices' DSN fields (the first of mx.domains). */
  smsDomain: string
  /** Lines about a notice carry its SMS's trace (the MX transaction id) and id. */
  log?: LogSink
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
  private readonly log: Logger
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
    this.log = asLogger(opts.log, () => lineLogger((line) => console.log(`[notices] ${line}`)))
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
        streak: new FailureStreak('claim failure notices', lineSink(this.log, 'warn'), this.clock),
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
    await Promise.all(
      claimed.map((notice) => {
        const { trace } = notice
        const fields = trace ? { trace, sms: notice.sms.id } : { sms: notice.sms.id }
        return this.handle(notice, this.log.child(fields))
      }),
    )
    return claimed.length < this.batch ? this.pollMs : 0
  }

  /** Never throws: a notice that cannot be recorded now comes back when its lease ends. */
  private async handle(notice: ClaimedNotice, log: Logger): Promise<void> {
    const { sms } = notice
    try {
      if (!notice.accountWantsNotices || !sms.senderEmail) {
        const why = notice.accountWantsNotices ? 'no sender address' : 'notices off for account'
        if (await markNoticeSkipped(this.db, notice)) {
          this.stats.skipped += 1
          log.info('notice.skipped', { reason: why })
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
            log: lineSink(log, 'warn'),
          },
          () => this.opts.mailer.send(mail),
        )
        sentId = sent.messageId
      } catch (err) {
        await this.afterRelayFailure(notice, err as Error, log)
        return
      }
      if (await markNoticeSent(this.db, notice)) this.stats.sent += 1
      log.info('notice.sent', { status: sms.status, to: sms.senderEmail, mail: sentId })
    } catch (err) {
      log.warn('notice.unrecorded', {
        error: errorText(err),
        msg: 'sent again when its lease expires',
      })
    }
  }

  private async afterRelayFailure(notice: ClaimedNotice, err: Error, log: Logger): Promise<void> {
    const { sms } = notice
    const reason = err.message.replace(/\s+/g, ' ').slice(0, 200)
    const age = this.clock() - (sms.finalAt ?? sms.createdAt)
    if (notice.attempts >= this.maxAttempts && age > this.maxAgeMs) {
      if (await markNoticeSkipped(this.db, notice)) this.stats.abandoned += 1
      log.error('notice.given_up', {
        attempts: notice.attempts,
        to: sms.senderEmail,
        error: reason,
      })
      return
    }
    const delay = Math.min(this.retryMaxMs, this.retryInitialMs * 2 ** (notice.attempts - 1))
    if (await scheduleNoticeRetry(this.db, notice, this.clock() + delay)) this.stats.retried += 1
    log.info('notice.retry', { attempt: notice.attempts, retry_in_ms: delay, error: reason })
  }
}
