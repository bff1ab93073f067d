import type { Db } from '../db/connection'
import {
  claimDueQuotaAlerts,
  finishQuotaAlert,
  retryQuotaAlert,
  type DueQuotaAlert,
} from '../db/quota-alerts'
import { deleteExpiredCounters } from '../db/usage-counters'
import type { Mailer, OutgoingMail } from '../mail/mailer'
import { PollLoop } from '../process/poll-loop'
import { FailureStreak } from '../process/failure-streak'
import type { PollerObservers } from '../ops/poller-observers'

export interface QuotaAlertSenderOptions {
  db: Db
  mailer: Mailer
  log?: (line: string) => void
  /** How often to look for due alerts. Default 5 s: alerts are rare and not urgent to the second. */
  pollMs?: number
  /** How often spent counter rows are deleted. Default 10 min. */
  sweepMs?: number
  clock?: () => number
  /** Counts the loop's rounds and its claims (metrics); nothing by default. */
  observers?: PollerObservers
}

const LEASE_MS = 10 * 60_000
const RETRY_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000]
const MAX_ATTEMPTS = 12

/** The mail an account's admins get when a quota reaches 80 % or 100 %, in French and English. */
export function composeQuotaAlert(alert: DueQuotaAlert): OutgoingMail {
  const percent = alert.threshold
  const fr = alert.period === 'day' ? 'journalier' : 'mensuel'
  const en = alert.period === 'day' ? 'daily' : 'monthly'
  const spent = percent >= 100
  const subject = spent
    ? `Quota ${fr} atteint / ${en} quota reached: ${alert.accountName} (${alert.periodLabel})`
    : `Quota ${fr} à ${percent} % / ${en} quota at ${percent}%: ${alert.accountName} (${alert.periodLabel})`
  const text = [
    `Compte « ${alert.accountName} » (${alert.accountRef}), période ${alert.periodLabel} :`,
    `${alert.used} segments SMS utilisés sur ${alert.limit} (quota ${fr}).`,
    spent
      ? 'Les emails qui dépasseraient le quota sont refusés (550 5.7.1) jusqu’à sa remise à zéro.'
      : 'Les emails seront refusés (550 5.7.1) une fois le quota atteint.',
    'Pour un quota plus élevé, adressez-vous à l’opérateur de la passerelle.',
    '',
    `Account "${alert.accountName}" (${alert.accountRef}), period ${alert.periodLabel}:`,
    `${alert.used} of ${alert.limit} SMS segments used (${en} quota).`,
    spent
      ? 'Emails that would exceed the quota are refused (550 5.7.1) until it resets.'
      : 'Emails will be refused (550 5.7.1) once the quota is reached.',
    'For a larger quota, ask the gateway operator.',
    '',
  ].join('\n')
  return { to: alert.recipients, subject, text }
}

/**
 * Mails quota alerts recorded by the MX, once each, to the account's admins; retries while the
 * relay refuses. Also deletes the spend counters of windows long over.
 */
export class QuotaAlertSender {
  readonly stats = { sent: 0, skipped: 0, retried: 0, swept: 0 }
  private readonly log: (line: string) => void
  private readonly clock: () => number
  private readonly pollMs: number
  private readonly sweepMs: number
  private lastSweep = 0
  private readonly loop: PollLoop

  constructor(private readonly opts: QuotaAlertSenderOptions) {
    this.log = opts.log ?? ((line) => console.log(`[quota] ${line}`))
    this.clock = opts.clock ?? Date.now
    this.pollMs = opts.pollMs ?? 5000
    this.sweepMs = opts.sweepMs ?? 600_000
    this.loop = new PollLoop(() => this.round(), {
      name: 'quota-alerts',
      observer: opts.observers?.loop,
      // One log line when the database stops answering and one when it is back.
      failures: {
        streak: new FailureStreak('read quota alerts', this.log, this.clock),
        initialMs: this.pollMs,
        maxMs: 60_000,
      },
    })
  }

  start(): void {
    this.loop.start()
  }

  async stop(): Promise<void> {
    await this.loop.stop()
  }

  /** Throws when the database refuses (the loop backs off). */
  private async round(): Promise<number> {
    await this.sweep()
    const due = await claimDueQuotaAlerts(this.opts.db, {
      now: this.clock(),
      leaseMs: LEASE_MS,
      limit: 20,
      observer: this.opts.observers?.claim,
    })
    for (const alert of due) await this.handle(alert)
    return this.pollMs
  }

  private async sweep(): Promise<void> {
    if (this.clock() - this.lastSweep < this.sweepMs) return
    this.lastSweep = this.clock()
    this.stats.swept += await deleteExpiredCounters(this.opts.db, this.clock())
  }

  private async handle(alert: DueQuotaAlert): Promise<void> {
    const what = `quota alert account=${alert.accountRef} period=${alert.periodLabel} threshold=${alert.threshold}%`
    if (alert.recipients.length === 0) {
      await finishQuotaAlert(this.opts.db, alert, 'skipped', this.clock())
      this.stats.skipped += 1
      this.log(`${what} skipped: the account has no admin`)
      return
    }
    try {
      const sent = await this.opts.mailer.send(composeQuotaAlert(alert))
      await finishQuotaAlert(this.opts.db, alert, 'sent', this.clock())
      this.stats.sent += 1
      this.log(`${what} sent to=${alert.recipients.join(',')} id=${sent.messageId}`)
    } catch (err) {
      if (alert.attempts >= MAX_ATTEMPTS) {
        await finishQuotaAlert(this.opts.db, alert, 'skipped', this.clock())
        this.log(`${what} given up after ${alert.attempts} attempts: ${(err as Error).message}`)
        return
      }
      const delay = RETRY_MS[Math.min(alert.attempts - 1, RETRY_MS.length - 1)]
      await retryQuotaAlert(this.opts.db, alert, this.clock() + delay)
      this.stats.retried += 1
      this.log(`${what} relay failed, retry in ${delay / 1000} s: ${(err as Error).message}`)
    }
  }
}
