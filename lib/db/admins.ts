import type { Db } from './connection'
import { ValidationError } from './accounts'
import { isUniqueViolation } from './errors'
import { normaliseEmail } from './senders'

/** A web login of the admin; one person may administer several accounts. */
export interface Admin {
  id: number
  email: string
  name: string
  isOperator: boolean
}

export interface AdminWithHash extends Admin {
  passwordHash: string
}

export interface AdminAccountRef {
  id: number
  ref: string
  name: string
  /** The account's IANA zone: its pages show dates and days in it. */
  timeZone: string
}

export const ADMIN_NAME_MAX_LENGTH = 200

function toAdmin(row: Record<string, unknown>): Admin {
  return {
    id: Number(row.id),
    email: String(row.email),
    name: String(row.name ?? ''),
    isOperator: Boolean(row.is_operator),
  }
}

/**
 * Control characters (line breaks, tabs, C1) and the invisible marks that reorder text: the
 * name is written into invitation mails sent to other people, where a line break in it could
 * pass for a line of the gateway's own text.
 */
const UNSAFE_NAME_CHARACTERS =
  // eslint-disable-next-line no-control-regex -- finding control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/

/**
 * Trims; throws when longer than the column or holding control characters. An empty name is
 * allowed at creation only.
 */
export function validateAdminName(input: string, { required = true } = {}): string {
  const name = input.trim()
  if (required && !name) throw new ValidationError('name must not be empty')
  if (UNSAFE_NAME_CHARACTERS.test(name)) {
    throw new ValidationError('name must be one line of text, without control characters')
  }
  if ([...name].length > ADMIN_NAME_MAX_LENGTH) {
    throw new ValidationError(`name must be at most ${ADMIN_NAME_MAX_LENGTH} characters`)
  }
  return name
}

export interface NewAdmin {
  email: string
  name: string
  /** From lib/auth/password.ts hashPassword(); this module never sees passwords. */
  passwordHash: string
  isOperator?: boolean
}

export async function createAdmin(db: Db, input: NewAdmin, now = Date.now()): Promise<Admin> {
  const email = normaliseEmail(input.email)
  const name = validateAdminName(input.name, { required: false })
  try {
    await db('admins').insert({
      email,
      name,
      password_hash: input.passwordHash,
      is_operator: Boolean(input.isOperator),
      password_changed_at: now,
      created_at: now,
      updated_at: now,
    })
  } catch (err) {
    if (isUniqueViolation(err)) throw new ValidationError(`${email} already has a login`)
    throw err
  }
  return toAdmin(await db('admins').where({ email }).first())
}

/** Null for an address that is not even well formed: no such login either way. */
export async function findAdminByEmail(db: Db, emailInput: string): Promise<AdminWithHash | null> {
  let email: string
  try {
    email = normaliseEmail(emailInput)
  } catch {
    return null
  }
  const row = await db('admins').where({ email }).first()
  return row ? { ...toAdmin(row), passwordHash: String(row.password_hash) } : null
}

export async function findAdminById(db: Db, id: number): Promise<AdminWithHash | null> {
  const row = await db('admins').where({ id }).first()
  return row ? { ...toAdmin(row), passwordHash: String(row.password_hash) } : null
}

export async function listAdmins(db: Db): Promise<Array<Admin & { accountRefs: string[] }>> {
  const admins = (await db('admins').orderBy('email')).map(toAdmin)
  const grants = (await db('account_admins')
    .join('accounts', 'accounts.id', 'account_admins.account_id')
    .select('account_admins.admin_id', 'accounts.ref')
    .orderBy('accounts.ref')) as Array<{ admin_id: number; ref: string }>
  return admins.map((a) => ({
    ...a,
    accountRefs: grants.filter((g) => Number(g.admin_id) === a.id).map((g) => g.ref),
  }))
}

/** Lets the admin manage the account; granting twice is harmless. Returns false if it was already. */
export async function grantAccount(
  db: Db,
  adminId: number,
  accountId: number,
  now = Date.now(),
): Promise<boolean> {
  try {
    await db('account_admins').insert({ admin_id: adminId, account_id: accountId, created_at: now })
    return true
  } catch (err) {
    if (isUniqueViolation(err)) return false
    throw err
  }
}

/** The accounts the admin manages, by name: the account selector lists them in this order. */
export async function listAdminAccounts(db: Db, adminId: number): Promise<AdminAccountRef[]> {
  const rows = (await db('account_admins')
    .join('accounts', 'accounts.id', 'account_admins.account_id')
    .where('account_admins.admin_id', adminId)
    .select('accounts.id', 'accounts.ref', 'accounts.name', 'accounts.time_zone')
    .orderBy([
      { column: 'accounts.name', order: 'asc' },
      { column: 'accounts.id', order: 'asc' },
    ])) as Array<{ id: number; ref: string; name: string; time_zone: string | null }>
  return rows.map((r) => ({
    id: Number(r.id),
    ref: r.ref,
    name: r.name,
    timeZone: r.time_zone ?? 'UTC',
  }))
}

export async function updateAdminName(
  db: Db,
  adminId: number,
  nameInput: string,
  now = Date.now(),
): Promise<string> {
  const name = validateAdminName(nameInput)
  await db('admins').where({ id: adminId }).update({ name, updated_at: now })
  return name
}

/**
 * Stores a new password hash and ends every other session of the admin, so a password changed
 * because it leaked also logs out whoever used it. `keepTokenHash` is the session making the
 * change (null ends them all). A pending "forgotten password" link stops working too: it was
 * asked for to replace the password that has just been replaced.
 */
export async function changePassword(
  db: Db,
  adminId: number,
  passwordHash: string,
  keepTokenHash: string | null,
  now = Date.now(),
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('admins')
      .where({ id: adminId })
      .update({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
    const others = trx('admin_sessions').where({ admin_id: adminId })
    if (keepTokenHash) others.whereNot({ token_hash: keepTokenHash })
    await others.delete()
    await trx('admin_password_resets').where({ admin_id: adminId }).delete()
  })
}
