import type { Db } from './connection'
import { fromIndex, type IndexedQuery } from './index-hint'
import { bumpCacheVersion } from './versions'
import { likePattern, type NumberSearch } from '../phone-search'

/** A number that texted STOP to an account: the MX refuses email to it for that account. */
export interface OptOut {
  accountId: number
  /** E.164 */
  number: string
  /** The keyword they sent, normalised ("STOP", "ARRET"...). */
  keyword: string
  createdAt: number
}

function toOptOut(row: Record<string, unknown>): OptOut {
  return {
    accountId: Number(row.account_id),
    number: String(row.number),
    keyword: String(row.keyword),
    createdAt: Number(row.created_at),
  }
}

/**
 * Records (or refreshes) an opt-out. The MX holds opt-outs in its directory cache, so the
 * version moves in the same transaction: the next RCPT after the commit sees it.
 */
export async function addOptOut(
  db: Db,
  accountId: number,
  number: string,
  keyword: string,
  now = Date.now(),
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('opt_outs')
      .insert({ account_id: accountId, number, keyword: keyword.slice(0, 32), created_at: now })
      .onConflict(['account_id', 'number'])
      .merge(['keyword', 'created_at'])
    await bumpCacheVersion(trx, 'directory')
  })
}

/** Removes an opt-out; false when the number had not opted out. */
export async function removeOptOut(db: Db, accountId: number, number: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('opt_outs').where({ account_id: accountId, number }).delete()
    if (n > 0) await bumpCacheVersion(trx, 'directory')
    return n > 0
  })
}

export async function isOptedOut(db: Db, accountId: number, number: string): Promise<boolean> {
  const row = await db('opt_outs').where({ account_id: accountId, number }).first('number')
  return row !== undefined
}

/** Every opt-out, for the MX's directory: account id → numbers. */
export async function loadOptOutsByAccount(db: Db): Promise<Map<number, Map<string, OptOut>>> {
  const rows = await db('opt_outs').select('account_id', 'number', 'keyword', 'created_at')
  const byAccount = new Map<number, Map<string, OptOut>>()
  for (const row of rows) {
    const optOut = toOptOut(row)
    let numbers = byAccount.get(optOut.accountId)
    if (!numbers) byAccount.set(optOut.accountId, (numbers = new Map()))
    numbers.set(optOut.number, optOut)
  }
  return byAccount
}

/** The account's opt-out of one number, or undefined. */
export async function findOptOut(
  db: Db,
  accountId: number,
  number: string,
): Promise<OptOut | undefined> {
  const row = await db('opt_outs').where({ account_id: accountId, number }).first()
  return row ? toOptOut(row) : undefined
}

/** A place in the list: the last opt-out shown. */
export interface OptOutCursor {
  createdAt: number
  number: string
}

export interface OptOutPage {
  rows: OptOut[]
  /** Where the next page starts, or null on the last one. */
  next: OptOutCursor | null
}

// (account_id, created_at, number): migrations/20261206124200_index_opt_outs_list.ts.
const LIST_INDEX = 'opt_outs_account_created'

/**
 * One page of the account's opt-outs, newest first, in keyset pages on (created_at, number).
 * A whole number is one read of the primary key. Part of a number is matched on the list
 * index's own copy of it as the read goes down the account, so no row is read but the page's;
 * a search that matches little reads the account's whole list from that index (opt-outs are
 * a few thousand numbers where SMS are millions).
 */
export async function listOptOuts(
  db: Db,
  accountId: number,
  filter: { number?: NumberSearch; before?: OptOutCursor },
  limit: number,
): Promise<OptOutPage> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad page size ${limit}`)
  const { number: search, before } = filter
  // The number column holds 20 characters: a longer one is no place in the list.
  if (before && (!Number.isSafeInteger(before.createdAt) || before.number.length > 20)) {
    throw new RangeError('bad opt-out cursor')
  }
  const q: IndexedQuery =
    search?.kind === 'exact'
      ? db('opt_outs').where('number', search.number)
      : fromIndex(db, 'opt_outs', LIST_INDEX)
  q.where('account_id', accountId)
  if (search && search.kind !== 'exact') q.where('number', 'like', likePattern(search))
  if (before) {
    // (created_at, number) < (t, n), as a range on created_at that both databases read.
    q.where('created_at', '<=', before.createdAt).where((w) =>
      w.where('created_at', '<', before.createdAt).orWhere('number', '<', before.number),
    )
  }
  const found = (await q
    .select('account_id', 'number', 'keyword', 'created_at')
    .orderBy('created_at', 'desc')
    .orderBy('number', 'desc')
    .limit(limit + 1)) as Array<Record<string, unknown>>
  const rows = found.map((row) => toOptOut(row))
  const page = rows.slice(0, limit)
  const last = page[page.length - 1]
  return {
    rows: page,
    next: rows.length > limit ? { createdAt: last.createdAt, number: last.number } : null,
  }
}
