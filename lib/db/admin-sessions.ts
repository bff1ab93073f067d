import { hashSecretToken, isSecretTokenShape, newSecretToken } from '../auth/tokens'
import type { Db } from './connection'
import type { Admin } from './admins'

/**
 * Admin logins. The browser holds a random token; the table keeps only its sha256, so a copy
 * of the table lets nobody in.
 */

export interface SessionLookup {
  admin: Admin
  tokenHash: string
  expiresAt: number
}

/** Returns the token for the cookie; only its hash is stored. */
export async function createSession(
  db: Db,
  adminId: number,
  ttlMs: number,
  now = Date.now(),
): Promise<string> {
  const token = newSecretToken()
  await db('admin_sessions').insert({
    token_hash: hashSecretToken(token),
    admin_id: adminId,
    created_at: now,
    expires_at: now + ttlMs,
  })
  return token
}

/** The admin behind a token that exists and has not expired; null otherwise. */
export async function findSessionAdmin(
  db: Db,
  token: string,
  now = Date.now(),
): Promise<SessionLookup | null> {
  if (!isSecretTokenShape(token)) return null
  const tokenHash = hashSecretToken(token)
  const row = await db('admin_sessions')
    .join('admins', 'admins.id', 'admin_sessions.admin_id')
    .where('admin_sessions.token_hash', tokenHash)
    .andWhere('admin_sessions.expires_at', '>', now)
    .first(
      'admins.id',
      'admins.email',
      'admins.name',
      'admins.is_operator',
      'admin_sessions.expires_at',
    )
  if (!row) return null
  return {
    admin: {
      id: Number(row.id),
      email: String(row.email),
      name: String(row.name ?? ''),
      isOperator: Boolean(row.is_operator),
    },
    tokenHash,
    expiresAt: Number(row.expires_at),
  }
}

export async function deleteSession(db: Db, token: string): Promise<boolean> {
  if (!isSecretTokenShape(token)) return false
  return (
    (await db('admin_sessions')
      .where({ token_hash: hashSecretToken(token) })
      .delete()) > 0
  )
}

export async function purgeExpiredSessions(db: Db, now = Date.now()): Promise<number> {
  return db('admin_sessions').where('expires_at', '<=', now).delete()
}
