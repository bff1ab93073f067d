import type { Db } from '../lib/db/connection'
import { DAY_MS } from '../lib/db/outbound'
import { analyseSms } from '../lib/sms'
import { seededRandom } from '../test/support/seeded-random'

/**
 * A message log the size of a busy account's, for bench:admin: one million SMS over 90 days,
 * with the mix a real log has (mostly delivered, a few percent failed with their reasons,
 * the last minutes still queued or waiting for a receipt), thousands of numbers, a few dozen
 * senders of very unequal activity, quiet weekends. Deterministic: the same seed gives the
 * same rows, so two runs measure the same pages.
 */

export interface LogShape {
  accountId: number
  senderIds: Map<string, number>
  rows: number
  /** Rows of another account, interleaved: the log must never read them. */
  otherAccountId: number
  otherRows: number
  days: number
  now: number
}

export interface LoadResult {
  rows: number
  otherRows: number
  seconds: number
}

export const BENCH_SENDERS = Array.from({ length: 40 }, (_, i) => `agent${i + 1}@bench.example`)

/** French mobiles, +336 and +337: the number filter has real prefixes to work with. */
export function benchNumbers(count: number, seed = 7): string[] {
  const random = seededRandom(seed)
  const seen = new Set<string>()
  while (seen.size < count) {
    const head = random() < 0.7 ? '6' : '7'
    seen.add(`+33${head}${String(Math.floor(random() * 1e8)).padStart(8, '0')}`)
  }
  return [...seen]
}

const TEMPLATES = [
  'Votre rendez-vous est confirmé pour demain à {h}h. Répondez STOP pour annuler.',
  'Rappel : la livraison n°{n} arrive entre {h}h et {h2}h.',
  'Le serveur db{n} ne répond plus depuis {m} minutes. Astreinte prévenue.',
  'Code de vérification : {n}',
  'Intervention {n} terminée. Merci de signer le bon sur le portail client.',
  'Your order {n} has shipped and should arrive within {m} days.',
  'Alerte température chambre froide {n} : {m} °C à {h}h{m}.',
  'Bonjour, pouvez-vous rappeler le standard au sujet du dossier {n} ? Merci, bonne journée.',
  "Réunion de chantier déplacée à {h}h, même endroit. N'oubliez pas les EPI.",
  'Backup job {n} failed at {h}:{m}. See the report mailed to ops for details, then rerun it from the console.',
  'Facture {n} disponible : {m},{h} € à régler avant le {h}/{m}.',
  'Le colis {n} attend au point relais jusqu’à vendredi. Pièce d’identité demandée.',
  'Garde de nuit : le patient de la chambre {m} demande le médecin de service. Rappeler le poste {n} dès que possible, la famille est prévenue et attend en salle {h}.',
  'OK pour {h}h.',
]

/** A few hundred distinct bodies, each analysed once: the encoding and segment count are real. */
function bodyPool(
  random: () => number,
): Array<{ body: string; encoding: string; segments: number }> {
  const pool: Array<{ body: string; encoding: string; segments: number }> = []
  for (let i = 0; i < 400; i++) {
    const template = TEMPLATES[i % TEMPLATES.length]
    const body = template
      .replace(/\{n\}/g, () => String(10000 + Math.floor(random() * 90000)))
      .replace(/\{h\}/g, () => String(8 + Math.floor(random() * 10)))
      .replace(/\{h2\}/g, () => String(18 + Math.floor(random() * 3)))
      .replace(/\{m\}/g, () => String(Math.floor(random() * 59)).padStart(2, '0'))
    const analysis = analyseSms(body)
    pool.push({ body, encoding: analysis.encoding, segments: analysis.segments })
  }
  return pool
}

const FAILURES: Array<[status: string, error: string, code: number | null]> = [
  ['undeliverable', 'receipt: undeliverable (error 001)', null],
  ['undeliverable', 'receipt: undeliverable (error 034)', null],
  ['expired', 'receipt: expired', null],
  ['expired', 'expired: ESME_RSUBMITFAIL: submit_sm refused by the SMSC', 0x45],
  ['failed', 'ESME_RINVDSTADR: submit_sm refused by the SMSC', 0x0b],
  ['failed', 'ESME_RX_P_APPN: submit_sm refused by the SMSC', 0x65],
]

interface Outcome {
  status: string
  lastError: string | null
  errorCode: number | null
  sentAt: number | null
  finalAt: number | null
}

/** What has become of an SMS of this age: recent ones are still on their way. */
function outcomeOf(random: () => number, createdAt: number, now: number): Outcome {
  const age = now - createdAt
  const r = random()
  if (age < 10 * 60_000) {
    if (r < 0.2)
      return { status: 'queued', lastError: null, errorCode: null, sentAt: null, finalAt: null }
    if (r < 0.3)
      return { status: 'sending', lastError: null, errorCode: null, sentAt: null, finalAt: null }
    if (r < 0.7)
      return {
        status: 'sent',
        lastError: null,
        errorCode: null,
        sentAt: createdAt + 900,
        finalAt: null,
      }
  }
  const sentAt = createdAt + 200 + Math.floor(random() * 2000)
  if (r < 0.915 || age < 10 * 60_000) {
    return { status: 'delivered', lastError: null, errorCode: null, sentAt, finalAt: sentAt + 4000 }
  }
  // Some carriers never send a receipt: those stay 'sent'.
  if (r < 0.94) return { status: 'sent', lastError: null, errorCode: null, sentAt, finalAt: null }
  const [status, lastError, errorCode] = FAILURES[Math.floor(random() * FAILURES.length)]
  const submitted = status === 'failed' || errorCode !== null ? null : sentAt
  return { status, lastError, errorCode, sentAt: submitted, finalAt: sentAt + 60_000 }
}

/** Relative traffic of a day: quiet weekends, and a log that grew over the quarter. */
function dayWeight(day: number, index: number, days: number): number {
  const weekday = new Date(day * DAY_MS).getUTCDay()
  const weekend = weekday === 0 || weekday === 6 ? 0.25 : 1
  return weekend * (0.7 + (0.6 * index) / days)
}

/** Creation times for `count` SMS over the window, in order, within office hours mostly. */
function creationTimes(count: number, days: number, now: number, random: () => number): number[] {
  const today = Math.floor(now / DAY_MS)
  const dayNumbers = Array.from({ length: days }, (_, i) => today - days + 1 + i)
  const weights = dayNumbers.map((d, i) => dayWeight(d, i, days))
  const sum = weights.reduce((a, b) => a + b, 0)
  const times: number[] = []
  let assigned = 0
  dayNumbers.forEach((day, i) => {
    const n = i === days - 1 ? count - assigned : Math.round((count * weights[i]) / sum)
    assigned += n
    const start = day * DAY_MS + 7 * 3_600_000
    // Today's SMS end now, so the newest are minutes old and still on their way.
    const span = i === days - 1 ? Math.max(60_000, now - start) : 13 * 3_600_000
    const slice = Array.from({ length: n }, () => start + Math.floor(random() * span))
    slice.sort((a, b) => a - b)
    // One by one: spreading a day of a ten-million-row log overflows the stack.
    for (const time of slice) times.push(time)
  })
  return times.slice(0, count)
}

const COLUMNS = [
  'account_id',
  'sender_id',
  'sender_email',
  'recipient',
  'body',
  'encoding',
  'segments',
  'status',
  'attempts',
  'next_attempt_at',
  'last_error',
  'error_code',
  'parts',
  'sent_at',
  'final_at',
  'dedupe_key',
  'created_at',
  'updated_at',
]

/**
 * Inserts the log in creation order (ids grow with time, as in production) with multi-row
 * INSERTs of `batch` rows, several per transaction. Unique and foreign key checks are off for
 * this session only: every key is new and every reference exists, and the checks would double
 * the load time.
 */
export async function loadMessageLog(
  db: Db,
  shape: LogShape,
  progress: (done: number, total: number) => void = () => undefined,
  batch = 2000,
): Promise<LoadResult> {
  const started = process.hrtime.bigint()
  const random = seededRandom(20261127)
  const bodies = bodyPool(random)
  const numbers = benchNumbers(20_000)
  const senders = BENCH_SENDERS
  const total = shape.rows + shape.otherRows
  const times = creationTimes(total, shape.days, shape.now, random)
  // One row in every (total / otherRows) belongs to the other account.
  const otherEvery = shape.otherRows > 0 ? total / shape.otherRows : Infinity
  const placeholders = `(${COLUMNS.map(() => '?').join(', ')})`
  const sql = (n: number): string =>
    `INSERT INTO outbound_sms (${COLUMNS.join(', ')}) VALUES ${Array(n).fill(placeholders).join(', ')}`
  let done = 0
  let otherDone = 0
  const conn = await db.client.acquireConnection()
  try {
    const run = (text: string, values: unknown[] = []) =>
      new Promise<void>((resolve, reject) =>
        conn.query(text, values, (err: Error | null) => (err ? reject(err) : resolve())),
      )
    await run('SET unique_checks = 0, foreign_key_checks = 0')
    while (done < total) {
      await run('START TRANSACTION')
      for (let k = 0; k < 10 && done < total; k++) {
        const n = Math.min(batch, total - done)
        const values: unknown[] = []
        for (let j = 0; j < n; j++) {
          const i = done + j
          const isOther =
            otherDone < shape.otherRows && Math.floor((i + 1) / otherEvery) > otherDone
          if (isOther) otherDone++
          // A few senders do most of the sending, as in any office.
          const sender = senders[Math.floor(senders.length * random() ** 3)]
          const number = numbers[Math.floor(numbers.length * random() ** 2)]
          const body = bodies[Math.floor(random() * bodies.length)]
          const createdAt = times[i]
          const o = outcomeOf(random, createdAt, shape.now)
          values.push(
            isOther ? shape.otherAccountId : shape.accountId,
            isOther ? null : (shape.senderIds.get(sender) ?? null),
            isOther ? 'someone@other.example' : sender,
            number,
            body.body,
            body.encoding,
            body.segments,
            o.status,
            o.status === 'queued' ? 0 : 1,
            createdAt,
            o.lastError,
            o.errorCode,
            o.sentAt === null ? null : body.segments,
            o.sentAt,
            o.finalAt,
            `bench-${String(i).padStart(9, '0')}`,
            createdAt,
            o.finalAt ?? o.sentAt ?? createdAt,
          )
        }
        await run(sql(n), values)
        done += n
      }
      await run('COMMIT')
      progress(done, total)
    }
    await run('SET unique_checks = 1, foreign_key_checks = 1')
  } finally {
    await db.client.releaseConnection(conn)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { rows: total - otherDone, otherRows: otherDone, seconds }
}

/** Replies people send back: a few words mostly, sometimes more, sometimes STOP. */
const REPLIES = [
  'OK merci',
  'Bien reçu.',
  'Je serai là à {h}h.',
  'Pouvez-vous me rappeler ? Je ne suis pas disponible avant {h}h, merci.',
  'Oui',
  'Non, je dois reporter le rendez-vous {n}. Quelles sont les prochaines disponibilités ?',
  'STOP',
  'Merci, colis {n} bien récupéré.',
]

const INBOUND_COLUMNS = [
  'account_id',
  'from_number',
  'to_number',
  'body',
  'encoding',
  'parts',
  'missing_parts',
  'source',
  'dedupe_key',
  'status',
  'last_error',
  'mailed_to',
  'received_at',
  'mailed_at',
]

/** What became of a received SMS: mostly forwarded or a direct reply, a few of everything else. */
function inboundOutcome(random: () => number, body: string): [string, string | null] {
  if (body === 'STOP') return ['opt_out', null]
  const r = random()
  if (r < 0.7) return ['forwarded', null]
  if (r < 0.93) return ['replied', null]
  if (r < 0.96) return ['kept', null]
  if (r < 0.99) return ['failed', 'mail: 550 5.1.1 mailbox unavailable']
  return ['received', null]
}

/**
 * The SMS the account received over the same days, for the inbox page: `rows` of them from
 * the same numbers, in time order, with the outcomes a real inbox has. Same loading as the SMS
 * log (multi-row INSERTs, checks off for the session).
 */
export async function loadInboundLog(
  db: Db,
  shape: { accountId: number; rows: number; days: number; now: number },
  batch = 2000,
): Promise<LoadResult> {
  const started = process.hrtime.bigint()
  const random = seededRandom(20261206)
  const numbers = benchNumbers(20_000)
  const times = creationTimes(shape.rows, shape.days, shape.now, random)
  const placeholders = `(${INBOUND_COLUMNS.map(() => '?').join(', ')})`
  const sql = (n: number): string =>
    `INSERT INTO inbound_sms (${INBOUND_COLUMNS.join(', ')}) VALUES ${Array(n).fill(placeholders).join(', ')}`
  const conn = await db.client.acquireConnection()
  let done = 0
  try {
    const run = (text: string, values: unknown[] = []) =>
      new Promise<void>((resolve, reject) =>
        conn.query(text, values, (err: Error | null) => (err ? reject(err) : resolve())),
      )
    await run('SET unique_checks = 0, foreign_key_checks = 0')
    while (done < shape.rows) {
      await run('START TRANSACTION')
      for (let k = 0; k < 10 && done < shape.rows; k++) {
        const n = Math.min(batch, shape.rows - done)
        const values: unknown[] = []
        for (let j = 0; j < n; j++) {
          const i = done + j
          const body = REPLIES[Math.floor(random() * REPLIES.length)]
            .replace('{h}', String(8 + Math.floor(random() * 10)))
            .replace('{n}', String(10000 + Math.floor(random() * 90000)))
          const [status, lastError] = inboundOutcome(random, body)
          const receivedAt = times[i]
          const mailed = status === 'forwarded' || status === 'replied'
          values.push(
            shape.accountId,
            numbers[Math.floor(numbers.length * random() ** 2)],
            '+33700000001',
            body,
            'gsm7',
            1,
            0,
            'smpp',
            `bench-in-${String(i).padStart(9, '0')}`,
            status,
            lastError,
            mailed ? (status === 'replied' ? BENCH_SENDERS[i % 7] : 'accueil@bench.example') : null,
            receivedAt,
            mailed ? receivedAt + 1500 : null,
          )
        }
        await run(sql(n), values)
        done += n
      }
      await run('COMMIT')
    }
    await run('SET unique_checks = 1, foreign_key_checks = 1')
  } finally {
    await db.client.releaseConnection(conn)
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return { rows: done, otherRows: 0, seconds }
}
