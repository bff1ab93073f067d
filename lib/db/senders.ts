import type { Db } from './connection'
import { bumpCacheVersion } from './versions'
import { isUniqueViolation } from './errors'
import { ValidationError } from './accounts'

export type SenderStatus = 'pending' | 'accepted'

export interface Sender {
  id: number
  accountId: number
  email: string
  status: SenderStatus
  isDefault: boolean
}

// Deliberately plain: the MX compares envelope addresses, which are already syntax-checked.
const EMAIL_PATTERN =
  /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/

export function normaliseEmail(input: string): string {
  const email = input.trim().toLowerCase()
  if (email.length > 254 || !EMAIL_PATTERN.test(email)) {
    throw new ValidationError(`"${input}" is not a valid email address`)
  }
  return email
}

export function toSender(row: Record<string, unknown>): Sender {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    email: String(row.email),
    status: row.status as SenderStatus,
    isDefault: Boolean(row.is_default),
  }
}

export interface AddSenderOptions {
  status?: SenderStatus
  /** Makes this the account used when the sender gives no `+ref` sub-address. */
  isDefault?: boolean
}

export async function addSender(
  db: Db,
  accountId: number,
  emailInput: string,
  options: AddSenderOptions = {},
  now = Date.now(),
): Promise<Sender> {
  const email = normaliseEmail(emailInput)
  const status = options.status ?? 'pending'
  try {
    return await db.transaction(async (trx) => {
      if (options.isDefault)
        await trx('account_senders').where({ email }).update({ is_default: false })
      await trx('account_senders').insert({
        account_id: accountId,
        email,
        status,
        is_default: Boolean(options.isDefault),
        accepted_at: status === 'accepted' ? now : null,
        created_at: now,
        updated_at: now,
      })
      await bumpCacheVersion(trx, 'directory')
      return toSender(await trx('account_senders').where({ account_id: accountId, email }).first())
    })
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ValidationError(`${email} is already a sender of this account`)
    throw err
  }
}

export async function removeSender(
  db: Db,
  accountId: number,
  emailInput: string,
): Promise<boolean> {
  const email = normaliseEmail(emailInput)
  return db.transaction(async (trx) => {
    const n = await trx('account_senders').where({ account_id: accountId, email }).delete()
    if (n > 0) await bumpCacheVersion(trx, 'directory')
    return n > 0
  })
}

export async function listSenders(db: Db, accountId: number): Promise<Sender[]> {
  return (await db('account_senders').where({ account_id: accountId }).orderBy('email')).map(
    toSender,
  )
}

/** A sender of this account by id (e.g. the one a confirmation page names); null otherwise. */
export async function findSender(
  db: Db,
  accountId: number,
  senderId: number,
): Promise<Sender | null> {
  const row = await db('account_senders').where({ id: senderId, account_id: accountId }).first()
  return row ? toSender(row) : null
}
