import type { Db } from './connection'
import { bumpCacheVersion } from './versions'
import { isUniqueViolation } from './errors'
import { isValidCountry, parseVirtualNumber } from '../phone'
import { parseDestinationList } from '../limits/destinations'
import { canonicalTimeZone } from '../time/zone'

export interface Account {
  id: number
  ref: string
  name: string
  defaultCountry: string
  senderName: string | null
  signatureMarker: string | null
  segmentCap: number
  virtualNumber: string | null
  /** "Stay in GSM 03.38": letters GSM lacks are replaced by the closest ones before sending. */
  gsmOnly: boolean
  /**
   * IANA zone: the day each SMS is counted on (outbound_sms.local_day), the days of the
   * admin's chart and the zone its pages show dates in.
   */
  timeZone: string
  isActive: boolean
  /** The operator's overrides of the [limits] defaults: null follows them, 0 is no limit. */
  limits: AccountLimitOverrides
}

export interface AccountLimitOverrides {
  smsPerMinute: number | null
  senderSmsPerMinute: number | null
  segmentsPerDay: number | null
  segmentsPerMonth: number | null
  /** Countries (ISO codes) and `+<prefix>` ranges besides the account's own country. */
  allowedDestinations: string[] | null
}

export interface AccountInput {
  ref: string
  name: string
  defaultCountry?: string
  senderName?: string | null
  signatureMarker?: string | null
  segmentCap?: number
  /** The account's own number, E.164: the sender when it has no sender name. */
  virtualNumber?: string | null
  /** Off unless given: folding letters changes what recipients read. */
  gsmOnly?: boolean
  /** An IANA zone such as Europe/Paris; UTC when not given. */
  timeZone?: string
}

export class ValidationError extends Error {
  override name = 'ValidationError'
}

const REF_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/
const SENDER_NAME_PATTERN = /^[A-Za-z0-9]{1,11}$/
export const MAX_SEGMENT_CAP = 20

/** The account's short reference doubles as a sub-address: `<number>+<ref>@domain`. */
export function validateAccountRef(ref: string): string {
  const r = ref.trim().toLowerCase()
  if (!REF_PATTERN.test(r)) {
    throw new ValidationError(
      `account reference "${ref}" must be 1-32 characters of a-z, 0-9 and "-", starting with a letter or digit`,
    )
  }
  return r
}

export function validateSenderName(name: string): string {
  if (!SENDER_NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `sender name "${name}" must be 1-11 characters of A-Z, a-z and 0-9, without spaces`,
    )
  }
  return name
}

/** E.164, or a ValidationError saying how to write it. */
export function validateVirtualNumber(input: string, defaultCountry: string): string {
  const parsed = parseVirtualNumber(input, defaultCountry)
  if (!parsed.ok) {
    throw new ValidationError(
      `virtual number: ${parsed.message}; write it in international form, e.g. +33700000001`,
    )
  }
  return parsed.e164
}

/** The number is another account's: inbound SMS to it could only go to one of them. */
export class VirtualNumberTakenError extends ValidationError {
  override name = 'VirtualNumberTakenError'
  constructor(
    readonly number: string,
    readonly ownerRef: string,
  ) {
    super(`${number} is already the virtual number of account "${ownerRef}"`)
  }
}

/**
 * Throws VirtualNumberTakenError when another account has the number. Call inside the
 * transaction that stores it, with bumpCacheVersion as that transaction's first statement: the
 * update locks the version row until commit, so two transactions giving one number to two
 * accounts take turns, and the second sees the first's row here (MySQL takes a transaction's
 * snapshot at its first plain read, which must therefore come after the lock).
 */
export async function assertVirtualNumberFree(
  trx: Db,
  number: string,
  accountId: number | null,
): Promise<void> {
  const owners = trx('accounts').where({ virtual_number: number })
  if (accountId !== null) owners.whereNot({ id: accountId })
  const owner = await owners.first('ref')
  if (owner) throw new VirtualNumberTakenError(number, String(owner.ref))
}

function validateInput(input: AccountInput): Record<string, unknown> {
  const row: Record<string, unknown> = { ref: validateAccountRef(input.ref) }
  const name = input.name.trim()
  if (!name || name.length > 200) throw new ValidationError('account name must be 1-200 characters')
  row.name = name
  const country = (input.defaultCountry ?? 'FR').toUpperCase()
  if (!isValidCountry(country)) {
    throw new ValidationError(
      `default country "${input.defaultCountry}" is not an ISO 3166 code such as FR or GB`,
    )
  }
  row.default_country = country
  row.sender_name = input.senderName ? validateSenderName(input.senderName) : null
  const marker = input.signatureMarker?.trim()
  if (marker && marker.length > 200)
    throw new ValidationError('signature marker must be at most 200 characters')
  row.signature_marker = marker || null
  const cap = input.segmentCap ?? 4
  if (!Number.isInteger(cap) || cap < 1 || cap > MAX_SEGMENT_CAP) {
    throw new ValidationError(`segment cap must be a whole number from 1 to ${MAX_SEGMENT_CAP}`)
  }
  row.segment_cap = cap
  row.virtual_number = input.virtualNumber?.trim()
    ? validateVirtualNumber(input.virtualNumber, country)
    : null
  row.gsm_only = input.gsmOnly ?? false
  row.time_zone = validateTimeZone(input.timeZone ?? 'UTC')
  return row
}

/** The zone's canonical name (europe/paris → Europe/Paris); ValidationError for an unknown one. */
export function validateTimeZone(zone: string): string {
  const known = canonicalTimeZone(zone)
  if (!known) {
    throw new ValidationError(
      `time zone "${zone.trim()}" is not an IANA zone name such as Europe/Paris, or UTC`,
    )
  }
  return known
}

export function toAccount(row: Record<string, unknown>): Account {
  return {
    id: Number(row.id),
    ref: String(row.ref),
    name: String(row.name),
    defaultCountry: String(row.default_country),
    senderName: (row.sender_name as string | null) ?? null,
    signatureMarker: (row.signature_marker as string | null) ?? null,
    segmentCap: Number(row.segment_cap),
    virtualNumber: (row.virtual_number as string | null) ?? null,
    gsmOnly: Boolean(row.gsm_only),
    timeZone: (row.time_zone as string | null) ?? 'UTC',
    isActive: Boolean(row.is_active),
    limits: {
      smsPerMinute: nullableCount(row.sms_per_minute),
      senderSmsPerMinute: nullableCount(row.sender_sms_per_minute),
      segmentsPerDay: nullableCount(row.segments_per_day),
      segmentsPerMonth: nullableCount(row.segments_per_month),
      allowedDestinations:
        row.allowed_destinations == null
          ? null
          : String(row.allowed_destinations).split(',').filter(Boolean),
    },
  }
}

function nullableCount(value: unknown): number | null {
  return value == null ? null : Number(value)
}

export async function createAccount(
  db: Db,
  input: AccountInput,
  now = Date.now(),
): Promise<Account> {
  const row: Record<string, unknown> = {
    ...validateInput(input),
    is_active: true,
    created_at: now,
    updated_at: now,
  }
  try {
    return await db.transaction(async (trx) => {
      await bumpCacheVersion(trx, 'directory')
      if (row.virtual_number) await assertVirtualNumberFree(trx, String(row.virtual_number), null)
      await trx('accounts').insert(row)
      return toAccount(await trx('accounts').where({ ref: row.ref }).first())
    })
  } catch (err) {
    if (isUniqueViolation(err))
      throw new ValidationError(`an account with reference "${row.ref}" already exists`)
    throw err
  }
}

export async function findAccountByRef(db: Db, ref: string): Promise<Account | null> {
  const row = await db('accounts').where({ ref: ref.trim().toLowerCase() }).first()
  return row ? toAccount(row) : null
}

export async function listAccounts(db: Db): Promise<Account[]> {
  return (await db('accounts').orderBy('ref')).map(toAccount)
}

export type LimitSetting = number | 'default'

export interface AccountLimitsPatch {
  smsPerMinute?: LimitSetting
  senderSmsPerMinute?: LimitSetting
  segmentsPerDay?: LimitSetting
  segmentsPerMonth?: LimitSetting
  /** A list such as `BE, DE, +881`, or 'default' to follow `limits.allowed_destinations`. */
  allowedDestinations?: string
}

const LIMIT_COLUMNS = {
  smsPerMinute: 'sms_per_minute',
  senderSmsPerMinute: 'sender_sms_per_minute',
  segmentsPerDay: 'segments_per_day',
  segmentsPerMonth: 'segments_per_month',
} as const

/** The longest list of allowed destinations an account can have, as stored (comma-separated). */
export const MAX_DESTINATIONS_TEXT = 500

/** An operator's change to an account's spend limits; the MX nodes reload it within a second. */
export async function updateAccountLimits(
  db: Db,
  accountId: number,
  patch: AccountLimitsPatch,
  now = Date.now(),
): Promise<void> {
  const row: Record<string, unknown> = {}
  for (const [field, column] of Object.entries(LIMIT_COLUMNS)) {
    const value = patch[field as keyof typeof LIMIT_COLUMNS]
    if (value === undefined) continue
    if (value !== 'default' && (!Number.isInteger(value) || value < 0 || value > 1e9))
      throw new ValidationError(`${column} must be a whole number from 0 (no limit) upwards`)
    row[column] = value === 'default' ? null : value
  }
  if (patch.allowedDestinations !== undefined) {
    if (patch.allowedDestinations.trim() === 'default') row.allowed_destinations = null
    else {
      const list = parseDestinationList(patch.allowedDestinations)
      if (!list.ok) throw new ValidationError(`allowed destinations: ${list.message}`)
      const text = list.entries.join(',')
      if (text.length > MAX_DESTINATIONS_TEXT) {
        throw new ValidationError('allowed destinations: list too long')
      }
      row.allowed_destinations = text
    }
  }
  if (Object.keys(row).length === 0) return
  await db.transaction(async (trx) => {
    await trx('accounts')
      .where({ id: accountId })
      .update({ ...row, updated_at: now })
    await bumpCacheVersion(trx, 'directory')
  })
}
