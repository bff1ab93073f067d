import type { LimitsConfig } from '../config'
import type { Db } from '../db/connection'
import { storedUnderLegacyKeys, type NewSms } from '../db/outbound'
import { recordQuotaAlerts } from '../db/quota-alerts'
import { CounterSync } from '../db/counter-sync'
import { readCounters } from '../db/usage-counters'
import {
  effectiveLimits,
  planSpend,
  spendCounters,
  type SpendItem,
  type SpendPlan,
} from '../limits/spend'
import type { SmsDraft } from './message'
import { accept } from './decision'

/**
 * The MX's spend check at the end of DATA: rates, quotas and the loop guard, against counters
 * every MX node shares in the database. The counters are read through this process's
 * CounterSync, which also raises them after each commit (the outbox hands it the amounts): a
 * check waits for at most one statement, shared with the checks and commits around it, and
 * always sees the SMS this process committed before it.
 *
 * Messages checked at the same moment (on one node or several) each see the counters before
 * the others' SMS are counted, so a limit can be passed by the messages in flight at once:
 * a few SMS at most, one per SMTP connection being answered.
 */
export class SpendGuard {
  /** Alerts this process has recorded: a spent quota refuses many messages, one insert will do. */
  private readonly recorded = new Set<string>()
  private readonly counters: Pick<CounterSync, 'read'>

  constructor(
    private readonly db: Db,
    private readonly limits: LimitsConfig,
    private readonly clock: () => number = Date.now,
    /** This process's counters (the outbox's, which it raises); a private one when not given. */
    counters: Pick<CounterSync, 'read'> | null = null,
  ) {
    this.counters = counters ?? new CounterSync(db, () => undefined)
  }

  async check(drafts: readonly SmsDraft[], rows: readonly NewSms[]): Promise<SpendPlan> {
    const items: SpendItem[] = drafts.map((d, i) => ({
      account: d.recipient.membership.account,
      limits: effectiveLimits(d.recipient.membership.account, this.limits),
      sender: rows[i].senderEmail,
      e164: d.recipient.e164,
      text: d.text,
      segments: d.analysis.segments,
      dedupeKey: rows[i].dedupeKey,
    }))
    const now = this.clock()
    const loop = {
      maxRepeats: this.limits.loopMaxRepeats,
      windowMinutes: this.limits.loopWindowMinutes,
    }
    // Nothing to check or count: a gateway run without limits pays nothing for them.
    if (loop.maxRepeats === 0 && items.every((i) => Object.values(i.limits).every((v) => v === 0)))
      return { decision: accept(), deltas: [], alerts: [] }
    const counters = await this.counters.read(spendCounters(items, now, loop))
    let plan = planSpend(items, { counters, stored: new Set() }, now, loop)
    // A retried email (its SMS already stored) is never refused and counts nothing again. The
    // limits only grow with the SMS counted, so a message they accept in full is accepted with
    // its stored SMS left out too: only a refusal or an alert needs to know which are stored.
    // (Deltas of an email whose SMS are all stored are dropped by the outbox at the commit.)
    if (plan.decision.action !== 'accept' || plan.alerts.length > 0) {
      const { stored } = await readCounters(
        this.db,
        [],
        items.map((i) => i.dedupeKey),
      )
      // In the days after the keys became time-ordered, a retry may find its SMS under the key
      // the previous version gave it.
      for (const key of (await storedUnderLegacyKeys(this.db, rows, now)).keys()) stored.add(key)
      if (stored.size > 0) plan = planSpend(items, { counters, stored }, now, loop)
    }
    const alerts = plan.alerts.filter(
      (a) => !this.recorded.has(`${a.accountId}:${a.periodLabel}:${a.threshold}`),
    )
    await recordQuotaAlerts(this.db, alerts, now)
    for (const a of alerts) {
      if (this.recorded.size > 10_000) this.recorded.clear()
      this.recorded.add(`${a.accountId}:${a.periodLabel}:${a.threshold}`)
    }
    return plan
  }
}
