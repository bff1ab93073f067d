import type { Db } from './connection'
import { isUniqueViolation } from './errors'
import { hashSecretToken } from '../auth/tokens'
import { openWithToken, sealWithToken } from '../auth/seal'

/**
 * A new webhook secret between the POST that makes it and the page that shows it (post, then
 * redirect, then get): a reload of that page must neither make another secret nor show this one
 * again. The secret cannot be hashed, since it must be shown once; instead it waits here
 *  - bound to the admin's session: keyed by the session token's sha256, deleted with the session;
 *  - sealed with a key derived from the session token itself, which only the admin's cookie
 *    holds: a copy of the database does not reveal it, nor does another session;
 *  - for a few minutes at most, and deleted as it is shown.
 * Not in a cookie or the URL: those travel again on later requests and end up in logs, history
 * and proxies.
 */
export const SECRET_REVEAL_TTL_MS = 5 * 60_000

const TABLE = 'webhook_secret_reveals'

/** Keeps `secret` for the next takeSecretForDisplay of this session and account; one at a time. */
export async function holdSecretForDisplay(
  db: Db,
  sessionToken: string,
  accountId: number,
  secret: string,
  now = Date.now(),
): Promise<void> {
  const key = { session_token_hash: hashSecretToken(sessionToken), account_id: accountId }
  const row = {
    sealed: sealWithToken(secret, sessionToken, String(accountId)),
    created_at: now,
    expires_at: now + SECRET_REVEAL_TTL_MS,
  }
  await db(TABLE).where('expires_at', '<=', now).delete()
  try {
    await db.transaction(async (trx) => {
      await trx(TABLE).where(key).delete()
      await trx(TABLE).insert({ ...key, ...row })
    })
  } catch (err) {
    // Two generations at once from the same session: the later secret is the one to show.
    if (!isUniqueViolation(err)) throw err
    await db(TABLE).where(key).update(row)
  }
}

/**
 * The secret held for this session and account, once: it is deleted as it is read. Null when
 * there is none (already shown, expired, another session).
 */
export async function takeSecretForDisplay(
  db: Db,
  sessionToken: string,
  accountId: number,
  now = Date.now(),
): Promise<string | null> {
  const key = { session_token_hash: hashSecretToken(sessionToken), account_id: accountId }
  const row = await db(TABLE).where(key).andWhere('expires_at', '>', now).first('id', 'sealed')
  if (!row) return null
  // Two loads at once: only the one whose delete took the row shows it.
  if ((await db(TABLE).where({ id: row.id }).delete()) === 0) return null
  return openWithToken(String(row.sealed), sessionToken, String(accountId))
}
