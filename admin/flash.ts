import type { Context, MiddlewareHandler } from 'hono'
import { deleteCookie } from 'hono/cookie'
import { getSignedCookie, setSignedCookie } from './signed-cookie'
import type { AdminEnv, Flash } from './env'

/**
 * One-time messages across a redirect ("Utilisateur ajouté"), in a short-lived signed cookie:
 * set before the 303, read by the next page that renders the layout, then cleared.
 */
export const FLASH_COOKIE = 'm2s_flash'
const FLASH_MAX_AGE_SECONDS = 60
const MAX_TEXT_LENGTH = 500

function secretOf(c: Context<AdminEnv>): string {
  return c.get('deps').config.sessionSecret
}

function isSecure(c: Context<AdminEnv>): boolean {
  return c.get('deps').config.baseUrl.startsWith('https:')
}

/** Call before returning the redirect; the message is shown once on the next page. */
export async function setFlash(
  c: Context<AdminEnv>,
  kind: Flash['kind'],
  text: string,
): Promise<void> {
  const value = JSON.stringify({ kind, text: text.slice(0, MAX_TEXT_LENGTH) })
  setSignedCookie(c, FLASH_COOKIE, value, secretOf(c), {
    path: '/',
    httpOnly: true,
    sameSite: 'Lax',
    secure: isSecure(c),
    maxAge: FLASH_MAX_AGE_SECONDS,
  })
}

function parseFlash(value: string): Flash | undefined {
  try {
    const parsed = JSON.parse(value) as Partial<Flash>
    if ((parsed.kind === 'ok' || parsed.kind === 'error') && typeof parsed.text === 'string') {
      return { kind: parsed.kind, text: parsed.text }
    }
  } catch {
    // A cookie that does not parse is dropped like a missing one.
  }
  return undefined
}

/** Reads a flash that came with the request into c.var.flash; a forged one is dropped. */
export function loadFlash(): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const value = getSignedCookie(c, secretOf(c), FLASH_COOKIE)
    if (typeof value === 'string') c.set('flash', parseFlash(value))
    else if (value === false) deleteCookie(c, FLASH_COOKIE, { path: '/' })
    await next()
  }
}

/** The message to show on this page, once: it is removed from the browser as it is shown. */
export function takeFlash(c: Context<AdminEnv>): Flash | undefined {
  const flash = c.get('flash')
  if (!flash) return undefined
  c.set('flash', undefined)
  // A page that sets a new flash and renders (rare) keeps the new one for the next page.
  const setting = c.res.headers.get('set-cookie') ?? ''
  if (!setting.includes(`${FLASH_COOKIE}=`)) deleteCookie(c, FLASH_COOKIE, { path: '/' })
  return flash
}
