/**
 * The worker side of `bench:worker`: queued rows written straight into the database, one
 * SmsWorker (SmppTransport, receipts on) draining them into the simulator, and the checks that
 * every row went out exactly once and came back delivered.
 */
import { EventEmitter } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
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
import { createLogger, type Logger } from '../lib/log'
import {
  claimMetrics,
  createMetricsRegistry,
  databaseMetrics,
  loopMetrics,
  smppMetrics,
} from '../lib/ops/metrics'
import type { SmppObserver } from '../lib/ops/observers'
import { smppLogger } from '../worker/main'
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
          dedupeKey: dedupeKeyFor(`${tag}.${i}`, recipient, Date.now()),
          mxTransaction: `${tag}.${i}`,
          timeZone: 'UTC',
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
    logger: Logger,
    observer?: SmppObserver,
  ): Promise<BoundTransport> {
    const inner = new SmppTransport(config, smppLogger(logger), { observer })
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
  /** What the worker and its SMPP client logged, but for the lines about each SMS. */
  log: string[]
  stop(): Promise<void>
}

/**
 * The worker's logger as in production (logfmt, info, one write per line), writing to a file
 * as it would to the journal: the lines about each SMS (sms.submitted, sms.receipt) are part of
 * its cost per SMS. The other lines are also kept for the report, up to a bound.
 */
function benchLogger(file: string, kept: string[]): { logger: Logger; close(): void } {
  const fd = fs.openSync(file, 'a')
  const logger = createLogger({
    service: 'worker',
    format: 'logfmt',
    level: 'info',
    write: (line) => {
      fs.writeSync(fd, `${line}\n`)
      if (kept.length < 1000 && !/ event=sms\./.test(line)) kept.push(line)
    },
  })
  return { logger, close: () => fs.closeSync(fd) }
}

/**
 * A worker on its own connection pool, with its session already bound, wired as
 * worker/main.ts wires it: the same logger and, unless the metrics are switched off, the same
 * observers and metrics, scraped every second.
 */
export async function startBenchWorker(
  database: DatabaseConfig,
  smpp: SmppConfig,
  config: WorkerConfig,
): Promise<RunningWorker> {
  const db = openDb(database)
  const log: string[] = []
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mail2sms-bench-worker-'))
  const { logger, close } = benchLogger(path.join(logDir, 'worker.log'), log)
  const registry = benchMetricsOn() ? createMetricsRegistry() : null
  const transport = await BoundTransport.start(
    smpp,
    10_000,
    logger,
    registry ? smppMetrics(registry) : undefined,
  )
  const detach = registry ? databaseMetrics(registry, db) : () => undefined
  let metrics: WorkerMetrics | null = null
  const worker = new SmsWorker({
    db,
    transport,
    config,
    receipts: smpp.receipts,
    defaultSource: smpp.defaultSource,
    log: logger,
    observers: registry ? { loop: loopMetrics(registry), claim: claimMetrics(registry) } : {},
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
      close()
      fs.rmSync(logDir, { recursive: true, force: true })
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
