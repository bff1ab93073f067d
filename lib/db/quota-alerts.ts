import type { Db } from './connection'
import { isMysql } from './connection'
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
}

/**
 * Takes due alerts under a lease, one row at a time: they are a handful a day, so a claim per
 * row (an UPDATE that only one worker can win) is simpler than a batch claim and as safe.
 */
export async function claimDueQuotaAlerts(
  db: Db,
  opts: { now: number; leaseMs: number; limit: number },
): Promise<DueQuotaAlert[]> {
  const due = await db('quota_alerts')
    .where((q) =>
      q
        .where({ status: 'due' })
        .andWhere((r) => r.whereNull('lease_until').orWhere('lease_until', '<', opts.now)),
    )
    .orderBy('id')
    .limit(opts.limit)
  const claimed: DueQuotaAlert[] = []
  for (const row of due) {
    const won = await db('quota_alerts')
      .where({ id: row.id, status: 'due' })
      .andWhere((r) => r.whereNull('lease_until').orWhere('lease_until', '<', opts.now))
      .update({ lease_until: opts.now + opts.leaseMs, attempts: Number(row.attempts) + 1 })
    if (won !== 1) continue
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
      attempts: Number(row.attempts) + 1,
      recipients: admins.map(String),
    })
  }
  return claimed
}

export async function finishQuotaAlert(
  db: Db,
  id: number,
  status: 'sent' | 'skipped',
  now = Date.now(),
): Promise<void> {
  await db('quota_alerts').where({ id }).update({ status, sent_at: now, lease_until: null })
}

/** The relay refused: try again after `retryAt` (the lease doubles as the retry time). */
export async function retryQuotaAlert(db: Db, id: number, retryAt: number): Promise<void> {
  await db('quota_alerts').where({ id }).update({ lease_until: retryAt })
}
