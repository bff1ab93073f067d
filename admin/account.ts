import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv } from './env'
import type { AccountSection } from './layout'
import { getAccountSettings, type AccountSettings } from '../lib/db/account-settings'
import { timeZoneOrUtc, type TimeZone } from '../lib/time/zone'

/** The address of a section of the request's account (the one requireAccount checked). */
export function accountPath(c: Context<AdminEnv>, section: AccountSection): string {
  return `/a/${c.get('account').id}/${section}`
}

/** The request's account settings; 404 if the account went away since the session listed it. */
export async function loadAccountSettings(c: Context<AdminEnv>): Promise<AccountSettings> {
  const settings = await getAccountSettings(c.get('deps').db, c.get('account').id)
  if (!settings) throw new HTTPException(404)
  return settings
}

/**
 * Dates of the request's account: the days its filters mean and the times its pages show, in
 * the account's time zone (Préférences, "Fuseau horaire"), made once per zone for the process.
 */
export async function accountClock(c: Context<AdminEnv>): Promise<TimeZone> {
  return timeZoneOrUtc(c.get('account').timeZone)
}
