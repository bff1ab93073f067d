import type { Db } from './connection'
import { bumpCacheVersion } from './versions'
import { isUniqueViolation } from './errors'
import { isValidCountry } from '../phone'

export interface Account {
  id: number
  ref: string
  name: string
  defaultCountry: string
  senderName: string | null
  signatureMarker: string | null
  segmentCap: number
  virtualNumber: string | null
  isActive: boolean
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
  const virtual = input.virtualNumber?.trim()
  if (virtual && !/^\+[1-9]\d{6,14}$/.test(virtual)) {
    throw new ValidationError(
      `virtual number "${virtual}" must be in international form, e.g. +33700000001`,
    )
  }
  row.virtual_number = virtual || null
  return row
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
    isActive: Boolean(row.is_active),
  }
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
      await trx('accounts').insert(row)
      await bumpCacheVersion(trx, 'directory')
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
