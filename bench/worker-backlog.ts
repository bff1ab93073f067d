/**
 * `bench:worker --backlog N`: the worker's drain rate with N SMS queued behind it and N more of
 * sent and delivered history in the table, against its rate on an empty queue, in the same run.
 *
 * The backlog lives in a database of its own (bench/history-data.ts loads it in seconds), so
 * that drains of the backlog and drains of an empty queue (the bench's usual database, where
 * each drain first queues its own rows) can alternate, and a slow spell of the shared machine
 * falls on both. Each backlog drain takes the next part of the one backlog: the oldest due SMS
 * first, as a worker would after an outage, and the bench stops the worker once that part is
 * sent and delivered.
 */
import type { SmppConfig, WorkerConfig } from '../lib/config'
import { createAccount } from '../lib/db/accounts'
import type { Db } from '../lib/db/connection'
import { createTestDatabase, type TestDatabase } from '../test/support/databases'
import { loadHistory } from './history-data'
import {
  checkSubmits,
  countByStatus,
  startBenchWorker,
  submitProblems,
  whenTrue,
  type BenchAccount,
  type SubmitCheck,
} from './worker-drain'
import type { SmscChild } from './worker-smsc'

export const BACKLOG_TARGET = 0.9
const DRAIN_TIMEOUT_MS = 90_000
/** Backlog numbers: +33 79 and the row's number in seven digits, no other phase uses them. */
const BACKLOG_PREFIX = '79'

export interface Backlog {
  t: TestDatabase
  account: BenchAccount
  queued: number
  history: number
  firstQueuedId: number
  lastQueuedId: number
  loadSeconds: number
}

export interface BacklogDrain {
  label: string
  messages: number
  sentSeconds: number
  deliveredSeconds: number
  sentRate: number
  deliveredRate: number
  /** Ids of the backlog rows this drain took (the oldest still queued, if the claim is right). */
  firstId: number
  lastId: number
  /** Rows it took: what it was asked for, plus the rest of the last claims, sent before it stopped. */
  taken: number
  statuses: Record<string, number>
  submits: SubmitCheck
  workerStats: Record<string, number>
}

/**
 * A database of its own with `queued` SMS due on the bench account (oldest first, one
 * millisecond apart) behind `history` SMS sent over the last 90 days by it and another account.
 */
export async function loadBacklog(
  queued: number,
  history: number,
  seedAccount: (t: TestDatabase) => Promise<BenchAccount>,
  log: (line: string) => void,
): Promise<Backlog> {
  const t = await createTestDatabase('mysql')
  try {
    const account = await seedAccount(t)
    const other = await createAccount(t.db, { ref: 'other', name: 'Other' })
    const started = process.hrtime.bigint()
    const now = Date.now()
    const sender = { email: account.senderEmail, id: account.senderId }
    await loadHistory(
      t.db,
      {
        accounts: [
          { accountId: account.accountId, senders: [sender], share: 3 },
          { accountId: other.id, senders: [{ email: 'desk@other.example', id: null }], share: 1 },
        ],
        rows: history,
        days: 90,
        now: now - 1000 - queued,
        kind: 'history',
        tag: 'backlog-history-',
      },
      log,
    )
    const load = await loadHistory(
      t.db,
      {
        accounts: [{ accountId: account.accountId, senders: [sender], share: 1 }],
        rows: queued,
        days: 1,
        now,
        kind: 'queued',
        tag: 'backlog-queued-',
        recipientPrefix: BACKLOG_PREFIX,
      },
      log,
    )
    return {
      t,
      account,
      queued: load.rows,
      history,
      firstQueuedId: load.firstId,
      lastQueuedId: load.lastId,
      loadSeconds: Number(process.hrtime.bigint() - started) / 1e9,
    }
  } catch (err) {
    await t.drop()
    throw err
  }
}

/** The backlog rows taken since `afterId`: their ids and numbers, in id order. */
async function takenSince(db: Db, b: Backlog, afterId: number) {
  const rows = await db('outbound_sms')
    .whereBetween('id', [afterId + 1, b.lastQueuedId])
    .whereNot('status', 'queued')
    .orderBy('id')
    .select('id', 'recipient')
  return { ids: rows.map((r) => Number(r.id)), recipients: rows.map((r) => String(r.recipient)) }
}

/**
 * Runs one worker on the backlog until `count` more SMS are sent and delivered, then stops it
 * (the rest of its last claims is sent before it stops). `afterId` is the last backlog id taken
 * by the drains before this one.
 */
export async function drainBacklog(
  b: Backlog,
  smsc: SmscChild,
  label: string,
  count: number,
  config: { smpp: SmppConfig; worker: WorkerConfig },
  afterId: number,
): Promise<BacklogDrain> {
  await smsc.report()
  const running = await startBenchWorker(b.t.config, config.smpp, config.worker)
  let sentAt: bigint
  let deliveredAt: bigint
  try {
    const { stats } = running.worker
    sentAt = await whenTrue(() => stats.sent >= count, 2, DRAIN_TIMEOUT_MS, `${label} sent`)
    deliveredAt = await whenTrue(
      () => stats.receipts >= count,
      2,
      DRAIN_TIMEOUT_MS,
      `${label} receipts`,
    )
  } finally {
    await running.stop()
  }
  const report = await smsc.report()
  const taken = await takenSince(b.t.db, b, afterId)
  const seconds = (at: bigint): number => Number(at - running.startedAt) / 1e9
  const drain: BacklogDrain = {
    label,
    messages: count,
    sentSeconds: seconds(sentAt),
    deliveredSeconds: seconds(deliveredAt),
    sentRate: count / seconds(sentAt),
    deliveredRate: count / seconds(deliveredAt),
    firstId: taken.ids[0] ?? 0,
    lastId: taken.ids.at(-1) ?? 0,
    taken: taken.ids.length,
    statuses: await countByStatus(b.t.db, taken.ids),
    submits: checkSubmits(taken.recipients, report.submits),
    workerStats: { ...running.worker.stats },
  }
  console.log(
    `${label}: ${count} of the backlog (ids ${drain.firstId}..${drain.lastId}), all sent in ` +
      `${drain.sentSeconds.toFixed(3)} s = ${drain.sentRate.toFixed(0)} SMS/s, all delivered in ` +
      `${drain.deliveredSeconds.toFixed(3)} s = ${drain.deliveredRate.toFixed(0)} SMS/s`,
  )
  return drain
}

/**
 * What must hold of a backlog drain: it took the oldest queued rows, with no gap (the ids right
 * after the previous drain's), each reached the SMSC once, and all but the last claims' tail
 * came back delivered.
 */
export function backlogProblems(d: BacklogDrain, afterId: number): string[] {
  const out = submitProblems(d.label, d.submits, d.taken)
  if (d.firstId !== afterId + 1 || d.lastId - d.firstId + 1 !== d.taken) {
    out.push(
      `${d.label}: took ${d.taken} rows with ids ${d.firstId}..${d.lastId}, not the oldest ` +
        `${d.taken} after ${afterId}`,
    )
  }
  if ((d.statuses.delivered ?? 0) < d.messages) {
    out.push(`${d.label}: ${d.statuses.delivered ?? 0} of ${d.messages} delivered`)
  }
  const { retried, failed, expired } = d.workerStats
  if (retried || failed || expired) {
    out.push(`${d.label}: worker retried ${retried}, failed ${failed}, expired ${expired}`)
  }
  return out
}

interface Drain {
  label: string
  sentRate: number
  deliveredRate: number
}

export interface BacklogPhase<E extends Drain = Drain> {
  backlog: Omit<Backlog, 't' | 'account'>
  /** The drains of an empty queue, as the bench's drainEmpty returned them. */
  empty: E[]
  drains: BacklogDrain[]
  emptyRate: number
  backlogRate: number
  /** Backlog over empty, to the last 'sent'; and to the last 'delivered'. */
  ratio: number
  deliveredRatio: number
  problems: string[]
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Loads the backlog, then alternates `rounds` drains of an empty queue (`drainEmpty`, the
 * bench's own drain) with drains of the next `messages` of the backlog.
 */
export async function runBacklogPhase<E extends Drain>(o: {
  size: number
  rounds: number
  messages: number
  smsc: SmscChild
  config: { smpp: SmppConfig; worker: WorkerConfig }
  seedAccount: (t: TestDatabase) => Promise<BenchAccount>
  drainEmpty: (label: string) => Promise<E>
  cleanups: { push(stop: () => Promise<void>): void }
}): Promise<BacklogPhase<E>> {
  console.log(`loading a backlog of ${o.size} queued SMS behind ${o.size} of history`)
  const b = await loadBacklog(o.size, o.size, o.seedAccount, (line) => console.log(`  ${line}`))
  o.cleanups.push(() => b.t.drop())
  console.log(`backlog loaded in ${b.loadSeconds.toFixed(1)} s`)
  const empty: E[] = []
  const drains: BacklogDrain[] = []
  const problems: string[] = []
  let afterId = b.firstQueuedId - 1
  // A warm-up on the backlog: its first claims and pages read are cold.
  for (let round = 0; round <= o.rounds; round++) {
    const name = round === 0 ? 'warm-up' : `round ${round}`
    if (round > 0) empty.push(await o.drainEmpty(`empty queue ${name}`))
    const count = round === 0 ? Math.min(o.messages, 1000) : o.messages
    const d = await drainBacklog(b, o.smsc, `backlog ${name}`, count, o.config, afterId)
    problems.push(...backlogProblems(d, afterId))
    afterId = d.lastId
    if (round > 0) drains.push(d)
  }
  const emptyRate = median(empty.map((e) => e.sentRate))
  const backlogRate = median(drains.map((d) => d.sentRate))
  const facts = {
    queued: b.queued,
    history: b.history,
    firstQueuedId: b.firstQueuedId,
    lastQueuedId: b.lastQueuedId,
    loadSeconds: b.loadSeconds,
  }
  return {
    backlog: facts,
    empty,
    drains,
    emptyRate,
    backlogRate,
    ratio: backlogRate / emptyRate,
    deliveredRatio:
      median(drains.map((d) => d.deliveredRate)) / median(empty.map((e) => e.deliveredRate)),
    problems,
  }
}

/** The summary's lines about the backlog. */
export function describeBacklog(p: BacklogPhase): string[] {
  const rates = (xs: Array<{ sentRate: number }>) => xs.map((x) => x.sentRate.toFixed(0)).join(', ')
  const met = p.ratio >= BACKLOG_TARGET ? 'met' : 'NOT met'
  return [
    `backlog    ${p.backlog.queued} SMS queued behind ${p.backlog.history} of history, loaded in ` +
      `${p.backlog.loadSeconds.toFixed(0)} s; drains of ${p.drains[0]?.messages ?? 0}, alternating:`,
    `           empty queue rounds ${rates(p.empty)} SMS/s; median ${p.emptyRate.toFixed(0)} SMS/s`,
    `           backlog rounds ${rates(p.drains)} SMS/s; median ${p.backlogRate.toFixed(0)} SMS/s`,
    `           backlog/empty ${p.ratio.toFixed(2)} (target >= ${BACKLOG_TARGET}: ${met}); ` +
      `with receipts ${p.deliveredRatio.toFixed(2)}`,
  ]
}
