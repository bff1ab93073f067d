import type { Db } from './connection'
import { isMysql } from './connection'
import { claimUnderLease, type LeasedTable } from './lease-claim'
import type { ClaimObserver } from '../ops/observers'
import type { QuotaAlert, QuotaPeriod } from '../limits/spend'

/**
 * Records crossed quota thresholds. The unique key (account, period, threshold) keeps it to one
 * row however many MX nodes see the crossing; later ones are ignored. Rare: only when a
 * message crosses 80 % or 100 %, or is refused for a spent quota.
 */
export async function recordQuotaAlerts(
  db: Db,
  alerts: readonly QuotaAlert[],
  now = Date.now(),
): Promise<void> {
  if (alerts.length === 0) return
  const rows = alerts.map((a) => ({
    account_id: a.accountId,
    period: a.period,
    period_label: a.periodLabel,
    threshold: a.threshold,
    limit_segments: a.limit,
    used_segments: a.used,
    status: 'due',
    created_at: now,
  }))
  const insert = db('quota_alerts').insert(rows)
  // MySQL's onConflict().ignore() is INSERT IGNORE, which would also hide a damaged row; the
  // no-op update skips only the duplicates.
  if (isMysql(db)) {
    const { sql, bindings } = insert.toSQL().toNative()
    await db.raw(`${sql} on duplicate key update id = id`, bindings)
  } else {
    await insert.onConflict(['account_id', 'period', 'period_label', 'threshold']).ignore()
  }
}

export interface DueQuotaAlert {
  id: number
  accountId: number
  accountRef: string
  accountName: string
  period: QuotaPeriod
  periodLabel: string
  threshold: number
  limit: number
  used: number
  attempts: number
  /** The account's admins, who get the mail. */
  recipients: string[]
  /**
   * The lease's end, as written in lease_until. It doubles as the claim's fence: a sender whose
   * lease ran out and was claimed again finds another value there and changes nothing.
   */
  lease: number
}

/** An alert's retry time, and while it is claimed, its lease's end (and the claim's fence). */
const ALERT_LEASE: LeasedTable = {
  work: 'quota_alerts',
  table: 'quota_alerts',
  leaseColumn: 'lease_until',
}

/**
 * Takes due alerts under lease (lib/db/lease-claim.ts): new ones (no lease yet), and those whose
 * retry time has come or whose sender died. A handful a day: their accounts are read one by one.
 */
export async function claimDueQuotaAlerts(
  db: Db,
  opts: { now: number; leaseMs: number; limit: number; observer?: ClaimObserver },
): Promise<DueQuotaAlert[]> {
  const { ids, leaseUntil } = await claimUnderLease(
    db,
    {
      ...ALERT_LEASE,
      due: [{ where: { status: 'due' }, orUnleased: true }],
      set: { attempts: db.raw('attempts + 1') },
    },
    opts,
  )
  if (ids.length === 0) return []
  const rows = await db('quota_alerts').whereIn('id', ids).orderBy('id')
  const claimed: DueQuotaAlert[] = []
  for (const row of rows) {
    const account = await db('accounts').where({ id: row.account_id }).first('ref', 'name')
    const admins = await db('account_admins')
      .join('admins', 'admins.id', 'account_admins.admin_id')
      .where('account_admins.account_id', row.account_id)
      .pluck('admins.email')
    claimed.push({
      id: Number(row.id),
      accountId: Number(row.account_id),
      accountRef: String(account?.ref ?? ''),
      accountName: String(account?.name ?? ''),
      period: row.period as QuotaPeriod,
      periodLabel: String(row.period_label),
      threshold: Number(row.threshold),
      limit: Number(row.limit_segments),
      used: Number(row.used_segments),
      attempts: Number(row.attempts),
      recipients: admins.map(String),
      lease: leaseUntil,
    })
  }
  return claimed
}

/** Only while the claim is still this sender's (see DueQuotaAlert.lease). */
function held(db: Db, alert: DueQuotaAlert) {
  return db('quota_alerts').where({ id: alert.id, status: 'due', lease_until: alert.lease })
}

/** Mailed, or given up: never sent again. False when the claim was no longer held. */
export async function finishQuotaAlert(
  db: Db,
  alert: DueQuotaAlert,
  status: 'sent' | 'skipped',
  now = Date.now(),
): Promise<boolean> {
  return (await held(db, alert).update({ status, sent_at: now, lease_until: null })) > 0
}

/**
 * The relay refused: try again after `retryAt` (the lease column doubles as the retry time).
 * False when the claim was no longer held.
 */
export async function retryQuotaAlert(
  db: Db,
  alert: DueQuotaAlert,
  retryAt: number,
): Promise<boolean> {
  return (await held(db, alert).update({ lease_until: retryAt })) > 0
}
