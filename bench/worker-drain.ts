/**
 * The worker side of `bench:worker`: queued rows written straight into the database, one
 * SmsWorker (SmppTransport, receipts on) draining them into the simulator, and the checks that
 * every row went out exactly once and came back delivered.
 */
import { EventEmitter } from 'node:events'
import type { DatabaseConfig, SmppConfig, WorkerConfig } from '../lib/config'
import { openDb, type Db } from '../lib/db/connection'
import { dedupeKeyFor, insertEmails, type NewSms } from '../lib/db/outbound'
import {
  SmppTransport,
  type OutgoingSms,
  type SendResult,
  type SmsTransport,
  type TransportEvents,
} from '../lib/worker/transport'
import { SmsWorker } from '../lib/worker/worker'
import { createMetricsRegistry, databaseMetrics } from '../lib/ops/metrics'
import { workerMetrics, type WorkerMetrics } from '../lib/ops/worker-metrics'
import { benchMetricsOn, SCRAPE_EVERY_MS } from './metrics-switch'

export interface Seeded {
  ids: number[]
  /** E.164 of each row, in id order. */
  recipients: string[]
}

export interface BenchAccount {
  accountId: number
  senderId: number
  senderEmail: string
}

const SEED_CHUNK = 1000

/** The body of SMS `i`: GSM-7, one segment, different for every message. */
export function smsText(i: number): string {
  return `Bench SMS ${i}: your parcel arrives today between 10:00 and 12:00. Reply STOP to opt out.`
}

/** `count` distinct French mobile numbers in E.164, all starting with `prefix` (4 digits). */
export function mobileNumbers(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+33${prefix}${String(i).padStart(5, '0')}`)
}

/** Queued rows as the MX would commit them, written with insertEmails, 1000 per statement. */
export async function seedQueued(
  db: Db,
  account: BenchAccount,
  recipients: string[],
  tag: string,
): Promise<Seeded> {
  const now = Date.now()
  for (let at = 0; at < recipients.length; at += SEED_CHUNK) {
    const emails: NewSms[][] = recipients.slice(at, at + SEED_CHUNK).map((recipient, k) => {
      const i = at + k
      return [
        {
          accountId: account.accountId,
          senderId: account.senderId,
          senderEmail: account.senderEmail,
          recipient,
          body: smsText(i),
          encoding: 'gsm7',
          segments: 1,
          sourceMessageId: `<${tag}.${i}@bench.example>`,
          dedupeKey: dedupeKeyFor(`${tag}.${i}`, recipient),
          mxTransaction: `${tag}.${i}`,
        },
      ]
    })
    await insertEmails(db, emails, now)
  }
  const rows = await db('outbound_sms')
    .whereIn('recipient', recipients)
    .where({ status: 'queued' })
    .orderBy('id')
    .select('id', 'recipient')
  return { ids: rows.map((r) => Number(r.id)), recipients: rows.map((r) => String(r.recipient)) }
}

/**
 * SmppTransport, bound before the worker starts, so the bench times the worker from a bound
 * session rather than from the connect and bind.
 */
class BoundTransport extends EventEmitter<TransportEvents> implements SmsTransport {
  readonly name = 'smpp'

  get ready(): boolean {
    return this.inner.ready
  }

  constructor(readonly inner: SmppTransport) {
    super()
    inner.on('receipt', (r) => this.emit('receipt', r))
  }

  static async start(
    config: SmppConfig,
    timeoutMs: number,
    log: (line: string) => void,
  ): Promise<BoundTransport> {
    const inner = new SmppTransport(config, {
      info: () => undefined,
      warn: (m) => log(`smpp warn: ${m}`),
      error: (m) => log(`smpp error: ${m}`),
    })
    const bound = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no bind to the SMSC')), timeoutMs)
      inner.client.once('bound', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    inner.start()
    await bound
    return new BoundTransport(inner)
  }

  start(): void {}

  send(sms: OutgoingSms): Promise<SendResult> {
    return this.inner.send(sms)
  }

  stop(graceMs: number): Promise<void> {
    return this.inner.stop(graceMs)
  }
}

export interface RunningWorker {
  worker: SmsWorker
  db: Db
  /** hrtime (ns) just before worker.start(), the session already bound. */
  startedAt: bigint
  /** What the worker and its SMPP client logged, except the client's info lines. */
  log: string[]
  stop(): Promise<void>
}

/** A worker on its own connection pool, as in production, with its session already bound. */
export async function startBenchWorker(
  database: DatabaseConfig,
  smpp: SmppConfig,
  config: WorkerConfig,
): Promise<RunningWorker> {
  const db = openDb(database)
  const log: string[] = []
  const transport = await BoundTransport.start(smpp, 10_000, (line) => log.push(line))
  // As worker/main.ts wires them, scraped every second.
  const registry = benchMetricsOn() ? createMetricsRegistry() : null
  const detach = registry ? databaseMetrics(registry, db) : () => undefined
  let metrics: WorkerMetrics | null = null
  const worker = new SmsWorker({
    db,
    transport,
    config,
    receipts: smpp.receipts,
    defaultSource: smpp.defaultSource,
    log: (line) => log.push(line),
    onSettled: (settled, now) => metrics?.settled(settled, now),
  })
  if (registry) metrics = workerMetrics(registry, { db, totals: { sms: () => worker.stats } })
  const scraper = registry
    ? setInterval(() => void registry.metrics().catch(() => undefined), SCRAPE_EVERY_MS)
    : null
  const startedAt = process.hrtime.bigint()
  worker.start()
  return {
    worker,
    db,
    startedAt,
    log,
    stop: async () => {
      if (scraper) clearInterval(scraper)
      await worker.stop(2000)
      detach()
      await db.destroy()
    },
  }
}

/** Resolves with the time (hrtime, ns) at which `check` first holds, polled every `everyMs`. */
export function whenTrue(
  check: () => boolean,
  everyMs: number,
  timeoutMs: number,
  what: string,
): Promise<bigint> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs
    const tick = (): void => {
      if (check()) return resolve(process.hrtime.bigint())
      if (Date.now() > deadline) return reject(new Error(`${what}: not done in ${timeoutMs} ms`))
      setTimeout(tick, everyMs)
    }
    tick()
  })
}

export async function countByStatus(db: Db, ids: number[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (let at = 0; at < ids.length; at += 5000) {
    const rows: Array<{ status: string; n: number | string }> = await db('outbound_sms')
      .whereIn('id', ids.slice(at, at + 5000))
      .groupBy('status')
      .select('status', db.raw('count(*) as n'))
    for (const r of rows) out[String(r.status)] = (out[String(r.status)] ?? 0) + Number(r.n)
  }
  return out
}

export interface SubmitCheck {
  /** Expected destinations that got exactly one submit_sm. */
  once: number
  /** Expected destinations that got none. */
  missing: number
  /** Expected destinations that got more than one, and the extra submits. */
  twice: number
  extraSubmits: number
  /** Submits to destinations not expected in this phase. */
  strangers: number
  /** Submits answered with a status other than 0. */
  refused: number
}

/** Compares what the simulator received with the destinations (E.164) that should get one SMS. */
export function checkSubmits(
  recipients: string[],
  submits: Array<[dest: string, at: number, status: number]>,
): SubmitCheck {
  const expected = new Map(recipients.map((r) => [r.replace(/^\+/, ''), 0]))
  const c: SubmitCheck = {
    once: 0,
    missing: 0,
    twice: 0,
    extraSubmits: 0,
    strangers: 0,
    refused: 0,
  }
  for (const [dest, , status] of submits) {
    if (status !== 0) c.refused++
    const seen = expected.get(dest)
    if (seen === undefined) c.strangers++
    else expected.set(dest, seen + 1)
  }
  for (const n of expected.values()) {
    if (n === 0) c.missing++
    else if (n === 1) c.once++
    else {
      c.twice++
      c.extraSubmits += n - 1
    }
  }
  return c
}

export function submitProblems(where: string, c: SubmitCheck, expected: number): string[] {
  const out: string[] = []
  if (c.missing) out.push(`${where}: ${c.missing} of ${expected} SMS never reached the SMSC`)
  if (c.twice) out.push(`${where}: ${c.twice} SMS sent more than once (${c.extraSubmits} extra)`)
  if (c.strangers) out.push(`${where}: ${c.strangers} submits to numbers not in this phase`)
  if (c.refused) out.push(`${where}: ${c.refused} submits refused by the SMSC`)
  return out
}
