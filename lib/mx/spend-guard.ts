import type { LimitsConfig } from '../config'
import type { Db } from '../db/connection'
import type { NewSms } from '../db/outbound'
import { recordQuotaAlerts } from '../db/quota-alerts'
import { CounterReader } from '../db/counter-reader'
import type { CounterWriter } from '../db/counter-writer'
import {
  effectiveLimits,
  planSpend,
  spendCounterKeys,
  type SpendItem,
  type SpendPlan,
} from '../limits/spend'
import type { SmsDraft } from './message'
import { accept } from './decision'

/**
 * The MX's spend check at the end of DATA: rates, quotas and the loop guard, against counters
 * every MX node shares in the database. One read per message; the counters are raised by the
 * outbox writer after the commit, and a read waits for the counter writes this process has
 * started, so that its own SMS are always counted.
 *
 * Messages checked at the same moment (on one node or several) each see the counters before
 * the others' SMS are counted, so a limit can be passed by the messages in flight at once:
 * a few SMS at most, one per SMTP connection being answered.
 */
export class SpendGuard {
  /** Alerts this process has recorded: a spent quota refuses many messages, one insert will do. */
  private readonly recorded = new Set<string>()
  private readonly reader: CounterReader

  constructor(
    private readonly db: Db,
    private readonly limits: LimitsConfig,
    private readonly clock: () => number = Date.now,
    /** This process's counter writes (the outbox's): a read waits for those already started. */
    private readonly writes: Pick<CounterWriter, 'settled'> | null = null,
  ) {
    this.reader = new CounterReader(db, writes)
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
    const snapshot = await this.reader.read(
      spendCounterKeys(items, now, loop),
      items.map((i) => i.dedupeKey),
    )
    const plan = planSpend(items, snapshot, now, loop)
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
