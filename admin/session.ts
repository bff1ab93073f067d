import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie } from 'hono/cookie'
import { getSignedCookie, setSignedCookie } from './signed-cookie'
import type { AdminEnv } from './env'
import { createSession, deleteSession, findSessionAdmin } from '../lib/db/admin-sessions'
import { listAdminAccounts } from '../lib/db/admins'

/** The login cookie: a signed random token whose sha256 is the admin_sessions key. */
export const SESSION_COOKIE = 'm2s_session'

/**
 * Only paths of this site: "/x" is accepted; absolute URLs are not, nor "//evil.example",
 * "/\\evil.example" or "/<tab>/evil.example", which browsers read as another host (they turn
 * backslashes into slashes and drop tabs and newlines).
 */
export function safeLocalPath(value: string | undefined | null): string | null {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.length > 2000) return null
  if (value.includes('\\') || [...value].some((ch) => ch < ' ')) return null
  return value
}

export async function readSessionToken(c: Context<AdminEnv>): Promise<string | null> {
  const value = getSignedCookie(c, c.get('deps').config.sessionSecret, SESSION_COOKIE)
  return typeof value === 'string' && value ? value : null
}

/** Starts a session for the admin and gives the browser its cookie. */
export async function startSession(c: Context<AdminEnv>, adminId: number): Promise<void> {
  const { db, clock, config } = c.get('deps')
  const ttlMs = config.sessionTtlHours * 3_600_000
  const token = await createSession(db, adminId, ttlMs, clock())
  setSignedCookie(c, SESSION_COOKIE, token, config.sessionSecret, {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure: config.baseUrl.startsWith('https:'),
    maxAge: config.sessionTtlHours * 3600,
  })
}

/** Deletes the session the request presents (if any) and clears the cookie. */
export async function endSession(c: Context<AdminEnv>): Promise<void> {
  const token = await readSessionToken(c)
  if (token) await deleteSession(c.get('deps').db, token)
  deleteCookie(c, SESSION_COOKIE, {
    path: '/',
    secure: c.get('deps').config.baseUrl.startsWith('https:'),
  })
}

/**
 * Everything after this needs a login: sets admin, accounts and sessionTokenHash. A page asked
 * for without one leads to the login form, which comes back here; other methods get 401.
 */
export function requireSession(
  unauthorised: (c: Context<AdminEnv>) => Response | Promise<Response>,
): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const { db, clock } = c.get('deps')
    const token = await readSessionToken(c)
    const session = token ? await findSessionAdmin(db, token, clock()) : null
    if (!session) {
      if (c.req.method === 'GET' || c.req.method === 'HEAD') {
        const url = new URL(c.req.url)
        const back = safeLocalPath(url.pathname + url.search)
        const query = back && back !== '/' ? `?next=${encodeURIComponent(back)}` : ''
        return c.redirect(`/login${query}`, 302)
      }
      return unauthorised(c)
    }
    c.set('admin', session.admin)
    c.set('sessionTokenHash', session.tokenHash)
    c.set('accounts', await listAdminAccounts(db, session.admin.id))
    await next()
    // Pages behind the login are the account's data: not for shared caches, nor for the
    // browser's back button once the admin has logged out on a shared computer.
    if (!c.res.headers.has('Cache-Control')) c.res.headers.set('Cache-Control', 'no-store')
  }
}
