import type { Db } from './connection'
import { bumpCacheVersion } from './versions'
import { isUniqueViolation } from './errors'
import { ValidationError } from './accounts'
import { parseAllowlistEntry } from '../net/allowlist'

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

export async function addAllowedIp(
  db: Db,
  accountId: number,
  input: string,
  note: string | null = null,
  now = Date.now(),
): Promise<AllowlistEntry> {
  const cidr = parseOrThrow(input)
  try {
    return await db.transaction(async (trx) => {
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
