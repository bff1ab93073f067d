import { isMysql, type Db } from './connection'
import { bumpCacheVersion } from './versions'
import { isUniqueViolation } from './errors'
import { ValidationError } from './accounts'
import { parseAllowlistEntry } from '../net/allowlist'
import {
  checkAllowlistAdditions,
  checkAllowlistCoverage,
  DEFAULT_ALLOWLIST_LIMITS,
  describeAddressCount,
  type AllowlistLimits,
  type CoverageExcess,
} from '../net/allowlist-coverage'

export interface AllowlistEntry {
  id: number
  accountId: number
  cidr: string
  note: string | null
}

function toEntry(row: Record<string, unknown>): AllowlistEntry {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    cidr: String(row.cidr),
    note: (row.note as string | null) ?? null,
  }
}

function parseOrThrow(input: string): string {
  const parsed = parseAllowlistEntry(input)
  if (!parsed.ok) throw new ValidationError(parsed.message)
  return parsed.cidr
}

/** An addition that would let the account's list cover more addresses than the operator allows. */
export class AllowlistTooWideError extends ValidationError {
  override name = 'AllowlistTooWideError'
  constructor(readonly excess: CoverageExcess) {
    const { family, covered, limit } = excess
    const key = family === 4 ? 'allowlist.max_ipv4_prefix' : 'allowlist.max_ipv6_prefix'
    const words = { group: ',', one: 'one', addresses: (f: number) => `IPv${f} addresses` }
    super(
      `with this entry the IP list would cover ${describeAddressCount(covered, family, words)}; ` +
        `the limit is ${describeAddressCount(limit, family, words)} (${key})`,
    )
  }
}

/**
 * Two additions at once must not each pass the coverage check against the list without the
 * other: on MySQL they queue on the account's row; SQLite runs one writer at a time anyway.
 */
async function lockAccountList(db: Db, trx: Db, accountId: number): Promise<void> {
  const account = trx('accounts').where({ id: accountId }).first('id')
  if (isMysql(db)) await account.forUpdate()
  else await account
}

/**
 * Adds a range to the account's IP list, unless the list would then cover more addresses of
 * that family than `limits` allow (AllowlistTooWideError). The admin page and the CLI both come
 * through here, so neither can open more than the operator set.
 */
export async function addAllowedIp(
  db: Db,
  accountId: number,
  input: string,
  note: string | null = null,
  now = Date.now(),
  limits: AllowlistLimits = DEFAULT_ALLOWLIST_LIMITS,
): Promise<AllowlistEntry> {
  const cidr = parseOrThrow(input)
  try {
    return await db.transaction(async (trx) => {
      await lockAccountList(db, trx, accountId)
      const existing = await trx('account_ip_allowlist')
        .where({ account_id: accountId })
        .pluck('cidr')
      const excess = checkAllowlistCoverage(existing as string[], cidr, limits)
      if (excess) throw new AllowlistTooWideError(excess)
      await trx('account_ip_allowlist').insert({
        account_id: accountId,
        cidr,
        note,
        created_at: now,
      })
      await bumpCacheVersion(trx, 'directory')
      return toEntry(
        await trx('account_ip_allowlist').where({ account_id: accountId, cidr }).first(),
      )
    })
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ValidationError(`${cidr} is already allowed for this account`)
    throw err
  }
}

/** At most this many entries in one addition: the blocks of any IPv4 range fit (62 at worst). */
export const MAX_ENTRIES_AT_ONCE = 64

/**
 * Adds several ranges to the account's IP list in one transaction, all or none: the blocks of a
 * first-last range, which only together say what the admin meant. Ranges the list already holds
 * are skipped; the coverage limit is checked on the list with all the others
 * (AllowlistTooWideError). Returns the entries added, in the order given.
 */
export async function addAllowedIps(
  db: Db,
  accountId: number,
  inputs: string[],
  note: string | null = null,
  now = Date.now(),
  limits: AllowlistLimits = DEFAULT_ALLOWLIST_LIMITS,
): Promise<AllowlistEntry[]> {
  if (inputs.length > MAX_ENTRIES_AT_ONCE) {
    throw new ValidationError(`at most ${MAX_ENTRIES_AT_ONCE} ranges can be added at once`)
  }
  const cidrs = [...new Set(inputs.map(parseOrThrow))]
  try {
    return await db.transaction(async (trx) => {
      await lockAccountList(db, trx, accountId)
      const existing = (await trx('account_ip_allowlist')
        .where({ account_id: accountId })
        .pluck('cidr')) as string[]
      const fresh = cidrs.filter((cidr) => !existing.includes(cidr))
      if (fresh.length === 0) return []
      const excess = checkAllowlistAdditions(existing, fresh, limits)
      if (excess) throw new AllowlistTooWideError(excess)
      await trx('account_ip_allowlist').insert(
        fresh.map((cidr) => ({ account_id: accountId, cidr, note, created_at: now })),
      )
      await bumpCacheVersion(trx, 'directory')
      const rows = await trx('account_ip_allowlist')
        .where({ account_id: accountId })
        .whereIn('cidr', fresh)
      const byCidr = new Map(rows.map((row: Record<string, unknown>) => [row.cidr, toEntry(row)]))
      return fresh.map((cidr) => byCidr.get(cidr) as AllowlistEntry)
    })
  } catch (err) {
    // Another request added one of them first: nothing of this one was kept.
    if (isUniqueViolation(err)) {
      throw new ValidationError('one of these ranges was added at the same moment; reload the list')
    }
    throw err
  }
}

export async function removeAllowedIp(db: Db, accountId: number, input: string): Promise<boolean> {
  const cidr = parseOrThrow(input)
  return db.transaction(async (trx) => {
    const n = await trx('account_ip_allowlist').where({ account_id: accountId, cidr }).delete()
    if (n > 0) await bumpCacheVersion(trx, 'directory')
    return n > 0
  })
}

export async function listAllowedIps(db: Db, accountId?: number): Promise<AllowlistEntry[]> {
  const q = db('account_ip_allowlist').orderBy(['account_id', 'cidr'])
  if (accountId !== undefined) q.where({ account_id: accountId })
  return (await q).map(toEntry)
}
