import type { Db } from './connection'
import { bumpCacheVersion } from './versions'

/**
 * What the "Gestion des adresses IP" page needs beyond lib/db/allowlist.ts: entries with the
 * date they were added, removal by the row id the page posts, and the SPF record to suggest.
 */

export interface AllowlistAdminEntry {
  id: number
  cidr: string
  note: string | null
  createdAt: number
}

export const MAX_ALLOWLIST_NOTE = 200

export async function listAllowlistEntries(
  db: Db,
  accountId: number,
): Promise<AllowlistAdminEntry[]> {
  const rows = await db('account_ip_allowlist')
    .where({ account_id: accountId })
    .orderBy([{ column: 'created_at' }, { column: 'id' }])
  return rows.map((row: Record<string, unknown>) => ({
    id: Number(row.id),
    cidr: String(row.cidr),
    note: (row.note as string | null) ?? null,
    createdAt: Number(row.created_at),
  }))
}

/** Whether the account already allows exactly this normalised range. */
export async function hasAllowedCidr(db: Db, accountId: number, cidr: string): Promise<boolean> {
  const row = await db('account_ip_allowlist').where({ account_id: accountId, cidr }).first('id')
  return row !== undefined
}

/**
 * Removes one entry of one account. The account is part of the condition, so an id belonging
 * to another account removes nothing and reports false.
 */
export async function removeAllowedIpById(db: Db, accountId: number, id: number): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id <= 0) return false
  return db.transaction(async (trx) => {
    const n = await trx('account_ip_allowlist').where({ account_id: accountId, id }).delete()
    if (n > 0) await bumpCacheVersion(trx, 'directory')
    return n > 0
  })
}

/** An SPF mechanism for a stored range: a single address needs no prefix length. */
function spfMechanism(cidr: string): string {
  const v6 = cidr.includes(':')
  const [address, prefix] = cidr.split('/')
  const single = prefix === undefined || prefix === (v6 ? '128' : '32')
  return `${v6 ? 'ip6' : 'ip4'}:${single ? address : cidr}`
}

/**
 * The TXT record a sender's domain could publish so that SPF passes from the same servers the
 * allowlist names. `include` adds a mail provider's own record (e.g. _spf.google.com). `-all`
 * because a domain that lists its servers means "nobody else".
 */
export function suggestSpfRecord(cidrs: string[], include: string[] = []): string {
  const mechanisms = [...cidrs.map(spfMechanism), ...include.map((domain) => `include:${domain}`)]
  return ['v=spf1', ...mechanisms, '-all'].join(' ')
}
