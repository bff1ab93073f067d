import type { Db } from './connection'
import { bumpCacheVersion } from './versions'
import {
  MAX_SEGMENT_CAP,
  ValidationError,
  assertVirtualNumberFree,
  validateSenderName,
  validateVirtualNumber,
} from './accounts'
import { normaliseEmail } from './senders'
import { isValidCountry } from '../phone'
import { canonicalTimeZone } from '../time/zone'
import { hashSecretToken, newSecretToken } from '../auth/tokens'

/** What the account's "Préférences" and "Réception en cours" pages show and edit. */
export interface AccountSettings {
  accountId: number
  ref: string
  signatureMarker: string | null
  senderName: string | null
  defaultCountry: string
  segmentCap: number
  virtualNumber: string | null
  /** "Stay in GSM 03.38": see lib/sms/gsm-fold. */
  gsmOnly: boolean
  /** IANA zone of the account's days and dates (see Account.timeZone). */
  timeZone: string
  forwardAddresses: string[]
  directReply: boolean
  failureNotices: boolean
  /** Only whether one is set: the secret itself is never stored, only its sha256. */
  webhookSecretSet: boolean
}

/** The preferences form as posted: every value is the text typed, checked here. */
export interface PreferencesInput {
  signatureMarker: string
  senderName: string
  defaultCountry: string
  segmentCap: string | number
  /** The checkbox: ticked or not. Left as it is when absent (a caller that does not show it). */
  gsmOnly?: boolean
  /** An IANA zone name. Left as it is when absent. */
  timeZone?: string
}

export interface ReceivingInput {
  /** Addresses separated by commas, as the guide says; semicolons and line breaks work too. */
  forwardAddresses: string
  directReply: boolean
  failureNotices: boolean
}

export type SettingsField = keyof PreferencesInput | 'forwardAddresses'

/** Why a field was refused; the admin turns it into a sentence in the page's language. */
export type SettingsProblem =
  | 'signature_too_long'
  | 'sender_name_format'
  | 'country_unknown'
  | 'segment_cap_range'
  | 'time_zone_unknown'
  | 'forward_address_invalid'
  | 'forward_too_many'

/** One refused field. `value` is what to name in the message (the bad address, the code). */
export class FieldError extends ValidationError {
  override name = 'FieldError'
  constructor(
    readonly field: SettingsField,
    readonly problem: SettingsProblem,
    message: string,
    readonly value = '',
  ) {
    super(message)
  }
}

/** Every refused field of one form, so that each message can sit next to its field. */
export class FieldErrors extends ValidationError {
  override name = 'FieldErrors'
  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => e.message).join('; '))
  }

  forField(field: SettingsField): FieldError | undefined {
    return this.errors.find((e) => e.field === field)
  }
}

export const MAX_SIGNATURE_MARKER = 200
export const MAX_FORWARD_ADDRESSES = 20

export function toSettings(row: Record<string, unknown>): AccountSettings {
  const forward = (row.forward_addresses as string | null) ?? ''
  return {
    accountId: Number(row.id),
    ref: String(row.ref),
    signatureMarker: (row.signature_marker as string | null) ?? null,
    senderName: (row.sender_name as string | null) ?? null,
    defaultCountry: String(row.default_country),
    segmentCap: Number(row.segment_cap),
    virtualNumber: (row.virtual_number as string | null) ?? null,
    gsmOnly: Boolean(row.gsm_only),
    timeZone: (row.time_zone as string | null) ?? 'UTC',
    forwardAddresses: forward.split(',').filter((a) => a !== ''),
    directReply: Boolean(row.direct_reply),
    failureNotices: Boolean(row.failure_notices),
    webhookSecretSet: Boolean(row.webhook_secret_hash),
  }
}

export async function getAccountSettings(
  db: Db,
  accountId: number,
): Promise<AccountSettings | null> {
  const row = await db('accounts').where({ id: accountId }).first()
  return row ? toSettings(row) : null
}

/**
 * The guide asks for the first line of the signature: a pasted multi-line signature keeps only
 * that line, which is all the cut needs.
 */
function signatureLine(input: string): string {
  return (
    input
      .split(/\r\n|[\r\n]/)
      .map((line) => line.trim())
      .find((line) => line !== '') ?? ''
  )
}

function parseSegmentCap(input: string | number): number | null {
  const text = String(input).trim()
  if (!/^\d{1,3}$/.test(text)) return null
  const cap = Number(text)
  return cap >= 1 && cap <= MAX_SEGMENT_CAP ? cap : null
}

function unknownTimeZone(zone: string): FieldError {
  const named = zone.trim()
  return new FieldError(
    'timeZone',
    'time_zone_unknown',
    `"${named}" is not an IANA time zone such as Europe/Paris, or UTC`,
    named,
  )
}

function validatePreferences(input: PreferencesInput): Record<string, unknown> {
  const errors: FieldError[] = []
  const marker = signatureLine(input.signatureMarker)
  if (marker.length > MAX_SIGNATURE_MARKER) {
    errors.push(
      new FieldError(
        'signatureMarker',
        'signature_too_long',
        `the signature line must be at most ${MAX_SIGNATURE_MARKER} characters`,
      ),
    )
  }
  const senderName = input.senderName.trim()
  if (senderName !== '') {
    try {
      validateSenderName(senderName)
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err
      errors.push(new FieldError('senderName', 'sender_name_format', err.message, senderName))
    }
  }
  const country = input.defaultCountry.trim().toUpperCase()
  if (!isValidCountry(country)) {
    errors.push(
      new FieldError(
        'defaultCountry',
        'country_unknown',
        `"${input.defaultCountry.trim()}" is not a two-letter country code such as FR or GB`,
        input.defaultCountry.trim(),
      ),
    )
  }
  const cap = parseSegmentCap(input.segmentCap)
  if (cap === null) {
    errors.push(
      new FieldError(
        'segmentCap',
        'segment_cap_range',
        `the SMS limit must be a whole number from 1 to ${MAX_SEGMENT_CAP}`,
        String(input.segmentCap).trim(),
      ),
    )
  }
  const zone = input.timeZone === undefined ? undefined : canonicalTimeZone(input.timeZone)
  if (zone === null) errors.push(unknownTimeZone(input.timeZone ?? ''))
  if (errors.length > 0) throw new FieldErrors(errors)
  return {
    signature_marker: marker || null,
    sender_name: senderName || null,
    default_country: country,
    segment_cap: cap,
    ...(input.gsmOnly === undefined ? {} : { gsm_only: input.gsmOnly }),
    ...(zone ? { time_zone: zone } : {}),
  }
}

function parseForwardAddresses(input: string): string[] {
  const addresses: string[] = []
  const invalid: string[] = []
  for (const part of input.split(/[,;\r\n]+/)) {
    const written = part.trim()
    if (written === '') continue
    try {
      const email = normaliseEmail(written)
      if (!addresses.includes(email)) addresses.push(email)
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err
      invalid.push(written)
    }
  }
  if (invalid.length > 0) {
    const named = invalid.join(', ')
    const message =
      invalid.length === 1
        ? `"${named}" is not a valid email address`
        : `these are not valid email addresses: ${named}`
    throw new FieldErrors([
      new FieldError('forwardAddresses', 'forward_address_invalid', message, named),
    ])
  }
  if (addresses.length > MAX_FORWARD_ADDRESSES) {
    throw new FieldErrors([
      new FieldError(
        'forwardAddresses',
        'forward_too_many',
        `at most ${MAX_FORWARD_ADDRESSES} forward addresses (${addresses.length} given)`,
        String(addresses.length),
      ),
    ])
  }
  return addresses
}

/**
 * Writes some account columns. The MX caches accounts in its directory, hence the version bump
 * in the same transaction: it reloads on its next check.
 */
async function updateAccount(
  db: Db,
  accountId: number,
  changes: Record<string, unknown>,
  now: number,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('accounts')
      .where({ id: accountId })
      .update({ ...changes, updated_at: now })
    if (n > 0) await bumpCacheVersion(trx, 'directory')
    return n > 0
  })
}

/** Saves "Préférences"; throws FieldErrors naming every refused field, changing nothing. */
export async function updatePreferences(
  db: Db,
  accountId: number,
  input: PreferencesInput,
  now = Date.now(),
): Promise<boolean> {
  return updateAccount(db, accountId, validatePreferences(input), now)
}

/**
 * The account's time zone (the CLI's `account set --tz`); throws FieldErrors for an unknown one.
 * SMS already counted stay on the days they were counted on, in the zone they were taken in.
 */
export async function setTimeZone(
  db: Db,
  accountId: number,
  zone: string,
  now = Date.now(),
): Promise<boolean> {
  const known = canonicalTimeZone(zone)
  if (!known) throw new FieldErrors([unknownTimeZone(zone)])
  return updateAccount(db, accountId, { time_zone: known }, now)
}

/** Turns "stay in GSM 03.38" on or off (the CLI's `account set --gsm-only`). */
export async function setGsmOnly(
  db: Db,
  accountId: number,
  gsmOnly: boolean,
  now = Date.now(),
): Promise<boolean> {
  return updateAccount(db, accountId, { gsm_only: gsmOnly }, now)
}

/**
 * An operator gives the account its virtual number, or takes it away (`input` empty or null).
 * Written in international form or national in the account's country; stored in E.164. Throws
 * ValidationError for a number that is not one, VirtualNumberTakenError for another account's.
 * Null when there is no such account. The worker routes each inbound SMS with a fresh query,
 * and the MX reloads its accounts on the version bump: both see the change at once.
 */
export async function setVirtualNumber(
  db: Db,
  accountId: number,
  input: string | null,
  now = Date.now(),
): Promise<{ virtualNumber: string | null } | null> {
  return db.transaction(async (trx) => {
    // First, before any read: see assertVirtualNumberFree.
    await bumpCacheVersion(trx, 'directory')
    const account = await trx('accounts').where({ id: accountId }).first('default_country')
    if (!account) return null
    const number = input?.trim()
      ? validateVirtualNumber(input, String(account.default_country))
      : null
    if (number) await assertVirtualNumberFree(trx, number, accountId)
    await trx('accounts')
      .where({ id: accountId })
      .update({ virtual_number: number, updated_at: now })
    return { virtualNumber: number }
  })
}

/** Saves "Réception en cours"; throws FieldErrors naming the bad addresses, changing nothing. */
export async function updateReceiving(
  db: Db,
  accountId: number,
  input: ReceivingInput,
  now = Date.now(),
): Promise<boolean> {
  const addresses = parseForwardAddresses(input.forwardAddresses)
  return updateAccount(
    db,
    accountId,
    {
      forward_addresses: addresses.length > 0 ? addresses.join(',') : null,
      direct_reply: input.directReply,
      failure_notices: input.failureNotices,
    },
    now,
  )
}

/**
 * A new secret for the carrier webhooks, replacing any earlier one. It is returned once to be
 * shown; only its hash is kept, so a leaked database does not let anyone post fake SMS.
 */
export async function rotateWebhookSecret(
  db: Db,
  accountId: number,
  now = Date.now(),
): Promise<string> {
  const secret = newSecretToken()
  const found = await updateAccount(
    db,
    accountId,
    { webhook_secret_hash: hashSecretToken(secret) },
    now,
  )
  if (!found) throw new ValidationError(`no account with id ${accountId}`)
  return secret
}

export async function clearWebhookSecret(
  db: Db,
  accountId: number,
  now = Date.now(),
): Promise<boolean> {
  return updateAccount(db, accountId, { webhook_secret_hash: null }, now)
}
