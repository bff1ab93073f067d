/**
 * Emails each routed inbound SMS: to the last sender who texted that number when the account
 * has direct reply ("Réponse directe") and that sender is still accepted, else to the
 * account's forward addresses ("Transfert d'e-mail"). With neither, the SMS is kept (status
 * 'kept', logged): it stays in the admin's log, and nothing is lost.
 *
 * Several dispatchers may share one database: rows are claimed under a lease (see
 * claimDueInbound). A relay failure is retried with backoff until maxAgeMs, then the SMS is
 * 'failed'. A dispatcher that dies after the relay took a mail but before recording it
 * sends that mail again once the lease runs out: at most one batch per crash.
 */

import type { Db } from '../db/connection'
import { findLatestSmsTo } from '../db/outbound'
import {
  claimDueInbound,
  extendInboundLease,
  settleInbound,
  type ClaimedInbound,
  type InboundOutcome,
} from '../db/inbound'
import type { Mailer } from '../mail/mailer'
import { composeForwardMail, type RepliedSms } from './forward-mail'
import { KEPT_NO_ACCOUNT, KEPT_NO_DESTINATION, RELAY_REFUSED } from './inbox-outcome'
import { inboundTrace } from './intake'
import { whileHoldingLease } from './lease-keeper'
import { PollLoop } from '../process/poll-loop'
import { FailureStreak } from '../process/failure-streak'
import { asLogger, errorText, lineSink, silentLogger, type Logger, type LogSink } from '../log'
import type { PollerObservers } from '../ops/poller-observers'

/** Most time between two claims while the database refuses them. */
const CLAIM_RETRY_MAX_MS = 30_000

export interface DispatcherOptions {
  db: Db
  mailer: Mailer
  /** The domain in the From of forwards: the first of mx.domains. */
  smsDomain: string
  directReplyWindowHours: number
  pollMs?: number
  batchSize?: number
  /**
   * How long a claimed SMS stays this dispatcher's if it dies; renewed while the relay is
   * answering, however slowly.
   */
  leaseMs?: number
  retryInitialMs?: number
  retryMaxMs?: number
  /** A mail the relay still refuses this long after the SMS came is given up ('failed'). */
  maxAgeMs?: number
  /** Lines about an inbound SMS carry its trace, mo-<inbound id>, and id. */
  log?: LogSink
  clock?: () => number
  /** Counts the loop's rounds and its claims (metrics); nothing by default. */
  observers?: PollerObservers
}

/**
 * The SMS statuses a direct reply can answer: ones that went out to the phone, in whole or in
 * part ('partial'), or with no word from the carrier since ('unknown').
 */
const REPLIABLE = ['sending', 'sent', 'delivered', 'partial', 'unknown']

export function parseForwardAddresses(value: unknown): string[] {
  if (typeof value !== 'string') return []
  return value
    .split(/[,;\s]+/)
    .map((a) => a.trim())
    .filter((a) => a.includes('@'))
}

export class InboundMailDispatcher {
  readonly stats = { forwarded: 0, replied: 0, kept: 0, retried: 0, failed: 0 }
  private readonly loop: PollLoop
  private readonly log: Logger
  private readonly clock: () => number
  private readonly leaseMs: number

  constructor(private readonly opts: DispatcherOptions) {
    this.log = asLogger(opts.log, () => silentLogger)
    this.clock = opts.clock ?? Date.now
    this.leaseMs = opts.leaseMs ?? 15 * 60_000
    const pollMs = opts.pollMs ?? 1000
    this.loop = new PollLoop(() => this.round(pollMs), {
      name: 'inbound-mail',
      observer: opts.observers?.loop,
      failures: {
        streak: new FailureStreak(
          'claim inbound SMS to mail',
          lineSink(this.log, 'warn'),
          this.clock,
        ),
        initialMs: pollMs,
        maxMs: CLAIM_RETRY_MAX_MS,
      },
    })
  }

  start(): void {
    this.loop.start()
  }

  /** Finishes the mails under way, then stops polling. */
  async stop(): Promise<void> {
    await this.loop.stop()
  }

  /** Claims and mails a batch; throws when the claim fails (the loop backs off). */
  private async round(pollMs: number): Promise<number> {
    const claimed = await claimDueInbound(this.opts.db, {
      limit: this.opts.batchSize ?? 20,
      leaseMs: this.leaseMs,
      now: this.clock(),
      observer: this.opts.observers?.claim,
    })
    // Every mail of the batch is waited for, even when one fails: stop() must not return,
    // and the mailer close, while another is still with the relay.
    const results = await Promise.allSettled(claimed.map((claim) => this.dispatch(claim)))
    for (const [i, result] of results.entries()) {
      if (result.status === 'rejected') {
        this.logFor(claimed[i].sms.id).warn('mo.mail_error', {
          error: errorText(result.reason),
          msg: 'taken again when its lease ends',
        })
      }
    }
    return claimed.length === 0 ? pollMs : 0
  }

  private async dispatch(claim: ClaimedInbound): Promise<void> {
    const outcome = await this.mailOne(claim)
    const recorded = await settleInbound(this.opts.db, claim, outcome)
    const sms = claim.sms
    if (!recorded) {
      this.logFor(sms.id).warn('mo.lease_lost', { outcome: outcome.kind })
      return
    }
    if (outcome.kind === 'mailed') this.stats[outcome.status]++
    else if (outcome.kind === 'retry') this.stats.retried++
    else this.stats[outcome.kind]++
  }

  private logFor(id: number): Logger {
    return this.log.child({ trace: inboundTrace(id), inbound: id })
  }

  private async mailOne(claim: ClaimedInbound): Promise<InboundOutcome> {
    const { sms } = claim
    const log = this.logFor(sms.id)
    const now = () => this.clock()
    const account =
      sms.accountId === null
        ? undefined
        : await this.opts.db('accounts').where({ id: sms.accountId }).first()
    if (!account || !account.is_active) {
      const reason = KEPT_NO_ACCOUNT
      log.info('mo.kept', { reason })
      return { kind: 'kept', at: now(), reason }
    }
    const replied = account.direct_reply ? await this.lastSender(sms.accountId!, sms) : null
    const to = replied ? [replied.senderEmail] : parseForwardAddresses(account.forward_addresses)
    if (to.length === 0) {
      const reason = KEPT_NO_DESTINATION
      log.info('mo.kept', { account: String(account.ref), reason })
      return { kind: 'kept', at: now(), reason }
    }
    const mail = composeForwardMail({
      sms,
      accountRef: String(account.ref),
      smsDomain: this.opts.smsDomain,
      to,
      replied,
    })
    try {
      const sent = await whileHoldingLease(
        {
          leaseMs: this.leaseMs,
          clock: this.clock,
          extend: (until) => extendInboundLease(this.opts.db, claim, until),
          log: lineSink(log, 'warn'),
        },
        () => this.opts.mailer.send(mail),
      )
      const status = replied ? 'replied' : 'forwarded'
      log.info(`mo.${status}`, {
        account: String(account.ref),
        to,
        mail: sent.messageId,
        in_reply_to_sms: replied?.id,
        in_reply_to_trace: replied?.trace ?? undefined,
      })
      return { kind: 'mailed', status, replyToSmsId: replied?.id ?? null, to, at: now() }
    } catch (err) {
      return this.failure(claim, err as Error)
    }
  }

  private failure(claim: ClaimedInbound, err: Error): InboundOutcome {
    const { sms } = claim
    const log = this.logFor(sms.id)
    const at = this.clock()
    const error = `${RELAY_REFUSED}${err.message}`
    if (at - sms.receivedAt > (this.opts.maxAgeMs ?? 5 * 24 * 3600_000)) {
      log.error('mo.failed', { attempts: sms.mailAttempts, error })
      return { kind: 'failed', at, error }
    }
    const initial = this.opts.retryInitialMs ?? 60_000
    const delay = Math.min(this.opts.retryMaxMs ?? 3600_000, initial * 2 ** (sms.mailAttempts - 1))
    log.info('mo.retry', { attempt: sms.mailAttempts, retry_in_ms: delay, error })
    return { kind: 'retry', at, retryAt: at + delay, error }
  }

  /**
   * The newest SMS of the account to this number within the window, if its sender is still an
   * accepted sender of the account. An older SMS from another sender is not used instead: the
   * reply answers the latest conversation, and goes to the forward list when its author left.
   */
  private async lastSender(
    accountId: number,
    sms: ClaimedInbound['sms'],
  ): Promise<RepliedSms | null> {
    const since = sms.receivedAt - this.opts.directReplyWindowHours * 3600_000
    const last = await findLatestSmsTo(
      this.opts.db,
      accountId,
      sms.fromNumber,
      REPLIABLE,
      since,
      sms.receivedAt,
    )
    if (!last) return null
    const sender = await this.opts
      .db('account_senders')
      .where({ account_id: accountId, email: last.senderEmail, status: 'accepted' })
      .first('id')
    if (!sender) return null
    return last
  }
}
