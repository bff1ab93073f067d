import type { Db } from './connection'
import { fromIndex } from './index-hint'

/**
 * The audit log: what an admin changed in an account, when, from where, and the fields before
 * and after. The admin's email is copied in, so an entry outlives the login.
 *
 * Secrets never reach it. A field named like one (password, secret, token, key, hash…), or
 * listed in `secrets`, is written as SECRET_CHANGED when its value changed, and left out when
 * it did not: the log says that a webhook secret was replaced, never what it was.
 */

/** What a field may hold: flat values, so that any page can show them side by side. */
export type AuditValue = string | number | boolean | null | string[]
export type AuditFields = Record<string, AuditValue>

/** Stands for a secret's value in before/after; an object, so no real string can pass for it. */
export const SECRET_CHANGED = Object.freeze({ secret: 'changed' })
export type StoredAuditValue = AuditValue | typeof SECRET_CHANGED
export type StoredAuditFields = Record<string, StoredAuditValue>

export interface AuditRecord {
  accountId: number | null
  adminId: number | null
  adminEmail: string
  /** What was done, as `thing.verb`: `opt_out.remove`, `ip.add`… */
  action: string
  /** What it was done to, as people name it: a number, an address, a setting's name. */
  subject: string
  /** The fields before the change; null for a creation. */
  before?: AuditFields | null
  /** The fields after it; null for a deletion. */
  after?: AuditFields | null
  /** Names of more fields to treat as secrets, beyond those named like one. */
  secrets?: readonly string[]
  clientIp?: string | null
  at: number
}

export interface AuditEntry {
  id: number
  accountId: number | null
  adminId: number | null
  adminEmail: string
  action: string
  subject: string
  before: StoredAuditFields | null
  after: StoredAuditFields | null
  clientIp: string | null
  createdAt: number
}

const SECRET_NAME = /pass(word|phrase)?|secret|token|api.?key|private.?key|hash|credential/i
const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/
const MAX_SUBJECT = 255
/** Longer strings are cut: the log says what changed, it does not keep documents. */
const MAX_STRING = 1000

export function isSecretField(name: string, secrets: readonly string[] = []): boolean {
  return secrets.includes(name) || SECRET_NAME.test(name)
}

function clip(value: AuditValue): AuditValue {
  if (typeof value === 'string')
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value
  if (Array.isArray(value)) return value.map((v) => clip(v) as string)
  return value
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)

/**
 * The before and after as stored: secrets replaced by SECRET_CHANGED (on the side that has a
 * value: both for a change, after alone for one set, before alone for one removed) or dropped
 * when unchanged; long strings cut.
 */
export function redactAuditFields(
  before: AuditFields | null,
  after: AuditFields | null,
  secrets: readonly string[] = [],
): { before: StoredAuditFields | null; after: StoredAuditFields | null } {
  const store = (fields: AuditFields | null, other: AuditFields | null) => {
    if (fields === null) return null
    const stored: StoredAuditFields = {}
    for (const [name, value] of Object.entries(fields)) {
      if (!isSecretField(name, secrets)) stored[name] = clip(value)
      else if (value !== null && !same(value, other?.[name])) stored[name] = SECRET_CHANGED
    }
    return stored
  }
  return { before: store(before, after), after: store(after, before) }
}

/** One field an entry changed: its value on each side (undefined: not there). */
export interface AuditFieldChange {
  field: string
  before: StoredAuditValue | undefined
  after: StoredAuditValue | undefined
  /** A secret: only that it changed is known. */
  secret: boolean
}

/**
 * The fields whose value differs between before and after, in the order they were written
 * (before's first, then those only after has); a secret is always one of them.
 */
export function changedFields(
  before: StoredAuditFields | null,
  after: StoredAuditFields | null,
): AuditFieldChange[] {
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])]
  const changes: AuditFieldChange[] = []
  for (const field of names) {
    const b = before?.[field]
    const a = after?.[field]
    const secret = b === SECRET_CHANGED || a === SECRET_CHANGED
    if (secret || !same(b, a)) changes.push({ field, before: b, after: a, secret })
  }
  return changes
}

function json(fields: StoredAuditFields | null): string | null {
  return fields === null ? null : JSON.stringify(fields)
}

/**
 * Writes one entry; `db` may be the transaction of the change itself, so that the change and
 * its entry are committed together or not at all.
 */
export async function recordAuditEntry(db: Db, record: AuditRecord): Promise<number> {
  if (!ACTION.test(record.action) || record.action.length > 64) {
    throw new RangeError(`audit action must look like thing.verb, got "${record.action}"`)
  }
  const { before, after } = redactAuditFields(
    record.before ?? null,
    record.after ?? null,
    record.secrets,
  )
  const [id] = await db('audit_log').insert({
    account_id: record.accountId,
    admin_id: record.adminId,
    admin_email: record.adminEmail.slice(0, 254),
    action: record.action,
    subject: record.subject.slice(0, MAX_SUBJECT),
    before_json: json(before),
    after_json: json(after),
    client_ip: record.clientIp?.slice(0, 45) ?? null,
    created_at: record.at,
  })
  return Number(id)
}

function parseFields(value: unknown): StoredAuditFields | null {
  if (typeof value !== 'string') return null
  const parsed = JSON.parse(value) as StoredAuditFields
  // Secrets come back as the same frozen marker, so that pages can tell them by identity.
  for (const [name, v] of Object.entries(parsed))
    if (same(v, SECRET_CHANGED)) parsed[name] = SECRET_CHANGED
  return parsed
}

function toEntry(row: Record<string, unknown>): AuditEntry {
  const optional = (v: unknown) => (v === null || v === undefined ? null : Number(v))
  return {
    id: Number(row.id),
    accountId: optional(row.account_id),
    adminId: optional(row.admin_id),
    adminEmail: String(row.admin_email),
    action: String(row.action),
    subject: String(row.subject),
    before: parseFields(row.before_json),
    after: parseFields(row.after_json),
    clientIp: (row.client_ip as string | null) ?? null,
    createdAt: Number(row.created_at),
  }
}

export interface AuditFilter {
  action?: string
  adminEmail?: string
  /** Keyset: only entries with a smaller id (the `nextBefore` of the previous page). */
  before?: number
}

export interface AuditPage {
  rows: AuditEntry[]
  nextBefore: number | null
}

// migrations/20261206124300_create_audit_log.ts: (account_id, id), and with action or admin.
const INDEX = {
  account: 'audit_log_account_id',
  action: 'audit_log_account_action_id',
  admin: 'audit_log_account_admin_id',
} as const

/**
 * One page of an account's log, newest first, by action or by admin, through the index that
 * reads it in that order. With both, the action's index, filtering the admin as it goes.
 */
export async function listAuditEntries(
  db: Db,
  accountId: number,
  filter: AuditFilter,
  limit: number,
): Promise<AuditPage> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`bad page size ${limit}`)
  if (filter.before !== undefined && !Number.isSafeInteger(filter.before)) {
    throw new RangeError(`before must be a whole number, got ${filter.before}`)
  }
  const index =
    filter.action !== undefined
      ? INDEX.action
      : filter.adminEmail !== undefined
        ? INDEX.admin
        : INDEX.account
  const q = fromIndex(db, 'audit_log', index).where('account_id', accountId)
  if (filter.action !== undefined) q.where('action', filter.action)
  if (filter.adminEmail !== undefined) q.where('admin_email', filter.adminEmail)
  if (filter.before !== undefined) q.where('id', '<', filter.before)
  const rows = (
    (await q
      .select('*')
      .orderBy('id', 'desc')
      .limit(limit + 1)) as Array<Record<string, unknown>>
  ).map((row) => toEntry(row))
  const page = rows.slice(0, limit)
  return { rows: page, nextBefore: rows.length > limit ? page[page.length - 1].id : null }
}

/**
 * The actions and the admins found in an account's log, for the page's filters: each read by
 * jumping from one value to the next in its index, not by reading every entry.
 */
export async function auditFilterChoices(
  db: Db,
  accountId: number,
): Promise<{ actions: string[]; admins: string[] }> {
  const distinct = async (index: string, column: string) => {
    const rows = (await fromIndex(db, 'audit_log', index)
      .where('account_id', accountId)
      .groupBy('account_id', column)
      .orderBy(column)
      .select(column)) as Array<Record<string, unknown>>
    return rows.map((r) => String(r[column]))
  }
  const [actions, admins] = await Promise.all([
    distinct(INDEX.action, 'action'),
    distinct(INDEX.admin, 'admin_email'),
  ])
  return { actions, admins }
}
