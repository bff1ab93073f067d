import crypto from 'node:crypto'
import type { Db } from './connection'
import { changePassword, type Admin } from './admins'
import { hashSecretToken, isSecretTokenShape, newSecretToken } from '../auth/tokens'
import { clientNetwork } from '../net/allowlist'
import type { Quota } from './usage-counters'

/**
 * "Mot de passe oublié ?": a link mailed to an admin's address lets whoever reads that mailbox
 * choose a new password. The link holds a random token; the table keeps only its sha256, one
 * row per admin (a new request replaces the link before it), and the row is deleted when the
 * link is used, so it works once.
 */

export interface IssuedReset {
  token: string
  expiresAt: number
  /** The link this one replaced, put back by restorePreviousReset when the mail does not leave. */
  previous: { tokenHash: string; createdAt: number; expiresAt: number } | null
}

/** A new link for the admin; the one before, if any, stops working. */
export async function issuePasswordReset(
  db: Db,
  adminId: number,
  ttlMs: number,
  now = Date.now(),
): Promise<IssuedReset> {
  const token = newSecretToken()
  const expiresAt = now + ttlMs
  return db.transaction(async (trx) => {
    const before = await trx('admin_password_resets').where({ admin_id: adminId }).first()
    await trx('admin_password_resets').where({ admin_id: adminId }).delete()
    // Links nobody used: dropped here rather than by a job of their own.
    await trx('admin_password_resets').where('expires_at', '<=', now).delete()
    await trx('admin_password_resets').insert({
      admin_id: adminId,
      token_hash: hashSecretToken(token),
      created_at: now,
      expires_at: expiresAt,
    })
    const previous =
      before && Number(before.expires_at) > now
        ? {
            tokenHash: String(before.token_hash),
            createdAt: Number(before.created_at),
            expiresAt: Number(before.expires_at),
          }
        : null
    return { token, expiresAt, previous }
  })
}

/**
 * Puts back the link a new request replaced, when the mail with the new one could not be sent:
 * the link the admin already has keeps working. Only while the new link is still the current
 * one, so that a newer request or a completed reset meanwhile is not undone.
 */
export async function restorePreviousReset(
  db: Db,
  adminId: number,
  issued: IssuedReset,
): Promise<void> {
  await db.transaction(async (trx) => {
    const removed = await trx('admin_password_resets')
      .where({ admin_id: adminId, token_hash: hashSecretToken(issued.token) })
      .delete()
    if (removed === 0 || !issued.previous) return
    await trx('admin_password_resets').insert({
      admin_id: adminId,
      token_hash: issued.previous.tokenHash,
      created_at: issued.previous.createdAt,
      expires_at: issued.previous.expiresAt,
    })
  })
}

export interface ValidReset {
  state: 'valid'
  adminId: number
  email: string
  expiresAt: number
}

export type ResetLookup =
  | ValidReset
  | { state: 'expired' }
  /** Never issued, already used, or replaced by a newer link: the page says the same for all. */
  | { state: 'invalid' }

export async function findPasswordReset(
  db: Db,
  token: string,
  now = Date.now(),
): Promise<ResetLookup> {
  if (!isSecretTokenShape(token)) return { state: 'invalid' }
  const row = await db('admin_password_resets')
    .join('admins', 'admins.id', 'admin_password_resets.admin_id')
    .where('admin_password_resets.token_hash', hashSecretToken(token))
    .first('admins.id', 'admins.email', 'admin_password_resets.expires_at')
  if (!row) return { state: 'invalid' }
  const expiresAt = Number(row.expires_at)
  if (expiresAt <= now) return { state: 'expired' }
  return { state: 'valid', adminId: Number(row.id), email: String(row.email), expiresAt }
}

/**
 * Uses the link: the new password is stored and every session of the admin ends, whoever
 * opened it (someone who knew the old password is logged out). Null when the link is not valid
 * (any more); findPasswordReset tells expired from invalid.
 */
export async function completePasswordReset(
  db: Db,
  token: string,
  passwordHash: string,
  now = Date.now(),
): Promise<Admin | null> {
  if (!isSecretTokenShape(token)) return null
  const tokenHash = hashSecretToken(token)
  return db.transaction(async (trx) => {
    const row = await trx('admin_password_resets')
      .where({ token_hash: tokenHash })
      .andWhere('expires_at', '>', now)
      .first('admin_id')
    if (!row) return null
    // The delete decides: of two requests with the same link, only one removes the row.
    const used = await trx('admin_password_resets')
      .where({ admin_id: row.admin_id, token_hash: tokenHash })
      .delete()
    if (used === 0) return null
    await changePassword(trx, Number(row.admin_id), passwordHash, null, now)
    const admin = await trx('admins').where({ id: row.admin_id }).first()
    return {
      id: Number(admin.id),
      email: String(admin.email),
      name: String(admin.name ?? ''),
      isOperator: Boolean(admin.is_operator),
    }
  })
}

/**
 * The two mail quotas of a reset request: per address asked for (whether or not it has a
 * login, so that the refusal tells nothing about it), so that nobody's mailbox can be flooded;
 * and per client network, so that one client cannot walk through many addresses.
 */
export function passwordResetQuotas(
  email: string,
  clientIp: string,
  limits: { perAddress: number; perClient: number; windowMs: number },
): Quota[] {
  const digest = crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('hex')
  return [
    { key: `reset-to:${digest.slice(0, 32)}`, max: limits.perAddress, windowMs: limits.windowMs },
    {
      // counter_key holds 96 characters with the window's number: an IPv6 /64 fits.
      key: `reset-from:${clientNetwork(clientIp)}`.slice(0, 64),
      max: limits.perClient,
      windowMs: limits.windowMs,
    },
  ]
}
