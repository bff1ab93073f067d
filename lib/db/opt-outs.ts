import type { Db } from './connection'
import { bumpCacheVersion } from './versions'

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
