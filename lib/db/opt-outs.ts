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

export interface ListOptOutsOptions {
  limit?: number
  /** Keyset pagination, newest first: only opt-outs older than this one. */
  before?: { createdAt: number; number: string }
}

/** An account's opt-outs, newest first. */
export async function listOptOuts(
  db: Db,
  accountId: number,
  options: ListOptOutsOptions = {},
): Promise<OptOut[]> {
  const q = db('opt_outs')
    .where({ account_id: accountId })
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'number', order: 'desc' },
    ])
    .limit(options.limit ?? 100)
  const before = options.before
  if (before) {
    q.where((w) =>
      w
        .where('created_at', '<', before.createdAt)
        .orWhere((same) =>
          same.where('created_at', before.createdAt).andWhere('number', '<', before.number),
        ),
    )
  }
  return (await q).map(toOptOut)
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
