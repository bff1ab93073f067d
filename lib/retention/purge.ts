import type { Db } from '../db/connection'
import { isDeadlock } from '../db/errors'
import {
  purgeStep,
  stepsFor,
  type PurgeKind,
  type PurgeStep,
  type PurgeStepName,
} from '../db/retention'

export const DAY_MS = 86_400_000

/** How long data is kept after an SMS's final state, in days; 0 keeps it for ever. */
export interface RetentionPolicy {
  textDays: number
  addressesDays: number
}

export function isRetentionOn(policy: RetentionPolicy): boolean {
  return policy.textDays > 0 || policy.addressesDays > 0
}

/** One step of a purge and the time before which its rows are purged (UTC ms). */
export interface PlannedStep {
  step: PurgeStep
  cutoff: number
  /** Rows older than this were the step for both kinds' (so a dry run counts them once). */
  notBefore?: number
}

/**
 * What a purge at `now` removes: first both kinds from rows past both retentions (one
 * statement each), then text older than textDays, addresses older than addressesDays, and
 * receipts that never matched an SMS once either retention applies to them (they hold both).
 */
export function planPurge(policy: RetentionPolicy, now: number): PlannedStep[] {
  const cutoff = (days: number) => (days > 0 ? now - days * DAY_MS : null)
  const text = cutoff(policy.textDays)
  const addresses = cutoff(policy.addressesDays)
  const plan: PlannedStep[] = []
  const older = text !== null && addresses !== null ? Math.min(text, addresses) : undefined
  const add = (kind: PurgeKind, at: number, notBefore?: number) => {
    for (const step of stepsFor(kind)) plan.push({ step, cutoff: at, notBefore })
  }
  if (older !== undefined) add('both', older)
  if (text !== null) add('text', text, older)
  if (addresses !== null) add('addresses', addresses, older)
  const applied = [text, addresses].filter((c): c is number => c !== null)
  if (applied.length > 0) {
    plan.push({ step: purgeStep('unmatched_receipts'), cutoff: Math.max(...applied) })
  }
  return plan
}

export interface PurgeOptions {
  /** Rows per statement. */
  batchSize: number
  /** Pause between two batches, so the MX and the worker get the database in between. */
  pauseMs: number
  now: number
  /** Count what would be purged, change nothing. */
  dryRun?: boolean
  /** Asked before each batch: true ends the purge there (the process is stopping). */
  shouldStop?: () => boolean
  sleep?: (ms: number) => Promise<void>
}

export interface PurgeReport {
  /** Rows changed (or, in a dry run, that would be) per step, in plan order. */
  rows: Array<{ step: PurgeStepName; cutoff: number; rows: number }>
  batches: number
  /** Stopped by shouldStop before the end. */
  interrupted: boolean
}

const DEADLOCK_TRIES = 3

/** A batch again when MySQL (or a Galera certification) picked it as a deadlock victim. */
async function applyBatch(db: Db, step: PurgeStep, ids: number[], cutoff: number) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step.apply(db, ids, cutoff)
    } catch (err) {
      if (!isDeadlock(err) || attempt >= DEADLOCK_TRIES) throw err
    }
  }
}

/**
 * Runs every planned step to its end, a batch at a time with a pause between batches. No lock
 * or leader between processes: each batch is idempotent (see lib/db/retention.ts).
 */
export async function runPurge(
  db: Db,
  policy: RetentionPolicy,
  opts: PurgeOptions,
): Promise<PurgeReport> {
  const sleep = opts.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)))
  const report: PurgeReport = { rows: [], batches: 0, interrupted: false }
  for (const { step, cutoff, notBefore } of planPurge(policy, opts.now)) {
    const line = { step: step.name, cutoff, rows: 0 }
    report.rows.push(line)
    if (opts.dryRun) {
      line.rows = await step.count(db, cutoff, notBefore)
      continue
    }
    const stopped = () => (report.interrupted = opts.shouldStop?.() ?? false)
    for (;;) {
      if (stopped()) return report
      if (report.batches > 0 && opts.pauseMs > 0) {
        await sleep(opts.pauseMs)
        // The pause is where a stopping process wakes the purge: no batch after it then.
        if (stopped()) return report
      }
      const ids = await step.pick(db, cutoff, opts.batchSize, notBefore)
      if (ids.length === 0) break
      line.rows += await applyBatch(db, step, ids, cutoff)
      report.batches += 1
      if (ids.length < opts.batchSize) break
    }
  }
  return report
}

/** `outbound_text=120 outbound_addresses=0 …`: the report as one log line's fields. */
export function describePurge(report: PurgeReport): string {
  return report.rows.map((r) => `${r.step}=${r.rows}`).join(' ')
}

/** The purge's result for a person: what is kept how long, then the rows per step. */
export function purgeReportLines(
  policy: RetentionPolicy,
  report: PurgeReport,
  dryRun: boolean,
): string[] {
  if (!isRetentionOn(policy)) {
    return [
      'retention is off: [retention] text_days and addresses_days are 0 (kept for ever); nothing to purge',
    ]
  }
  const kept = (days: number) => (days > 0 ? `${days} days` : 'for ever')
  const lines = [
    `retention: text kept ${kept(policy.textDays)}, addresses kept ${kept(policy.addressesDays)} after the final state`,
  ]
  for (const r of report.rows) {
    const before = new Date(r.cutoff).toISOString()
    lines.push(
      `${r.step}\t${r.rows} rows ${dryRun ? 'would be purged' : 'purged'} (older than ${before})`,
    )
  }
  if (report.interrupted) lines.push('interrupted: run it again to finish')
  return lines
}
