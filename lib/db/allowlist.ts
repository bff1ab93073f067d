import { isMysql, type Db } from './connection'
import { bumpCacheVersion } from './versions'
import { isUniqueViolation } from './errors'
import { ValidationError } from './accounts'
import { parseAllowlistEntry } from '../net/allowlist'
import {
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
      // Two additions at once must not each pass the check against the list without the other:
      // on MySQL they queue on the account's row; SQLite runs one writer at a time anyway.
      const account = trx('accounts').where({ id: accountId }).first('id')
      if (isMysql(db)) await account.forUpdate()
      else await account
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
