import type { Db } from '../connection'
import { fromIndex as fromIndexOf } from '../index-hint'
import type { SmsStatus } from './sms-status'

/**
 * The account's message log, as the admin shows it: newest first, filtered by number, sender or
 * status, paged by id (keyset) so that a page deep in a million rows costs what the first does.
 * Every query starts with `account_id =` and is read in the order of one of the log indexes
 * (migrations/20261127160500_index_outbound_sms_log.ts), so it stops after one page of rows.
 */

/** The five states the log shows; the worker's own states are finer. */
export type LogStatus = 'queued' | 'sent' | 'delivered' | 'failed' | 'unknown'

export const LOG_STATUSES: readonly LogStatus[] = [
  'queued',
  'sent',
  'delivered',
  'failed',
  'unknown',
]

export const STATUSES_OF: Record<LogStatus, SmsStatus[]> = {
  // 'sending' is a worker's lease: to the account it is still waiting.
  queued: ['queued', 'sending'],
  sent: ['sent'],
  delivered: ['delivered'],
  // A partly delivered SMS failed as a whole: its recipient has an incomplete text, and its
  // sender gets a failure notice, as for the others here. Its detail says which parts arrived.
  failed: ['failed', 'undeliverable', 'expired', 'partial'],
  // No final receipt ever came: neither delivered nor failed as far as anyone knows, and no
  // notice was sent. Its own group, so that the account can find them and the chart's delivery
  // rate leaves them out rather than count them either way.
  unknown: ['unknown'],
}

export function isLogStatus(value: string): value is LogStatus {
  return (LOG_STATUSES as readonly string[]).includes(value)
}

export function logStatusOf(status: string): LogStatus {
  for (const group of LOG_STATUSES) {
    if ((STATUSES_OF[group] as string[]).includes(status)) return group
  }
  // A state a newer worker may add: shown as waiting rather than hidden.
  return 'queued'
}

export interface SmsLogFilter {
  /** A whole number in E.164, matched exactly. */
  number?: string
  /** '+' and the first digits of a number: every number that starts with them. */
  numberPrefix?: string
  /** The sender's address, matched without case. */
  sender?: string
  status?: LogStatus
  /** Keyset: only SMS with a smaller id (the `nextBefore` of the previous page). */
  before?: number
  /** Only SMS created at or after this time (ms since the epoch). */
  from?: number
  /** Only SMS created before this time (ms since the epoch). */
  to?: number
  /** Digits found anywhere in the number: '5678' finds +33612345678. */
  numberContains?: string
  /** Part of the sender's address, without case: 'dupont' or '@acme.test'. */
  senderContains?: string
}

export interface SmsLogEntry {
  id: number
  createdAt: number
  senderEmail: string
  recipient: string
  body: string
  segments: number
  status: LogStatus
  /** The worker's own state, e.g. 'undeliverable', 'expired' or 'partial' for a failed SMS. */
  detail: string
  /** Which parts of a partly delivered SMS arrived (numbers from 1, ascending); else null. */
  delivery: PartDelivery | null
  /** Why it failed, or why the last attempt did when it is queued for a retry. */
  reason: string | null
  errorCode: number | null
  sentAt: number | null
  finalAt: number | null
  encoding: string
  /** The last error as stored, whatever the status (the export shows it; the page, `reason`). */
  lastError: string | null
  /** The MX transaction id: the `trace=` of every log line about this SMS. */
  trace: string | null
  /** What the retention purge removed (bits of lib/db/purged.ts): those fields are blank. */
  purged: number
}

export interface PartDelivery {
  delivered: number[]
  /** The SMS's number of parts. */
  of: number
}

export interface SmsLogPage {
  rows: SmsLogEntry[]
  /** The `before` of the next page, or null when this is the last one. */
  nextBefore: number | null
  /**
   * Set when a partial search stopped at its reading budget before filling the page: the time
   * of the oldest SMS it read. The next page (nextBefore) goes on from there.
   */
  searchedBackTo: number | null
}

const COLUMNS = [
  'id',
  'created_at',
  'sender_email',
  'recipient',
  'body',
  'segments',
  'parts',
  'status',
  'last_error',
  'error_code',
  'sent_at',
  'final_at',
  'encoding',
  'mx_transaction',
  'purged',
]

const NUMBER_PREFIX = /^\+\d{1,15}$/
const E164 = /^\+[1-9]\d{1,14}$/

/**
 * The smallest string above every number that starts with `prefix`, for a range that an index
 * can read: '+336' -> '+337', '+3369' -> '+337'. Null when nothing is above (a prefix of 9s).
 * A range rather than LIKE: SQLite only reads an index for LIKE under case-sensitive settings,
 * and digits sort the same in every collation.
 */
export function prefixUpperBound(prefix: string): string | null {
  const trimmed = prefix.replace(/9+$/, '')
  if (trimmed.length <= 1) return null
  const last = trimmed.charCodeAt(trimmed.length - 1)
  return trimmed.slice(0, -1) + String.fromCharCode(last + 1)
}

const DIGITS = /^\d{1,15}$/

function checkFilter(filter: SmsLogFilter): void {
  if (filter.numberContains !== undefined && !DIGITS.test(filter.numberContains)) {
    throw new RangeError(`number part must be 1 to 15 digits, got "${filter.numberContains}"`)
  }
  if (filter.senderContains !== undefined && !filter.senderContains.trim()) {
    throw new RangeError('sender part must not be empty')
  }
  for (const bound of [filter.from, filter.to]) {
    if (bound !== undefined && !Number.isSafeInteger(bound)) {
      throw new RangeError(`date bounds must be whole milliseconds, got ${bound}`)
    }
  }
  if (filter.number !== undefined && !E164.test(filter.number)) {
    throw new RangeError(`number filter must be E.164, got "${filter.number}"`)
  }
  if (filter.numberPrefix !== undefined && !NUMBER_PREFIX.test(filter.numberPrefix)) {
    throw new RangeError(`number prefix must be '+' and digits, got "${filter.numberPrefix}"`)
  }
  if (filter.before !== undefined && !Number.isSafeInteger(filter.before)) {
    throw new RangeError(`before must be a whole number, got ${filter.before}`)
  }
}

// The log indexes (migrations/20261127160500_index_outbound_sms_log.ts), named in the queries:
// MariaDB 10.11, given `account_id = ? AND id < ?`, reads the (account_id, id) index as a `ref`
// on account_id alone and walks it down from the newest row to `before`, which takes seconds
// on a deep page of a million rows. Named, the index is read as a range that starts at `before`.
const INDEX = {
  account: 'outbound_sms_account_id_id_index',
  recipient: 'outbound_sms_account_recipient_id',
  sender: 'outbound_sms_account_sender_id',
  status: 'outbound_sms_account_status_id',
  createdAt: 'outbound_sms_account_created_at',
} as const

type LogIndex = (typeof INDEX)[keyof typeof INDEX]

/**
 * Ids read from one index alone (no row) to narrow a filter that no index serves in id order:
 * up to this many per set. Reading them costs about what fetching a few hundred rows does.
 */
export const ID_SET_LIMIT = 20_000
/** Rows fetched by id at a time while walking candidate ids. */
const WALK_CHUNK = 500

function fromIndex(db: Db, index: LogIndex | 'PRIMARY') {
  return fromIndexOf(db, 'outbound_sms', index)
}

type Query = ReturnType<typeof fromIndex>

function whereNumber(q: Query, filter: SmsLogFilter): void {
  if (filter.number !== undefined) q.where('recipient', filter.number)
  if (filter.numberPrefix !== undefined) {
    q.where('recipient', '>=', filter.numberPrefix)
    const upper = prefixUpperBound(filter.numberPrefix)
    if (upper !== null) q.where('recipient', '<', upper)
  }
}

// Stored lower-cased by the MX (normaliseEmail), so an exact match reads the index.
const senderOf = (filter: SmsLogFilter): string | undefined => filter.sender?.trim().toLowerCase()

/**
 * The keyset bound and the date range. The range is exact on created_at; the id bounds that
 * boundsForDates adds let every index read start and stop inside it.
 */
function whereBefore(q: Query, filter: BoundedFilter): Query {
  if (filter.before !== undefined) q.where('id', '<', filter.before)
  if (filter.afterId !== undefined) q.where('id', '>=', filter.afterId)
  if (filter.from !== undefined) q.where('created_at', '>=', filter.from)
  if (filter.to !== undefined) q.where('created_at', '<', filter.to)
  return q
}

/** A filter once its dates are known as ids too. */
interface BoundedFilter extends SmsLogFilter {
  /** The smallest id the date range can hold. */
  afterId?: number
}

/**
 * How far created_at may run out of id order: ids are given at insert, created_at a moment
 * before by the MX node that wrote the row, so two nodes' clocks and a slow insert can put a
 * row's time a little before an older id's. The id bounds are widened by this much time; the
 * created_at condition keeps the range exact.
 */
export const CLOCK_SLACK_MS = 5 * 60_000

/** Escapes LIKE's wildcards in a searched part, for `LIKE ? ESCAPE '!'`. */
function likePattern(part: string): string {
  return `%${part.replace(/[!%_]/g, (ch) => `!${ch}`)}%`
}

/**
 * The id bounds of a date range, from the (account_id, created_at) index: one entry read for
 * each end. An SMS created before `from` minus the slack was inserted before every SMS of the
 * range, so its id is a floor; one created at `to` plus the slack or later was inserted after
 * them all, so its id is a ceiling. Without such an SMS that end has no id bound. Null when the
 * range is empty.
 */
async function boundsForDates(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
): Promise<BoundedFilter | null> {
  if (filter.from === undefined && filter.to === undefined) return filter
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) return null
  const edge = async (op: '<' | '>=', time: number, dir: 'asc' | 'desc') => {
    const [row] = (await fromIndex(db, INDEX.createdAt)
      .select('id')
      .where('account_id', accountId)
      .where('created_at', op, time)
      .orderBy('created_at', dir)
      .limit(1)) as Array<{ id: unknown }>
    return row ? Number(row.id) : undefined
  }
  let { before } = filter
  let afterId: number | undefined
  if (filter.to !== undefined) {
    const ceiling = await edge('>=', filter.to + CLOCK_SLACK_MS, 'asc')
    if (ceiling !== undefined) before = before === undefined ? ceiling : Math.min(before, ceiling)
  }
  if (filter.from !== undefined) {
    const floor = await edge('<', filter.from - CLOCK_SLACK_MS, 'desc')
    if (floor !== undefined) afterId = floor + 1
  }
  return { ...filter, before, afterId }
}

function whereFilter(q: Query, filter: BoundedFilter, states: SmsStatus[] | null): void {
  whereNumber(q, filter)
  const sender = senderOf(filter)
  if (sender !== undefined) q.where('sender_email', sender)
  if (states !== null) q.whereIn('status', states)
  if (filter.numberContains !== undefined) {
    q.whereRaw("recipient LIKE ? ESCAPE '!'", [likePattern(filter.numberContains)])
  }
  if (filter.senderContains !== undefined) {
    const part = filter.senderContains.trim().toLowerCase()
    q.whereRaw("sender_email LIKE ? ESCAPE '!'", [likePattern(part)])
  }
  whereBefore(q, filter)
}

/**
 * Every id that `where` selects in `index`, read from the index alone, or null when there are
 * more than `limit` (no ORDER BY: in the index's own order, the read stops at the limit).
 */
async function idSet(
  db: Db,
  accountId: number,
  index: LogIndex,
  where: (q: Query) => void,
  limit: number,
): Promise<number[] | null> {
  const q = fromIndex(db, index)
    .select('id')
    .where('account_id', accountId)
    .limit(limit + 1)
  where(q)
  const rows = (await q) as Array<{ id: number | string }>
  return rows.length > limit ? null : rows.map((r) => Number(r.id))
}

/**
 * Ids that contain every match of a filter no single index reads in id order (a number prefix;
 * a sender and a status): the first set, in that order, that is small enough to read whole.
 * Null when none is. The rows are then read by id and checked against the whole filter.
 */
async function candidateIds(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  limit: number,
): Promise<number[] | null> {
  const sender = senderOf(filter)
  const sets: Array<() => Promise<number[] | null>> = []
  if (filter.numberPrefix !== undefined) {
    sets.push(() =>
      idSet(
        db,
        accountId,
        INDEX.recipient,
        (q) => whereNumber(whereBefore(q, filter), filter),
        limit,
      ),
    )
  }
  if (sender !== undefined && filter.status !== undefined) {
    sets.push(() =>
      idSet(
        db,
        accountId,
        INDEX.sender,
        (q) => whereBefore(q, filter).where('sender_email', sender),
        limit,
      ),
    )
    const states = STATUSES_OF[filter.status]
    sets.push(async () => {
      const ids: number[] = []
      for (const state of states) {
        const set = await idSet(
          db,
          accountId,
          INDEX.status,
          (q) => whereBefore(q, filter).where('status', state),
          limit,
        )
        if (set === null) return null
        ids.push(...set)
      }
      return ids
    })
  }
  for (const read of sets) {
    const ids = await read()
    if (ids !== null) return ids.sort((a, b) => b - a)
  }
  return null
}

/** Rows among the candidates that match the whole filter, newest first, up to `wanted`. */
async function walkIds(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  ids: number[],
  wanted: number,
): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = []
  const states = filter.status ? STATUSES_OF[filter.status] : null
  let i = 0
  while (i < ids.length && found.length < wanted) {
    // The first read is one page: with an exact candidate set, it is the only one.
    const size = i === 0 ? wanted : WALK_CHUNK
    // By id: on a small table MariaDB would rather read the whole account from its index.
    const q = fromIndex(db, 'PRIMARY').select(COLUMNS).where('account_id', accountId)
    q.whereIn('id', ids.slice(i, i + size))
    whereFilter(q, filter, states)
    found.push(...((await q) as Array<Record<string, unknown>>))
    i += size
  }
  return found
}

/**
 * The index a page is read from when the filter has one that serves it in id order, so that
 * the read stops after one page: the number, the status (one query per worker state), the
 * sender, or the account. With a number prefix or a sender and a status too large for
 * candidateIds, the status's or the sender's index, filtering the rest as it goes: most SMS are
 * delivered, so a state other than that is the rarer one.
 */
function indexFor(filter: SmsLogFilter, state: SmsStatus | null): LogIndex {
  if (filter.number !== undefined) return INDEX.recipient
  if (state !== null && (state !== 'delivered' || filter.sender === undefined)) return INDEX.status
  if (filter.sender !== undefined) return INDEX.sender
  return INDEX.account
}

/** Ids of one page in one worker state (or any), in the order of the index that serves it. */
function pageIds(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  state: SmsStatus | null,
  wanted: number,
) {
  const q = fromIndex(db, indexFor(filter, state))
    .where('account_id', accountId)
    .orderBy('id', 'desc')
    .limit(wanted)
  whereFilter(q, filter, state === null ? null : [state])
  return q
}

/**
 * One page read through the index of its filter. Several worker states (a status such as
 * failed) are one statement: each state's newest ids from its own part of the index, merged
 * and cut to a page, then only those rows, so that a page never carries three pages of rows.
 */
async function readByIndex(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  wanted: number,
): Promise<Array<Record<string, unknown>>> {
  const states = filter.status ? STATUSES_OF[filter.status] : [null]
  if (states.length === 1) {
    return pageIds(db, accountId, filter, states[0], wanted).select(COLUMNS)
  }
  const [first, ...others] = states.map((state, i) =>
    db.select('id').from(pageIds(db, accountId, filter, state, wanted).select('id').as(`s${i}`)),
  )
  const ids = first.unionAll(others, false).orderBy('id', 'desc').limit(wanted)
  return fromIndex(db, 'PRIMARY')
    .join(ids.as('page'), 'outbound_sms.id', 'page.id')
    .where('outbound_sms.account_id', accountId)
    .select(COLUMNS.map((c) => `outbound_sms.${c}`))
}

function toEntry(row: Record<string, unknown>): SmsLogEntry {
  const status = logStatusOf(String(row.status))
  const lastError = (row.last_error as string | null) ?? null
  return {
    id: Number(row.id),
    createdAt: Number(row.created_at),
    senderEmail: String(row.sender_email),
    recipient: String(row.recipient),
    body: String(row.body),
    segments: Number(row.segments),
    status,
    detail: String(row.status),
    // Filled in by readDeliveredParts. parts is set by the worker at the first submit, and
    // segments is what the MX planned: the same but for rows older than the parts column.
    delivery:
      row.status === 'partial' ? { delivered: [], of: Number(row.parts ?? row.segments) } : null,
    // A delivered or sent SMS may keep the error of an attempt that was retried: not a reason.
    reason: status === 'failed' || status === 'queued' ? lastError : null,
    errorCode:
      row.error_code === null || row.error_code === undefined ? null : Number(row.error_code),
    sentAt: row.sent_at === null || row.sent_at === undefined ? null : Number(row.sent_at),
    finalAt: row.final_at === null || row.final_at === undefined ? null : Number(row.final_at),
    encoding: String(row.encoding),
    lastError,
    trace: (row.mx_transaction as string | null) ?? null,
    purged: Number(row.purged ?? 0),
  }
}

/**
 * Fills in which parts of the page's partly delivered SMS arrived: one read of their part rows
 * by sms_id, and none on a page without such an SMS.
 */
async function readDeliveredParts(db: Db, entries: SmsLogEntry[]): Promise<void> {
  const partial = new Map<number, PartDelivery>()
  for (const e of entries) if (e.delivery) partial.set(e.id, e.delivery)
  if (partial.size === 0) return
  const parts = (await db('outbound_sms_parts')
    .whereIn('sms_id', [...partial.keys()])
    .where('state', 'delivered')
    .orderBy('part_no')
    .select('sms_id', 'part_no')) as Array<{ sms_id: number | string; part_no: number | string }>
  for (const p of parts) {
    const delivery = partial.get(Number(p.sms_id)) as PartDelivery
    const no = Number(p.part_no)
    // A part reported twice (two receipts for one id) is still one part.
    if (!delivery.delivered.includes(no)) delivery.delivered.push(no)
    delivery.of = Math.max(delivery.of, no)
  }
}

/**
 * One page of the account's log. A status that stands for several worker states is read with
 * one query per state, each in the order of (account_id, status, id), and merged here: with
 * `status IN (…)` MariaDB reads every matching row and sorts them before the LIMIT. A filter
 * that no index reads in id order first narrows the ids with candidateIds.
 */
export async function listAccountSms(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  limit: number,
  options: { idSetLimit?: number; searchBudget?: number } = {},
): Promise<SmsLogPage> {
  checkFilter(filter)
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad page size ${limit}`)
  const bounded = await boundsForDates(db, accountId, filter)
  if (bounded === null) return { rows: [], nextBefore: null, searchedBackTo: null }
  if (bounded.numberContains !== undefined || bounded.senderContains !== undefined) {
    return searchWindow(db, accountId, bounded, limit, options.searchBudget ?? SEARCH_BUDGET)
  }
  filter = bounded
  const wanted = limit + 1
  const idSetLimit = options.idSetLimit ?? ID_SET_LIMIT
  const candidates =
    filter.number === undefined ? await candidateIds(db, accountId, filter, idSetLimit) : null
  const found =
    candidates !== null
      ? await walkIds(db, accountId, filter, candidates, wanted)
      : await readByIndex(db, accountId, filter, wanted)
  const rows = found
    .map(toEntry)
    .sort((a, b) => b.id - a.id)
    .slice(0, wanted)
  const page = rows.slice(0, limit)
  await readDeliveredParts(db, page)
  return {
    rows: page,
    nextBefore: rows.length > limit ? page[page.length - 1].id : null,
    searchedBackTo: null,
  }
}

/** SMS a partial search reads at most for one page, newest first. */
export const SEARCH_BUDGET = 1_000

/**
 * A partial number or address: no index reads "contains", so the search reads the account's
 * SMS in id order, at most `budget` of them per page, and checks each. A page that fills stops
 * there; one that does not says how far back it read, and its next page goes on from there.
 * Either way a page costs at most `budget` rows, however large the account.
 */
async function searchWindow(
  db: Db,
  accountId: number,
  filter: BoundedFilter,
  limit: number,
  budget: number,
): Promise<SmsLogPage> {
  // The budget-th SMS down from where the page starts, read from the index alone but its time.
  // The id alone, so that the index is read without its rows: an OFFSET over rows would fetch
  // every one of the budget's rows just to skip them.
  const floorQuery = fromIndex(db, INDEX.account)
    .select('id')
    .where('account_id', accountId)
    .orderBy('id', 'desc')
    .offset(budget - 1)
    .limit(1)
  if (filter.before !== undefined) floorQuery.where('id', '<', filter.before)
  if (filter.afterId !== undefined) floorQuery.where('id', '>=', filter.afterId)
  const [floor] = (await floorQuery) as Array<{ id: unknown }>
  const window: BoundedFilter = floor
    ? { ...filter, afterId: Math.max(filter.afterId ?? 0, Number(floor.id)) }
    : filter
  const q = fromIndex(db, INDEX.account)
    .select(COLUMNS)
    .where('account_id', accountId)
    .orderBy('id', 'desc')
    .limit(limit + 1)
  whereFilter(q, window, filter.status ? STATUSES_OF[filter.status] : null)
  const found = ((await q) as Array<Record<string, unknown>>).map(toEntry)
  const page = found.slice(0, limit)
  await readDeliveredParts(db, page)
  if (found.length > limit) {
    return { rows: page, nextBefore: page[page.length - 1].id, searchedBackTo: null }
  }
  // The window ran out before the page filled: older SMS remain unread, unless the date range
  // ends inside the window anyway.
  const more =
    floor !== undefined && (filter.afterId === undefined || Number(floor.id) > filter.afterId)
  if (!more) return { rows: page, nextBefore: null, searchedBackTo: null }
  const [reached] = (await fromIndex(db, 'PRIMARY')
    .select('created_at')
    .where({ id: Number(floor.id), account_id: accountId })) as Array<{ created_at: unknown }>
  return { rows: page, nextBefore: Number(floor.id), searchedBackTo: Number(reached.created_at) }
}
