import crypto from 'node:crypto'
import type { Context } from 'hono'
import type { AdminEnv } from './env'
import { getSignedCookie, setSignedCookie } from './signed-cookie'

/**
 * "This browser has logged in as this admin before": set at each successful login, signed with
 * the session secret, and presented to the login form only. It lets its holder past the lock
 * that failed guesses put on an address (anyone can set that lock off), not past the password.
 * It holds no secret: the admin's id and a random device id, which has its own failure count,
 * so that a stolen cookie buys no more guesses than a lock would allow.
 */
export const DEVICE_COOKIE = 'm2s_device'
// Browsers cap cookie lifetimes at 400 days.
const DEVICE_MAX_AGE_SECONDS = 400 * 24 * 3600

export interface KnownDevice {
  adminId: number
  deviceId: string
}

export function readDeviceCookie(c: Context<AdminEnv>): KnownDevice | null {
  const value = getSignedCookie(c, c.get('deps').config.sessionSecret, DEVICE_COOKIE)
  if (typeof value !== 'string') return null
  const match = /^([1-9]\d{0,15}):([A-Za-z0-9_-]{22})$/.exec(value)
  return match ? { adminId: Number(match[1]), deviceId: match[2] } : null
}

export function setDeviceCookie(c: Context<AdminEnv>, adminId: number): void {
  const { config } = c.get('deps')
  const deviceId = crypto.randomBytes(16).toString('base64url')
  setSignedCookie(c, DEVICE_COOKIE, `${adminId}:${deviceId}`, config.sessionSecret, {
    path: '/login',
    httpOnly: true,
    sameSite: 'Lax',
    secure: config.baseUrl.startsWith('https:'),
    maxAge: DEVICE_MAX_AGE_SECONDS,
  })
}
