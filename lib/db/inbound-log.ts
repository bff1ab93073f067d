import type { Db } from './connection'
import { fromIndex, indexedTable, type IndexedQuery } from './index-hint'
import type { InboundStatus } from './inbound'
import { prefixUpperBound } from './outbound'
import { PURGED_ADDRESSES, PURGED_TEXT } from './purged'
import { likePattern, type NumberSearch } from '../phone-search'
import { outcomeOf, parseMailedTo, type InboxOutcome } from '../inbound/inbox-outcome'

/**
 * An account's received SMS, as the admin's page lists them: newest first by the time they
 * were received, filtered by number, outcome and dates, in keyset pages on (received_at, id).
 * Every query starts with `account_id =` and names its index (migrations/
 * 20261206124000_index_inbound_sms_inbox.ts), so that a page reads about a page of rows:
 *
 * - no filter, dates, a whole number, an outcome: an index in page order, read as a range that
 *   starts at the page and stops after it (several states of an outcome: one such read each,
 *   merged, as lib/db/outbound/log.ts does);
 * - the beginning of a number, or SMS with missing parts: every matching id, read from an
 *   index alone, when there are at most ID_SET_LIMIT; then the page's rows by id;
 * - digits anywhere in a number (no index reads that), or the above when too many: a walk down
 *   the account in page order through an index that holds the number, at most SCAN_LIMIT
 *   entries per page. A page that ends there before it is full says how far it searched, and
 *   its next page goes on from there.
 */

/** The outcomes the page filters by; 'incomplete' is any SMS with parts missing. */
export type InboxOutcomeFilter =
  'pending' | 'forwarded' | 'replied' | 'failed' | 'kept' | 'opt_out' | 'opt_in' | 'incomplete'

export const INBOX_OUTCOMES: readonly InboxOutcomeFilter[] = [
  'pending',
  'forwarded',
  'replied',
  'failed',
  'kept',
  'opt_out',
  'opt_in',
  'incomplete',
]

export function isInboxOutcome(value: string): value is InboxOutcomeFilter {
  return (INBOX_OUTCOMES as readonly string[]).includes(value)
}

const STATES_OF: Record<Exclude<InboxOutcomeFilter, 'incomplete'>, InboundStatus[]> = {
  // 'mailing' is a dispatcher's lease: to the account it is still waiting.
  pending: ['received', 'mailing'],
  forwarded: ['forwarded'],
  replied: ['replied'],
  failed: ['failed'],
  kept: ['kept'],
  opt_out: ['opt_out'],
  opt_in: ['opt_in'],
}

/** A place in the list: the last SMS shown, or how far a search went. */
export interface InboxCursor {
  receivedAt: number
  id: number
}

export interface InboxFilter {
  number?: NumberSearch
  outcome?: InboxOutcomeFilter
  /** Received at or after this time (ms). */
  from?: number
  /** Received before this time (ms). */
  to?: number
  /** Keyset: only SMS after this place, in page order (the `next` of the previous page). */
  before?: InboxCursor
}

export interface InboxEntry {
  id: number
  receivedAt: number
  /** '' once the retention purge removed it (addressesPurged). */
  fromNumber: string
  body: string
  /** Parts that came, and parts that never did. */
  parts: number
  missingParts: number
  status: InboundStatus
  outcome: InboxOutcome
  textPurged: boolean
  addressesPurged: boolean
}

export interface InboxPage {
  rows: InboxEntry[]
  /** Where the next page starts, or null when nothing is left. */
  next: InboxCursor | null
  /**
   * Set when the page stopped at the search's limit before it was full: the received time
   * down to which it looked. `next` then goes on from there.
   */
  searchedTo: number | null
}

const COLUMNS = [
  'id',
  'received_at',
  'from_number',
  'body',
  'parts',
  'missing_parts',
  'status',
  'last_error',
  'mailed_to',
  'purged',
]

const INDEX = {
  /** (account_id, received_at, id, from_number): pages in order, and the number beside. */
  received: 'inbound_sms_account_received',
  from: 'inbound_sms_account_from_received',
  status: 'inbound_sms_account_status_received',
  missing: 'inbound_sms_account_missing_received',
} as const

/** Ids read from one index alone to narrow a filter no index reads in page order. */
export const ID_SET_LIMIT = 20_000
/** Index entries a walk for digits reads per page, at most. */
export const SCAN_LIMIT = 20_000
/** Rows fetched by id at a time while walking candidate ids. */
const WALK_CHUNK = 500

interface Options {
  idSetLimit?: number
  scanLimit?: number
}

function checkFilter(filter: InboxFilter): void {
  const n = filter.number
  if (n?.kind === 'exact' && !/^\+[1-9]\d{1,14}$/.test(n.number)) {
    throw new RangeError(`number must be E.164, got "${n.number}"`)
  }
  if (n?.kind === 'prefix' && !/^\+\d{1,15}$/.test(n.prefix)) {
    throw new RangeError(`number prefix must be '+' and digits, got "${n.prefix}"`)
  }
  if (n?.kind === 'digits' && !/^\d{1,17}$/.test(n.digits)) {
    throw new RangeError(`number digits must be digits, got "${n.digits}"`)
  }
  for (const [name, value] of [
    ['from', filter.from],
    ['to', filter.to],
    ['before.receivedAt', filter.before?.receivedAt],
    ['before.id', filter.before?.id],
  ] as const) {
    if (value !== undefined && !Number.isSafeInteger(value)) {
      throw new RangeError(`${name} must be a whole number, got ${value}`)
    }
  }
}

/** Received time and cursor: ranges on the (…, received_at, id) end of every index. */
function whereTime(q: IndexedQuery, filter: InboxFilter, prefix = ''): IndexedQuery {
  const at = `${prefix}received_at`
  const id = `${prefix}id`
  if (filter.from !== undefined) q.where(at, '>=', filter.from)
  if (filter.to !== undefined) q.where(at, '<', filter.to)
  const before = filter.before
  if (before) {
    // (received_at, id) < (t, i), written so that both databases read a range on received_at
    // (SQLite would not, from `received_at < t OR (received_at = t AND id < i)`).
    q.where(at, '<=', before.receivedAt).where((w) =>
      w.where(at, '<', before.receivedAt).orWhere(id, '<', before.id),
    )
  }
  return q
}

function whereNumber(q: IndexedQuery, search: NumberSearch | undefined, column = 'from_number') {
  if (!search) return
  if (search.kind === 'exact') q.where(column, search.number)
  else q.where(column, 'like', likePattern(search))
}

function whereOutcome(q: IndexedQuery, outcome: InboxOutcomeFilter | undefined, prefix = '') {
  if (outcome === undefined) return
  if (outcome === 'incomplete') q.where(`${prefix}missing_parts`, '>', 0)
  else q.whereIn(`${prefix}status`, STATES_OF[outcome])
}

const newestFirst = (q: IndexedQuery, prefix = '') =>
  q.orderBy(`${prefix}received_at`, 'desc').orderBy(`${prefix}id`, 'desc')

/**
 * One page through an index that reads it in order: a whole number's, an outcome's (one read
 * per state, merged), or the account's.
 */
async function readInOrder(
  db: Db,
  accountId: number,
  filter: InboxFilter,
  wanted: number,
): Promise<Array<Record<string, unknown>>> {
  const states =
    filter.number === undefined && filter.outcome !== undefined && filter.outcome !== 'incomplete'
      ? STATES_OF[filter.outcome]
      : null
  if (states === null) {
    const q = fromIndex(db, 'inbound_sms', filter.number ? INDEX.from : INDEX.received)
      .select(COLUMNS)
      .where('account_id', accountId)
    whereNumber(q, filter.number)
    whereOutcome(q, filter.outcome)
    return newestFirst(whereTime(q, filter)).limit(wanted)
  }
  const stateQuery = (state: InboundStatus) =>
    newestFirst(
      whereTime(
        fromIndex(db, 'inbound_sms', INDEX.status)
          .where('account_id', accountId)
          .where('status', state),
        filter,
      ),
    ).limit(wanted)
  if (states.length === 1) return stateQuery(states[0]).select(COLUMNS)
  // With `status IN (…)` MariaDB reads every matching row and sorts them before the LIMIT:
  // each state's page from its own part of the index instead, merged and cut to a page, and
  // then only those rows.
  const [first, ...others] = states.map((state, i) =>
    db.select('id', 'received_at').from(stateQuery(state).select('id', 'received_at').as(`s${i}`)),
  )
  const page = newestFirst(first.unionAll(others, false)).limit(wanted)
  return fromIndex(db, 'inbound_sms', 'PRIMARY')
    .join(page.as('page'), 'inbound_sms.id', 'page.id')
    .where('inbound_sms.account_id', accountId)
    .select(COLUMNS.map((c) => `inbound_sms.${c}`))
}

interface Candidate {
  id: number
  receivedAt: number
}

/**
 * Every SMS that may match a number's beginning or missing parts, read from that index alone,
 * newest first; null when there are more than `limit` (the walk then serves the page).
 */
async function candidates(
  db: Db,
  accountId: number,
  filter: InboxFilter,
  limit: number,
): Promise<Candidate[] | null> {
  const search = filter.number
  let q: IndexedQuery
  if (search?.kind === 'prefix') {
    q = fromIndex(db, 'inbound_sms', INDEX.from)
      .where('account_id', accountId)
      .where('from_number', '>=', search.prefix)
    const upper = prefixUpperBound(search.prefix)
    if (upper !== null) q.where('from_number', '<', upper)
  } else if (search === undefined && filter.outcome === 'incomplete') {
    q = fromIndex(db, 'inbound_sms', INDEX.missing)
      .where('account_id', accountId)
      .where('missing_parts', '>', 0)
  } else {
    return null
  }
  whereTime(q, filter)
  // Counted in the database first: bringing back twenty thousand ids to find there are too
  // many would cost more than the page itself. No ORDER BY: the read stops at the limit.
  const counted = (await db
    .from(
      q
        .clone()
        .select('id')
        .limit(limit + 1)
        .as('c'),
    )
    .count({ n: '*' })
    .first()) as { n: number | string }
  if (Number(counted.n) > limit) return null
  const rows = (await q.select('id', 'received_at')) as Array<Record<string, unknown>>
  return rows.map((r) => ({ id: Number(r.id), receivedAt: Number(r.received_at) })).sort(byNewest)
}

function byNewest(a: Candidate, b: Candidate): number {
  return b.receivedAt - a.receivedAt || b.id - a.id
}

/** Rows among the candidates that match the whole filter, in page order, up to `wanted`. */
async function walkCandidates(
  db: Db,
  accountId: number,
  filter: InboxFilter,
  ids: Candidate[],
  wanted: number,
): Promise<Array<Record<string, unknown>>> {
  const found: Array<Record<string, unknown>> = []
  let i = 0
  while (i < ids.length && found.length < wanted) {
    // The first read is one page: with a set that holds only matches, it is the only one.
    const size = i === 0 ? wanted : WALK_CHUNK
    const q = fromIndex(db, 'inbound_sms', 'PRIMARY')
      .select(COLUMNS)
      .where('account_id', accountId)
      .whereIn(
        'id',
        ids.slice(i, i + size).map((c) => c.id),
      )
    whereNumber(q, filter.number)
    whereOutcome(q, filter.outcome)
    found.push(...((await q) as Array<Record<string, unknown>>))
    i += size
  }
  return found
}

/** The window of a walk: the next `scanLimit` entries of the account in page order. */
function scanWindow(db: Db, accountId: number, filter: InboxFilter, scanLimit: number) {
  const q = fromIndex(db, 'inbound_sms', INDEX.received).where('account_id', accountId)
  return newestFirst(whereTime(q, filter)).limit(scanLimit)
}

/**
 * A page from the next `scanLimit` entries of the account: the number is matched on the
 * index's own copy of it, and only the entries that match are read as rows. `limited` when
 * the window ended before the page was full and more entries lie beyond it.
 */
async function walkWindow(
  db: Db,
  accountId: number,
  filter: InboxFilter,
  wanted: number,
  scanLimit: number,
): Promise<{ found: Array<Record<string, unknown>>; limitedAt: InboxCursor | null }> {
  const window = scanWindow(db, accountId, filter, scanLimit)
    .select('id', 'received_at', 'from_number')
    .as('w')
  const q = db
    .select(COLUMNS.map((c) => `s.${c}`))
    .from(window)
    // By id: on a small table MariaDB would rather read the account's (account_id, id) index.
    .join(indexedTable(db, 'inbound_sms', 'PRIMARY', 's'), 's.id', 'w.id')
    .where('s.account_id', accountId)
  whereNumber(q, filter.number, 'w.from_number')
  whereOutcome(q, filter.outcome, 's.')
  const found = (await newestFirst(q, 'w.').limit(wanted)) as Array<Record<string, unknown>>
  if (found.length >= wanted) return { found, limitedAt: null }
  // The page is not full: the window's last entry says how far it went, if it was full.
  const last = (await db
    .select('received_at', 'id')
    .from(scanWindow(db, accountId, filter, scanLimit).select('received_at', 'id').as('w'))
    .orderBy('received_at', 'asc')
    .orderBy('id', 'asc')
    .first()) as Record<string, unknown> | undefined
  if (!last) return { found, limitedAt: null }
  const end = { receivedAt: Number(last.received_at), id: Number(last.id) }
  const beyond = await scanWindow(db, accountId, { ...filter, before: end }, 1).first('id')
  return { found, limitedAt: beyond ? end : null }
}

function toEntry(row: Record<string, unknown>): InboxEntry {
  const status = String(row.status) as InboundStatus
  const lastError = (row.last_error as string | null) ?? null
  const purged = Number(row.purged ?? 0)
  return {
    id: Number(row.id),
    receivedAt: Number(row.received_at),
    fromNumber: String(row.from_number),
    body: String(row.body),
    parts: Number(row.parts),
    missingParts: Number(row.missing_parts ?? 0),
    status,
    outcome: outcomeOf({
      status,
      lastError,
      mailedTo: parseMailedTo((row.mailed_to as string | null) ?? null),
    }),
    textPurged: (purged & PURGED_TEXT) !== 0,
    addressesPurged: (purged & PURGED_ADDRESSES) !== 0,
  }
}

/** One page of the account's received SMS. */
export async function listInbox(
  db: Db,
  accountId: number,
  filter: InboxFilter,
  limit: number,
  options: Options = {},
): Promise<InboxPage> {
  checkFilter(filter)
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad page size ${limit}`)
  const wanted = limit + 1
  const kind = filter.number?.kind
  const inOrder =
    (kind === undefined || kind === 'exact') &&
    !(kind === undefined && filter.outcome === 'incomplete')
  let found: Array<Record<string, unknown>>
  let limitedAt: InboxCursor | null = null
  if (inOrder) {
    found = await readInOrder(db, accountId, filter, wanted)
  } else {
    const ids =
      kind === 'digits'
        ? null
        : await candidates(db, accountId, filter, options.idSetLimit ?? ID_SET_LIMIT)
    if (ids !== null) {
      found = await walkCandidates(db, accountId, filter, ids, wanted)
    } else {
      const scanLimit = Math.max(wanted, options.scanLimit ?? SCAN_LIMIT)
      ;({ found, limitedAt } = await walkWindow(db, accountId, filter, wanted, scanLimit))
    }
  }
  const rows = found
    .map(toEntry)
    .sort((a, b) => byNewest(a, b))
    .slice(0, wanted)
  const page = rows.slice(0, limit)
  if (rows.length > limit) {
    const last = page[page.length - 1]
    return { rows: page, next: { receivedAt: last.receivedAt, id: last.id }, searchedTo: null }
  }
  return { rows: page, next: limitedAt, searchedTo: limitedAt?.receivedAt ?? null }
}
