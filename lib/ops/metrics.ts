/**
 * The metrics every Mail2SMS process exports (Prometheus text format, prom-client): one
 * Registry per process, the process's own figures (CPU, memory, event loop, handles), its
 * database statements, and adapters for the observer hooks of the core (lib/ops/observers.ts).
 * What only one service has lives beside it: mx-metrics.ts, worker-metrics.ts, and the admin's
 * request timing in admin/metrics.ts. Every name starts with mail2sms_ and carries its unit.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Db } from '../db/connection'
import type {
  ClaimObserver,
  LoopObserver,
  PurgeObserver,
  SmppBindState,
  SmppObserver,
  SubmitOutcome,
} from './observers'

export const METRIC_PREFIX = 'mail2sms_'

/** Statement and request times: from half a millisecond to the 5 s query timeout and past it. */
export const FAST_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

/** A new registry with the process figures, named mail2sms_process_… and mail2sms_nodejs_…. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX })
  return registry
}

/** What a statement does, from knex's method or, for raw SQL, its first word. */
export function operationOf(method: string | undefined, sql: string | undefined): string {
  switch (method) {
    case 'select':
    case 'first':
    case 'pluck':
      return 'select'
    case 'insert':
    case 'update':
      return method
    case 'del':
      return 'delete'
  }
  const verb = /^\s*\(?\s*([a-z]+)/i.exec(sql ?? '')?.[1]?.toLowerCase()
  if (verb === 'select' || verb === 'insert' || verb === 'update' || verb === 'delete') return verb
  if (verb === 'with') return 'select'
  return 'other'
}

interface KnexQueryEvent {
  __knexQueryUid?: string
  method?: string
  sql?: string
}

/** Statements whose answer never came (a dropped connection) are forgotten past this many. */
const MAX_TIMED_STATEMENTS = 10_000

/**
 * Times every statement of `db` (transactions included) from knex's query events, by kind of
 * statement, never by its text: a label per SQL string would grow without end. Returns the
 * function that stops listening.
 */
export function databaseMetrics(registry: Registry, db: Db): () => void {
  const duration = new Histogram({
    name: `${METRIC_PREFIX}db_query_duration_seconds`,
    help: 'Time from sending a database statement to its answer or its error',
    labelNames: ['operation'],
    buckets: FAST_BUCKETS,
    registers: [registry],
  })
  const errors = new Counter({
    name: `${METRIC_PREFIX}db_query_errors_total`,
    help: 'Database statements that failed (refused, timed out, deadlocked, connection lost…); operation "connect": no connection could be had',
    labelNames: ['operation'],
    registers: [registry],
  })
  const started = new Map<string, { at: bigint; operation: string }>()
  const onQuery = (q: KnexQueryEvent) => {
    if (!q.__knexQueryUid) return
    if (started.size >= MAX_TIMED_STATEMENTS) started.delete(started.keys().next().value as string)
    started.set(q.__knexQueryUid, {
      at: process.hrtime.bigint(),
      operation: operationOf(q.method, q.sql),
    })
  }
  const finish = (q: KnexQueryEvent | undefined, failed: boolean) => {
    const s = q?.__knexQueryUid ? started.get(q.__knexQueryUid) : undefined
    if (!s || !q?.__knexQueryUid) return
    started.delete(q.__knexQueryUid)
    duration.observe({ operation: s.operation }, Number(process.hrtime.bigint() - s.at) / 1e9)
    if (failed) errors.inc({ operation: s.operation })
  }
  const onResponse = (_response: unknown, q: KnexQueryEvent) => finish(q, false)
  const onError = (_err: unknown, q: KnexQueryEvent) => finish(q, true)
  db.on('query', onQuery)
  db.on('query-response', onResponse)
  db.on('query-error', onError)
  // A statement that never got a connection (server down, pool exhausted) emits no query
  // event: its failure is counted where the pool hands connections out.
  const client = db.client as { acquireConnection: (...args: unknown[]) => Promise<unknown> }
  const acquire = client.acquireConnection
  client.acquireConnection = function (this: unknown, ...args: unknown[]) {
    return acquire.apply(this, args).catch((err: unknown) => {
      errors.inc({ operation: 'connect' })
      throw err
    })
  }
  return () => {
    client.acquireConnection = acquire
    db.off('query', onQuery)
    db.off('query-response', onResponse)
    db.off('query-error', onError)
    started.clear()
  }
}

const BIND_STATES: SmppBindState[] = ['unbound', 'binding', 'bound']

/** Submit answers: from a fast SMSC on loopback (under a millisecond) to the request timeout. */
const SUBMIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The SMPP session's figures, fed by SmppClient through its SmppObserver. */
export function smppMetrics(registry: Registry): SmppObserver {
  const state = new Gauge({
    name: `${METRIC_PREFIX}smpp_bind_state`,
    help: 'The SMPP session: 1 for its current state (unbound, binding, bound), 0 for the others',
    labelNames: ['state'],
    registers: [registry],
  })
  for (const s of BIND_STATES) state.set({ state: s }, s === 'unbound' ? 1 : 0)
  const window = new Gauge({
    name: `${METRIC_PREFIX}smpp_window_in_use`,
    help: 'submit_sm sent and not answered yet (at most smpp.window)',
    registers: [registry],
  })
  const latency = new Histogram({
    name: `${METRIC_PREFIX}smpp_submit_duration_seconds`,
    help: 'Time from sending a submit_sm to its answer, or to giving up on it, by outcome',
    labelNames: ['outcome'],
    buckets: SUBMIT_BUCKETS,
    registers: [registry],
  })
  const throttled = new Counter({
    name: `${METRIC_PREFIX}smpp_throttled_total`,
    help: 'submit_sm answered with a throttling status (ESME_RTHROTTLED, ESME_RMSGQFUL)',
    registers: [registry],
  })
  return {
    bindState: (current) => {
      for (const s of BIND_STATES) state.set({ state: s }, s === current ? 1 : 0)
    },
    windowInUse: (outstanding) => window.set(outstanding),
    submitAnswered: (outcome: SubmitOutcome, seconds) => {
      latency.observe({ outcome }, seconds)
      if (outcome === 'throttled') throttled.inc()
    },
  }
}

/** Poll loops (SMS claims, receipts upkeep, inbound mail, notices): their rounds and failures. */
export function loopMetrics(registry: Registry): LoopObserver {
  const rounds = new Histogram({
    name: `${METRIC_PREFIX}poll_round_duration_seconds`,
    help: 'Time one round of a poll loop took, by loop',
    labelNames: ['loop'],
    buckets: FAST_BUCKETS,
    registers: [registry],
  })
  const failures = new Counter({
    name: `${METRIC_PREFIX}poll_round_failures_total`,
    help: 'Rounds of a poll loop that failed (the database refused or did not answer…), by loop',
    labelNames: ['loop'],
    registers: [registry],
  })
  return {
    round: (loop, seconds, failed) => {
      rounds.observe({ loop }, seconds)
      if (failed) failures.inc({ loop })
    },
  }
}

/** The retention purge: rows blanked by step, so a purge that stopped working shows. */
export function purgeMetrics(registry: Registry): PurgeObserver {
  const purged = new Counter({
    name: `${METRIC_PREFIX}retention_purged_rows_total`,
    help: 'Rows whose text or addresses the retention purge blanked, by step',
    labelNames: ['step'],
    registers: [registry],
  })
  return { purged: (step, rows) => purged.inc({ step }, rows) }
}

/** Lease claims on the queues (outbound SMS, inbound SMS, notices). */
export function claimMetrics(registry: Registry): ClaimObserver {
  const duration = new Histogram({
    name: `${METRIC_PREFIX}lease_claim_duration_seconds`,
    help: 'Time one lease claim took, retries included, by kind of work',
    labelNames: ['work'],
    buckets: FAST_BUCKETS,
    registers: [registry],
  })
  const rows = new Counter({
    name: `${METRIC_PREFIX}lease_claimed_rows_total`,
    help: 'Rows taken under lease, by kind of work',
    labelNames: ['work'],
    registers: [registry],
  })
  const conflicts = new Counter({
    name: `${METRIC_PREFIX}lease_claim_conflicts_total`,
    help: 'Lease claims retried after a deadlock or a Galera certification failure, by kind of work',
    labelNames: ['work'],
    registers: [registry],
  })
  return {
    claimed: (work, n, seconds, retried) => {
      duration.observe({ work }, seconds)
      if (n > 0) rows.inc({ work }, n)
      if (retried > 0) conflicts.inc({ work }, retried)
    },
  }
}

/**
 * A counter that follows a component's own running totals (`stats` objects the worker, the
 * receiver and the senders keep for their log lines): at each scrape it adds what each total
 * grew by since the last one. Nothing runs on the hot path.
 */
export function countersFromTotals<K extends string>(
  registry: Registry,
  spec: { name: string; help: string; labelName: string },
  sources: Array<{ totals: () => Readonly<Record<K, number>>; labels: Partial<Record<K, string>> }>,
): Counter<string> {
  const seen = sources.map(() => new Map<K, number>())
  const counter: Counter<string> = new Counter({
    name: spec.name,
    help: spec.help,
    labelNames: [spec.labelName],
    registers: [registry],
    collect() {
      for (const [i, source] of sources.entries()) {
        const totals = source.totals()
        for (const [key, label] of Object.entries(source.labels) as Array<[K, string]>) {
          const now = totals[key] ?? 0
          const grown = now - (seen[i].get(key) ?? 0)
          seen[i].set(key, now)
          if (grown > 0) counter.inc({ [spec.labelName]: label }, grown)
        }
      }
    },
  })
  // Every label present from the first scrape, at 0: rate() and alerts need the series to exist.
  for (const source of sources)
    for (const label of Object.values(source.labels) as string[])
      counter.inc({ [spec.labelName]: label }, 0)
  return counter
}
