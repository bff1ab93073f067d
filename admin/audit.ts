import type { Context } from 'hono'
import type { AdminEnv } from './env'
import { clientIp } from './client-ip'
import type { Db } from '../lib/db/connection'
import { changedOnly, recordAuditEntry, type AuditFields } from '../lib/db/audit'
import { readAccountAuditFields } from '../lib/db/account-audit'

/** A change an admin made, as a route describes it; see lib/db/audit.ts for what is stored. */
export interface AuditChange {
  /** `thing.verb`, e.g. `opt_out.remove`, `ip.add`, `receiving.update`. */
  action: string
  /** What it was done to: a number, an address, a setting's name. */
  subject: string
  /** The fields before (null or absent for a creation)… */
  before?: AuditFields | null
  /** …and after (null or absent for a deletion). */
  after?: AuditFields | null
  /**
   * Fields to record as "changed", never their value, beyond those named like a secret
   * (password, secret, token, key, hash…), which always are.
   */
  secrets?: readonly string[]
}

/**
 * Records what the request's admin changed in the request's account, with the time (the app's
 * clock) and the client's address. One line in a route:
 *
 *   await recordAudit(c, { action: 'ip.add', subject: cidr, after: { cidr, note } })
 *
 * Pass the change's own transaction as `db` to commit both together.
 */
export async function recordAudit(
  c: Context<AdminEnv>,
  change: AuditChange,
  db: Db = c.get('deps').db,
): Promise<void> {
  const admin = c.get('admin')
  const account = (c.var as Partial<AdminEnv['Variables']>).account
  const ip = clientIp(c)
  await recordAuditEntry(db, {
    ...change,
    accountId: account?.id ?? null,
    adminId: admin.id,
    adminEmail: admin.email,
    clientIp: ip === 'unknown' ? null : ip,
    at: c.get('deps').clock(),
  })
}

/**
 * Runs `change` in a transaction with the entry `describe` makes of its result (none when it
 * returns null: nothing was changed), so that the change and its entry commit together, or
 * neither does. A change that opens its own transaction runs as a savepoint of this one.
 *
 *   const removed = await auditedChange(c, (trx) => deleteSender(trx, accountId, id),
 *     (s) => s && { action: 'user.delete', subject: s.email, before: { email: s.email } })
 */
export async function auditedChange<T>(
  c: Context<AdminEnv>,
  change: (trx: Db) => Promise<T>,
  describe: (result: T) => AuditChange | null | false | undefined,
): Promise<T> {
  return c.get('deps').db.transaction(async (trx) => {
    const result = await change(trx)
    const entry = describe(result)
    if (entry) await recordAudit(c, entry, trx)
    return result
  })
}

/** What an entry about the account's own row is: an action, with the account's ref as subject… */
export type AccountChangeLabel =
  | string
  /** …or both, from the fields the change changed. */
  | ((before: AuditFields, after: AuditFields) => { action: string; subject: string })

/**
 * Runs a change of the account's own row (settings, virtual number, limits, webhook secret) and
 * records the fields it changed, before and after, read around it in the same transaction (see
 * readAccountAuditFields). Nothing is recorded when it changed nothing (a form saved as it was)
 * or threw (refused: the transaction is rolled back).
 */
export async function auditedAccountChange<T>(
  c: Context<AdminEnv>,
  label: AccountChangeLabel,
  change: (trx: Db) => Promise<T>,
): Promise<T> {
  const account = c.get('account')
  return c.get('deps').db.transaction(async (trx) => {
    const before = await readAccountAuditFields(trx, account.id, true)
    const result = await change(trx)
    const after = await readAccountAuditFields(trx, account.id, false)
    const changed = before && after ? changedOnly(before, after) : null
    if (changed) {
      const what =
        typeof label === 'string'
          ? { action: label, subject: account.ref }
          : label(changed.before, changed.after)
      await recordAudit(c, { ...what, ...changed }, trx)
    }
    return result
  })
}
