import type { Context } from 'hono'
import type { AdminEnv } from './env'
import { clientIp } from './client-ip'
import type { Db } from '../lib/db/connection'
import { recordAuditEntry, type AuditFields } from '../lib/db/audit'

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
