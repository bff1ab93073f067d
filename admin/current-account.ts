import type { Context } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import type { AdminAccount, AdminEnv } from './env'
import { parseId } from './ids'

/**
 * The account the admin last worked in. Pages that belong to no account (my details, errors)
 * and the site's root use it, so that after choosing account B no link leads back to account A.
 * It only says which of the admin's own accounts to show first: the id is checked against the
 * session's list every time, so a forged value shows nothing it should not.
 */
export const ACCOUNT_COOKIE = 'account'

export function rememberedAccount(
  c: Context<AdminEnv>,
  accounts: AdminAccount[],
): AdminAccount | undefined {
  const id = parseId(getCookie(c, ACCOUNT_COOKIE))
  return accounts.find((a) => a.id === id) ?? accounts[0]
}

/** Called on every page of an account, once the account is known to be the admin's. */
export function rememberAccount(c: Context<AdminEnv>, account: AdminAccount): void {
  if (getCookie(c, ACCOUNT_COOKIE) === String(account.id)) return
  setCookie(c, ACCOUNT_COOKIE, String(account.id), {
    path: '/',
    sameSite: 'Lax',
    httpOnly: true,
    secure: c.get('deps').config.baseUrl.startsWith('https:'),
    maxAge: 365 * 24 * 3600,
  })
}
