/**
 * Runs the worker against the carrier-like SMSC with one carrier habit switched on: SMS written
 * straight into outbound_sms, a worker draining them, and the figures of what happened (submits,
 * duplicates, final statuses). Shared by test/smsc/carrier-habits.test.ts and
 * bench/carrier-habits.ts.
 */
import path from 'node:path'
import { loadConfig, type SmppConfig, type WorkerConfig } from '../../../lib/config'
import type { Db } from '../../../lib/db/connection'
import { dedupeKeyFor, insertEmails, type NewSms } from '../../../lib/db/outbound'
import { startTestWorker, testSmppConfig, testWorkerConfig } from '../../worker/harness'
import { seedSendingAccount } from '../accounts'
import { CarrierSmsc, type CarrierQuirks } from './carrier'

export const HABITS = [
  'baseline',
  'ids-hex-to-decimal-national',
  'ids-decimal-to-hex-00',
  'same-id-all-segments',
  'per-message-receipts',
  'rate-limit-20',
  'generic-nack-one-part',
  'silent-application',
  'no-receipt',
] as const

export type HabitName = (typeof HABITS)[number]

export interface HabitResult {
  habit: HabitName
  sms: number
  submits: number
  accepted: number
  duplicates: number
  /** Final outbound_sms.status counts; what is left in sent/queued/sending counts too. */
  statuses: Record<string, number>
  seconds: number
}

/** Statuses an SMS never leaves. */
export const FINAL_STATUSES = [
  'delivered',
  'undeliverable',
  'expired',
  'failed',
  'partial',
  'unknown',
] as const

/** The settings a deployment gets when mail2sms.ini leaves them out. */
const PRODUCT_DEFAULTS = loadConfig(path.join(__dirname, 'no-such-dir', 'mail2sms.ini'), {})

/** SMPP generic_nack status for part 2 in generic-nack-one-part: ESME_RINVCMDLEN. */
const NACK_STATUS = 0x02
const SILENT_FOR_MS = 3000

interface Habit {
  quirks: Partial<CarrierQuirks>
  smpp?: Partial<SmppConfig>
  worker?: Partial<WorkerConfig>
  /** Three-part GSM texts instead of one-part ones. */
  long: boolean
  /** How long to wait for every SMS to be final, before the per-SMS allowance. */
  deadlineMs: number
  /** Run once the worker has started (switch a quirk off later, say). */
  during?: (smsc: CarrierSmsc) => NodeJS.Timeout
  expected: string
}

const HABIT_TABLE: Readonly<Record<HabitName, Habit>> = {
  baseline: { quirks: {}, long: false, deadlineMs: 5000, expected: 'delivered' },
  'ids-hex-to-decimal-national': {
    quirks: {
      respIdFormat: 'hex-padded',
      receiptIdFormat: 'decimal',
      receiptSource: 'national',
      receiptTlvs: false,
    },
    long: false,
    deadlineMs: 5000,
    expected: 'delivered',
  },
  'ids-decimal-to-hex-00': {
    quirks: { respIdFormat: 'decimal', receiptIdFormat: 'hex', receiptSource: 'intl-00' },
    long: false,
    deadlineMs: 5000,
    expected: 'delivered',
  },
  'same-id-all-segments': {
    quirks: { sameIdForAllSegments: true, receipts: 'per-part' },
    long: true,
    deadlineMs: 5000,
    expected: 'delivered',
  },
  'per-message-receipts': {
    quirks: { receipts: 'per-message', perMessageReceiptPart: 'last' },
    smpp: { receiptPartWaitMs: 2000 },
    long: true,
    deadlineMs: 6000,
    expected: 'delivered',
  },
  'rate-limit-20': {
    quirks: { maxSubmitsPerSecond: 20 },
    smpp: { window: 10 },
    long: true,
    deadlineMs: 8000,
    expected: 'delivered',
  },
  'generic-nack-one-part': {
    quirks: { genericNack: (s) => (s.concat?.seq === 2 ? NACK_STATUS : null) },
    long: true,
    deadlineMs: 6000,
    expected: 'partial',
  },
  'silent-application': {
    quirks: { silentApplication: true },
    smpp: { requestTimeoutMs: 500 },
    long: false,
    deadlineMs: 9000,
    during: (smsc) => setTimeout(() => smsc.setQuirks({ silentApplication: false }), SILENT_FOR_MS),
    expected: 'delivered',
  },
  'no-receipt': {
    quirks: { receipts: 'none' },
    worker: { receiptTimeoutMs: 3000 },
    long: false,
    deadlineMs: 8000,
    expected: 'unknown',
  },
}

/** What the habit tests assert: no part accepted twice, and every SMS in this final status. */
export function expectedOutcome(habit: HabitName): { duplicates: 0; status: string } {
  return { duplicates: 0, status: HABIT_TABLE[habit].expected }
}

/** The longest a run of `habit` with `count` SMS waits before it reports what it has. */
export function habitDeadlineMs(habit: HabitName, count: number): number {
  const h = HABIT_TABLE[habit]
  // Each SMS costs one submit, or three; rate-limit-20 is the slowest at 20 a second.
  return h.deadlineMs + count * (h.long ? 150 : 30)
}

/** Body of SMS `i`: GSM-7, distinct, one segment or three (between 307 and 459 septets). */
export function habitText(habit: HabitName, i: number, long: boolean): string {
  const head = `Habit ${habit} SMS ${i}: your parcel arrives today between 10:00 and 12:00.`
  if (!long) return head
  const filler = ' Please keep this message: it holds the tracking details you may need later.'
  let text = head
  while (text.length < 400) text += filler
  return text.slice(0, 400)
}

async function seedSms(db: Db, habit: HabitName, count: number, long: boolean): Promise<number[]> {
  // Several habits may run on one database: each gets its own account and numbers.
  const n = String(HABITS.indexOf(habit)).padStart(2, '0')
  const stamp = Date.now().toString(36)
  const { account, senders } = await seedSendingAccount(db, { ref: `habit-${n}-${stamp}` }, [
    `habit${n}.${stamp}@example.com`,
  ])
  const tag = `${habit}.${stamp}`
  const emails: NewSms[][] = Array.from({ length: count }, (_, i) => {
    const recipient = `+336${n}${String(i).padStart(6, '0')}`
    return [
      {
        accountId: account.id,
        senderId: senders[0].id,
        senderEmail: senders[0].email,
        recipient,
        body: habitText(habit, i, long),
        encoding: 'gsm7',
        segments: long ? 3 : 1,
        sourceMessageId: `<${tag}.${i}@habits.example>`,
        dedupeKey: dedupeKeyFor(`${tag}.${i}`, recipient, null),
        mxTransaction: `${tag}.${i}`,
        timeZone: 'UTC',
      },
    ]
  })
  const results = await insertEmails(db, emails, Date.now())
  return results.flatMap((r) => r.ids)
}

async function statusCounts(db: Db, ids: number[]): Promise<Record<string, number>> {
  const rows: Array<{ status: string; n: number | string }> = await db('outbound_sms')
    .whereIn('id', ids)
    .groupBy('status')
    .select('status', db.raw('count(*) as n'))
  return Object.fromEntries(rows.map((r) => [String(r.status), Number(r.n)]))
}

function allFinal(statuses: Record<string, number>, count: number): boolean {
  const final = FINAL_STATUSES.reduce((sum, s) => sum + (statuses[s] ?? 0), 0)
  return final === count
}

export async function runHabit(
  habit: HabitName,
  opts: { db: Db; count: number; log?: (line: string) => void },
): Promise<HabitResult> {
  const h = HABIT_TABLE[habit]
  const log = opts.log ?? (() => undefined)
  const ids = await seedSms(opts.db, habit, opts.count, h.long)
  // Each habit's SMSC numbers its messages in a range of its own: habits share one database in
  // the tests, and a receipt quoting an id another habit's SMS also holds would be ambiguous.
  const firstMessageId = 4_000_000_000 + HABITS.indexOf(habit) * 1_000_000
  const smsc = await CarrierSmsc.start({ quirks: h.quirks, firstMessageId })
  const started = Date.now()
  const worker = startTestWorker(
    opts.db,
    testSmppConfig(smsc.port, { receipts: PRODUCT_DEFAULTS.smpp.receipts, ...h.smpp }),
    testWorkerConfig({ retryInitialMs: 100, retryMaxMs: 1000, ...h.worker }),
  )
  const timer = h.during?.(smsc)
  const deadline = started + habitDeadlineMs(habit, opts.count)
  let statuses = await statusCounts(opts.db, ids)
  try {
    while (!allFinal(statuses, ids.length) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50))
      statuses = await statusCounts(opts.db, ids)
    }
  } finally {
    if (timer) clearTimeout(timer)
    await worker.stop(1000)
    await smsc.close()
  }
  statuses = await statusCounts(opts.db, ids)
  const seconds = (Date.now() - started) / 1000
  const result: HabitResult = {
    habit,
    sms: ids.length,
    submits: smsc.submits.length,
    accepted: smsc.accepted().length,
    duplicates: smsc.duplicates(),
    statuses,
    seconds,
  }
  log(
    `habit=${habit} sms=${result.sms} submits=${result.submits} accepted=${result.accepted} ` +
      `duplicates=${result.duplicates} statuses=${JSON.stringify(statuses)} seconds=${seconds.toFixed(1)}`,
  )
  return result
}
