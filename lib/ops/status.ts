import fs from 'node:fs'
import type { Mail2SmsConfig, OpsListen } from '../config'
import { describeDb, openDb, type Db } from '../db/connection'
import { migrationStatus } from '../db/migrate'
import { lastFailedSms, pendingNoticesTried, readQueueFigures } from '../db/outbound'

/** What `mail2sms status` prints, and whether something is down (exit code 1). */
export interface StatusReport {
  lines: string[]
  down: boolean
}

/** How long each question (a service, the database) may take before it counts as down. */
const ASK_TIMEOUT_MS = 3000
/** Failed SMS and notices listed. */
const LAST_ERRORS = 5

interface Answer {
  status: number
  body: string
}

async function ask(listen: OpsListen, path: string): Promise<Answer> {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host
  const res = await fetch(`http://${host}:${listen.port}${path}`, {
    signal: AbortSignal.timeout(ASK_TIMEOUT_MS),
  })
  return { status: res.status, body: await res.text() }
}

function describeError(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; message?: string; name?: string }
  if (e?.name === 'TimeoutError') return `no answer within ${ASK_TIMEOUT_MS} ms`
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)
}

/** The value of one sample in Prometheus text (summed over its label sets), or null. */
export function sampleValue(text: string, name: string, labels = ''): number | null {
  let total: number | null = null
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const m = /^([a-zA-Z0-9_:]+)(\{[^}]*\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name || (labels && !(m[2] ?? '').includes(labels))) continue
    total = (total ?? 0) + Number(m[3])
  }
  return total
}

/** A few figures since the service started, from its /metrics. */
function figures(service: string, metrics: string): string | null {
  const v = (name: string, labels?: string) => sampleValue(metrics, name, labels) ?? 0
  if (service === 'MX')
    return `since start: ${v('mail2sms_mx_emails_accepted_total')} emails accepted, ${v('mail2sms_mx_sms_queued_total')} SMS queued, ${v('mail2sms_mx_refusals_total')} refusals`
  if (service === 'Worker') {
    const to = (s: string) => v('mail2sms_sms_transitions_total', `to="${s}"`)
    return `since start: ${to('sent')} SMS sent, ${to('delivered')} delivered, ${to('failed') + to('undeliverable') + to('expired')} failed, ${to('retry')} retries`
  }
  if (service === 'Admin')
    return `since start: ${v('mail2sms_admin_request_duration_seconds_count')} requests`
  return null
}

async function serviceStatus(
  service: string,
  key: string,
  listen: OpsListen | null,
): Promise<StatusReport> {
  if (!listen) return { lines: [`${service}: not watched (${key} is empty)`], down: false }
  const where = `http://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${listen.port}`
  let ready: Answer
  try {
    ready = await ask(listen, '/readyz')
  } catch (err) {
    return {
      lines: [`${service}: DOWN, nothing answers at ${where} (${describeError(err)})`],
      down: true,
    }
  }
  const [verdict, ...details] = ready.body.trim().split('\n')
  const ok = ready.status === 200
  const lines = [
    ok
      ? `${service}: up and ready (${where})`
      : `${service}: up but NOT READY (${where}, /readyz ${ready.status}${verdict && verdict !== 'not ready' ? `: ${verdict}` : ''})`,
    ...details.map((d) => `  ${d}`),
  ]
  const metrics = await ask(listen, '/metrics').catch(() => null)
  const summary = metrics?.status === 200 ? figures(service, metrics.body) : null
  if (summary) lines.push(`  ${summary}`)
  return { lines, down: !ok }
}

/** 3 h 4 min, 4 min 5 s, 12 s. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`
}

function at(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`
}

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${ASK_TIMEOUT_MS} ms`)),
      ASK_TIMEOUT_MS,
    )
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

async function databaseStatus(config: Mail2SmsConfig, db: Db, now: number): Promise<StatusReport> {
  const where = describeDb(config.database)
  try {
    await withTimeout(db.raw('select 1'))
  } catch (err) {
    return {
      lines: [`Database: DOWN, ${where} does not answer (${describeError(err)})`],
      down: true,
    }
  }
  const lines = [`Database: up (${where})`]
  const migrations = await migrationStatus(db)
  const behind = migrations.pending.length > 0
  lines.push(
    behind
      ? `Migrations: ${migrations.pending.length} PENDING (${migrations.pending.join(', ')}); run: mail2sms migrate`
      : `Migrations: current (${migrations.done.length} applied)`,
  )
  if (behind) return { lines, down: true }
  const { due, live } = await readQueueFigures(db, now)
  lines.push(
    due.depth === 0
      ? `Queue: no SMS waiting to be sent; ${live.sent} sent awaiting their receipt`
      : `Queue: ${due.depth} SMS due now, the oldest due for ${duration(now - (due.oldestDueAt ?? now))}; ${live.queued - Math.min(live.queued, due.depth)} waiting for a later retry; ${live.sent} sent awaiting their receipt`,
  )
  const [failed, notices] = await Promise.all([
    lastFailedSms(db, LAST_ERRORS),
    pendingNoticesTried(db, LAST_ERRORS),
  ])
  if (failed.length === 0) lines.push('Last failed SMS: none')
  else {
    lines.push('Last failed SMS:')
    for (const f of failed)
      lines.push(
        `  ${at(f.at)}  sms ${f.id} to ${f.recipient} from ${f.senderEmail}: ${f.status}${f.error ? `, ${f.error}` : ''}`,
      )
  }
  if (notices.length > 0) {
    lines.push('Failure notices tried and not sent yet:')
    for (const n of notices)
      lines.push(
        `  sms ${n.smsId} to ${n.senderEmail}: ${n.attempts} ${n.attempts === 1 ? 'try' : 'tries'}${n.nextAt === null ? '' : `, next at ${at(n.nextAt)}`}`,
      )
  }
  return { lines, down: false }
}

/**
 * Asks each service's /readyz and /metrics (at the `[ops]` addresses of this config) and the
 * database itself, and says in plain words what is up, what is down, the queue and the last
 * errors. Down: a service that does not answer or is not ready, the database, or migrations.
 */
export async function collectStatus(
  config: Mail2SmsConfig,
  clock: () => number = Date.now,
): Promise<StatusReport> {
  if (!config.database.url && !fs.existsSync(config.database.sqliteFile)) {
    // Opening it would create an empty database where the services expect theirs.
    const missing = `Database: DOWN, no SQLite file at ${config.database.sqliteFile}`
    return { lines: ['Mail2SMS: SOMETHING IS DOWN', missing], down: true }
  }
  const services = await Promise.all([
    serviceStatus('MX', 'ops.mx_listen', config.ops.mx),
    serviceStatus('Worker', 'ops.worker_listen', config.ops.worker),
    serviceStatus('Admin', 'ops.admin_listen', config.ops.admin),
  ])
  const db = openDb({ ...config.database, poolMax: 1, queryTimeoutMs: ASK_TIMEOUT_MS })
  let database: StatusReport
  try {
    database = await databaseStatus(config, db, clock())
  } catch (err) {
    database = { lines: [`Database: DOWN (${describeError(err)})`], down: true }
  } finally {
    await db.destroy()
  }
  const parts = [...services, database]
  const down = parts.some((p) => p.down)
  return {
    lines: [
      down ? 'Mail2SMS: SOMETHING IS DOWN' : 'Mail2SMS: everything is up',
      ...parts.flatMap((p) => p.lines),
    ],
    down,
  }
}
