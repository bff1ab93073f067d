import { isMysql, type Db } from './connection'
import { toAccount } from './accounts'
import { toSettings } from './account-settings'
import type { AuditFields } from './audit'

/**
 * An account's own row as the audit log records its changes: the settings of "Préférences" and
 * "Réception en cours", the virtual number, the spend limits (null: the gateway's default) and
 * the webhook secret. The secret's field holds its hash and is named as a secret, so the log
 * only ever says that it changed. The name, the reference and the timestamps are left out: no
 * admin page changes them, and updated_at would make every save look like a change.
 */
export function accountAuditFields(row: Record<string, unknown>): AuditFields {
  // Typed, so that a setting added later that is not a flat value is caught here.
  const fields: AuditFields = {
    ...toSettings(row),
    ...toAccount(row).limits,
    webhookSecret: (row.webhook_secret_hash as string | null) ?? null,
  }
  delete fields.accountId
  delete fields.ref
  // "Is one set": webhookSecret says as much, and when it was replaced.
  delete fields.webhookSecretSet
  return fields
}

/**
 * The account's audit fields, read inside the transaction of a change: with `lock`, before it,
 * the row locked until the commit, so that what is read is what the change replaces and no
 * other admin's save slips in between. On MySQL that is a locking read, which (unlike a plain
 * one) does not fix the transaction's snapshot: setVirtualNumber, which must take its snapshot
 * after its own first lock, still can. SQLite has one writer at a time: a plain read.
 */
export async function readAccountAuditFields(
  trx: Db,
  accountId: number,
  lock: boolean,
): Promise<AuditFields | null> {
  const query = trx('accounts').where({ id: accountId }).first()
  const row = (await (lock && isMysql(trx) ? query.forUpdate() : query)) as
    Record<string, unknown> | undefined
  return row ? accountAuditFields(row) : null
}
