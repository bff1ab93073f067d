import { Gauge, Histogram, type Registry } from 'prom-client'
import type { Db } from '../db/connection'
import { LIVE_STATUSES, readQueueFigures, type LiveStatus } from '../db/outbound'
import type { SettleListener } from '../worker/receipts'
import { METRIC_PREFIX, countersFromTotals } from './metrics'

/** How long figures read from the database serve before a scrape reads them again, at least. */
export const TABLE_FIGURES_TTL_MS = 5000
/**
 * The most of the database's time the figures may take: a read that took d ms serves for at
 * least d / TABLE_FIGURES_MAX_SHARE. The read counts every live row (0.3 to 1 s for a million
 * queued SMS on a 2-CPU test machine, bench:worker --backlog): every 5 s, it took an eighth of
 * the database's time during a large backlog, when the worker needs it most.
 */
export const TABLE_FIGURES_MAX_SHARE = 0.02

/** Submit to final receipt: seconds (a phone that is on) to days (one that is off). */
const DLR_BUCKETS = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400, 259200]

/** The running totals the worker's parts keep (their `stats`), as this module reads them. */
export interface WorkerTotals {
  sms: () => Readonly<{
    sent: number
    retried: number
    failed: number
    expired: number
    unknown: number
  }>
  inbound?: () => Readonly<{ received: number; stored: number; failed: number; refused: number }>
  inboundMail?: () => Readonly<{
    forwarded: number
    replied: number
    kept: number
    retried: number
    failed: number
  }>
  notices?: () => Readonly<{ sent: number; skipped: number; retried: number; abandoned: number }>
}

export interface WorkerMetrics {
  /** For SmsWorker's onSettled: SMS settled by receipts, and how long after their submit. */
  settled: SettleListener
}

interface TableFigures {
  live: Record<LiveStatus, number>
  depth: number
  oldestDueAt: number | null
  at: number
}

/**
 * Reads the SMS table at most once per TABLE_FIGURES_TTL_MS, however many scrapes (or
 * gauges of one scrape) ask, and less often when the read is slow (TABLE_FIGURES_MAX_SHARE);
 * a failed read gives null, so stale figures are never shown.
 */
function tableReader(db: Db, clock: () => number): () => Promise<TableFigures | null> {
  let last: Promise<TableFigures | null> | null = null
  let servesUntil = -Infinity
  return () => {
    const now = clock()
    if (last && now < servesUntil) return last
    servesUntil = now + TABLE_FIGURES_TTL_MS
    last = readQueueFigures(db, now).then(
      ({ live, due }) => {
        const took = clock() - now
        servesUntil = Math.max(servesUntil, now + took / TABLE_FIGURES_MAX_SHARE)
        return { live, depth: due.depth, oldestDueAt: due.oldestDueAt, at: now }
      },
      () => null,
    )
    return last
  }
}

/**
 * The worker's figures: SMS by live status, the due queue and its oldest SMS (read from the
 * database at scrape time), transitions of SMS, inbound SMS and notices (from the running
 * totals the worker's parts keep), and the delay from submit to final receipt.
 */
export function workerMetrics(
  registry: Registry,
  opts: { db: Db; totals: WorkerTotals; clock?: () => number },
): WorkerMetrics {
  const clock = opts.clock ?? Date.now
  const read = tableReader(opts.db, clock)
  new Gauge({
    name: `${METRIC_PREFIX}sms`,
    help: 'SMS in each live status (queued, sending, sent: waiting for its receipt), read from the database; final statuses are counted by mail2sms_sms_transitions_total',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const figures = await read()
      this.reset()
      if (figures) for (const s of LIVE_STATUSES) this.set({ status: s }, figures.live[s])
    },
  })
  new Gauge({
    name: `${METRIC_PREFIX}queue_depth`,
    help: 'SMS due to be sent now (queued and due, or left by a worker whose lease ran out)',
    registers: [registry],
    async collect() {
      const figures = await read()
      this.reset()
      if (figures) this.set(figures.depth)
    },
  })
  new Gauge({
    name: `${METRIC_PREFIX}queue_oldest_age_seconds`,
    help: 'How long the longest-waiting due SMS has been due (0 when none is)',
    registers: [registry],
    async collect() {
      const figures = await read()
      this.reset()
      if (figures)
        this.set(
          figures.oldestDueAt === null ? 0 : Math.max(0, (figures.at - figures.oldestDueAt) / 1000),
        )
    },
  })
  const transitions = countersFromTotals(
    registry,
    {
      name: `${METRIC_PREFIX}sms_transitions_total`,
      help: 'SMS moves the worker recorded, by the status reached (retry: back to queued for a later try)',
      labelName: 'to',
    },
    [
      {
        totals: opts.totals.sms,
        labels: {
          sent: 'sent',
          retried: 'retry',
          failed: 'failed',
          expired: 'expired',
          unknown: 'unknown',
        },
      },
    ],
  )
  for (const to of ['delivered', 'undeliverable', 'partial']) transitions.inc({ to }, 0)
  const dlrDelay = new Histogram({
    name: `${METRIC_PREFIX}dlr_delay_seconds`,
    help: 'Time from the carrier taking an SMS to the final receipt that settled it, by outcome',
    labelNames: ['outcome'],
    buckets: DLR_BUCKETS,
    registers: [registry],
  })
  if (opts.totals.inbound) {
    countersFromTotals(
      registry,
      {
        name: `${METRIC_PREFIX}inbound_sms_received_total`,
        help: 'Inbound SMS parts from the SMSC: stored (acknowledged), failed to store or refused while stopping (the SMSC redelivers both)',
        labelName: 'outcome',
      },
      [
        {
          totals: opts.totals.inbound,
          labels: { stored: 'stored', failed: 'failed', refused: 'refused' },
        },
      ],
    )
  }
  if (opts.totals.inboundMail) {
    countersFromTotals(
      registry,
      {
        name: `${METRIC_PREFIX}inbound_sms_mailed_total`,
        help: 'Inbound SMS handled by the mail dispatcher: forwarded, replied (straight to the sender who texted), kept (no one to mail), retried, failed',
        labelName: 'outcome',
      },
      [
        {
          totals: opts.totals.inboundMail,
          labels: {
            forwarded: 'forwarded',
            replied: 'replied',
            kept: 'kept',
            retried: 'retried',
            failed: 'failed',
          },
        },
      ],
    )
  }
  if (opts.totals.notices) {
    countersFromTotals(
      registry,
      {
        name: `${METRIC_PREFIX}notices_total`,
        help: 'Failure notices to senders: sent, skipped (notices off, no address), retried after a relay failure, abandoned',
        labelName: 'outcome',
      },
      [
        {
          totals: opts.totals.notices,
          labels: { sent: 'sent', skipped: 'skipped', retried: 'retried', abandoned: 'abandoned' },
        },
      ],
    )
  }
  return {
    settled: (sms, now) => {
      for (const s of sms) {
        transitions.inc({ to: s.outcome })
        if (s.sentAt !== null)
          dlrDelay.observe({ outcome: s.outcome }, Math.max(0, now - s.sentAt) / 1000)
      }
    },
  }
}
