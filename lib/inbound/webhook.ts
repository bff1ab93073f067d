/**
 * Callbacks from HTTP carriers: an inbound SMS (MO) or the fate of an SMS we sent (status).
 * Each account has its own secret; a callback only ever touches that account's SMS. The admin's
 * route (admin/routes/webhook.ts) reads the request and answers; the rules live here.
 */

import crypto from 'node:crypto'
import { hashSecretToken } from '../auth/tokens'
import type { Db } from '../db/connection'
import { findNewestSmsByCarrierId } from '../db/outbound'
import { analyseSms } from '../sms'
import { canonicalMessageId } from '../smpp/message-id'
import type { ReceiptState } from '../smpp/receipt'
import { applyReceipts } from '../worker/receipts'
import { normaliseAddress, receiveInboundSms, type IntakeLog } from './intake'

/** The account a callback was authenticated for. */
export interface WebhookAccount {
  id: number
  ref: string
  defaultCountry: string
  virtualNumber: string | null
}

/** A field the carrier got wrong, named so that its developers can fix their side. */
export class WebhookInputError extends Error {
  override name = 'WebhookInputError'
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message)
  }
}

const REF_PATTERN = /^[a-z0-9][a-z0-9-]{0,31}$/
// Compared against when there is nothing to compare with, so that a missing account or secret
// costs the same work as a wrong secret.
const NO_HASH = Buffer.alloc(32)

/** The secret as the carrier presents it: `Authorization: Bearer …`, or `X-Webhook-Secret`. */
export function presentedSecret(
  authorization: string | undefined,
  secretHeader: string | undefined,
): string | null {
  const bearer = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1]
  const secret = bearer ?? secretHeader?.trim()
  return secret ? secret : null
}

/**
 * The account whose reference is in the URL, if `secret` is its webhook secret. Unknown
 * account, no secret stored, none presented or a wrong one: all null, alike, so that a caller
 * learns nothing about which references exist.
 */
export async function authenticateWebhook(
  db: Db,
  accountRef: string,
  secret: string | null,
): Promise<WebhookAccount | null> {
  const ref = accountRef.trim().toLowerCase()
  const row = REF_PATTERN.test(ref)
    ? await db('accounts')
        .where({ ref, is_active: true })
        .first('id', 'ref', 'default_country', 'virtual_number', 'webhook_secret_hash')
    : undefined
  const storedHex = typeof row?.webhook_secret_hash === 'string' ? row.webhook_secret_hash : ''
  const stored = /^[0-9a-f]{64}$/i.test(storedHex) ? Buffer.from(storedHex, 'hex') : null
  const given = Buffer.from(hashSecretToken(secret ?? ''), 'hex')
  const same = crypto.timingSafeEqual(given, stored ?? NO_HASH)
  if (!row || !stored || !secret || !same) return null
  return {
    id: Number(row.id),
    ref: String(row.ref),
    defaultCountry: String(row.default_country),
    virtualNumber: (row.virtual_number as string | null) ?? null,
  }
}

type Fields = Record<string, unknown>

/** The first alias present, as text; numbers count (carriers send MSISDNs and times as such). */
function pick(fields: Fields, names: readonly string[]): { name: string; value: string } | null {
  for (const name of names) {
    const v = fields[name]
    if (typeof v === 'string') return { name, value: v }
    if (typeof v === 'number' && Number.isFinite(v)) return { name, value: String(v) }
    if (v !== undefined && v !== null) throw new WebhookInputError(name, `${name} must be text`)
  }
  return null
}

function required(fields: Fields, names: readonly string[]): { name: string; value: string } {
  const found = pick(fields, names)
  if (!found || found.value.trim() === '') {
    const also = names.length > 1 ? ` (or ${names.slice(1).join(', ')})` : ''
    throw new WebhookInputError(names[0], `${names[0]}${also} is required`)
  }
  return found
}

const FROM = ['from', 'msisdn', 'sender', 'originator', 'source']
const TO = ['to', 'recipient', 'destination', 'dest', 'receiver']
const TEXT = ['text', 'message', 'body', 'content']
const ID = ['id', 'message_id', 'messageId', 'msg_id']
const TIMESTAMP = ['timestamp', 'received_at', 'date']
const PARTS = ['parts', 'segments']
const STATUS = ['status', 'state', 'stat']
const ERROR = ['error', 'error_code', 'err', 'reason']

/** 255 parts of 153 characters: the longest concatenated SMS there is. */
export const MAX_TEXT_LENGTH = 39_015
const MAX_ID_LENGTH = 100
/** A carrier's clock may run a little ahead; a day ahead is a wrong unit or a wrong field. */
const MAX_CLOCK_LEAD_MS = 24 * 3600_000
const EARLIEST = Date.UTC(2000, 0, 1)

function carrierId(fields: Fields): string | null {
  const id = pick(fields, ID)
  if (!id || id.value.trim() === '') return null
  if (id.value.trim().length > MAX_ID_LENGTH)
    throw new WebhookInputError(id.name, `${id.name} must be at most ${MAX_ID_LENGTH} characters`)
  // The id goes into log lines: a line break in it could forge one.
  if ([...id.value].some((ch) => ch < ' ' || ch === '\u007f'))
    throw new WebhookInputError(id.name, `${id.name} must not contain control characters`)
  return id.value.trim()
}

/** Seconds or milliseconds since the epoch, or an ISO 8601 date; absent means now. */
function receivedAt(fields: Fields, now: number): number {
  const ts = pick(fields, TIMESTAMP)
  if (!ts || ts.value.trim() === '') return now
  const text = ts.value.trim()
  let ms: number
  if (/^\d+(\.\d+)?$/.test(text)) {
    const n = Number(text)
    ms = n < 1e11 ? Math.round(n * 1000) : Math.round(n)
  } else {
    ms = /\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN
  }
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > now + MAX_CLOCK_LEAD_MS) {
    throw new WebhookInputError(
      ts.name,
      `${ts.name} must be a time in seconds or milliseconds since 1970, or an ISO 8601 date`,
    )
  }
  return ms
}

function address(field: { name: string; value: string }): string {
  const value = field.value.trim()
  // eslint-disable-next-line no-control-regex -- control characters have no place in an address.
  if (value.length > 20 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new WebhookInputError(field.name, `${field.name} is not a phone number or sender name`)
  }
  return value
}

/** An inbound SMS as a carrier posted it, checked. */
export interface InboundCallback {
  /** The authenticated account: the SMS goes to it and to no other. */
  accountId: number
  from: string
  /** E.164: the account's virtual number. */
  to: string
  text: string
  carrierId: string | null
  receivedAt: number
  parts: number
  encoding: string
}

/**
 * Reads an inbound callback. `to` must be the account's own virtual number: a carrier's
 * callback for one account cannot drop SMS into another account's mailbox, even by mistake.
 */
export function parseInboundCallback(
  fields: Fields,
  account: WebhookAccount,
  now: number,
): InboundCallback {
  const from = address(required(fields, FROM))
  const toField = required(fields, TO)
  const to = normaliseAddress(address(toField), undefined, account.defaultCountry)
  if (!account.virtualNumber) {
    throw new WebhookInputError(
      toField.name,
      'this account has no virtual number to receive SMS on',
    )
  }
  if (to !== account.virtualNumber) {
    throw new WebhookInputError(
      toField.name,
      `${toField.name} must be this account's virtual number ${account.virtualNumber}`,
    )
  }
  const textField = required(fields, TEXT)
  if (textField.value.length > MAX_TEXT_LENGTH) {
    throw new WebhookInputError(
      textField.name,
      `${textField.name} must be at most ${MAX_TEXT_LENGTH} characters`,
    )
  }
  const analysis = analyseSms(textField.value)
  const partsField = pick(fields, PARTS)
  let parts = analysis.segments
  if (partsField && partsField.value.trim() !== '') {
    parts = Number(partsField.value)
    if (!Number.isInteger(parts) || parts < 1 || parts > 255) {
      throw new WebhookInputError(partsField.name, `${partsField.name} must be from 1 to 255`)
    }
  }
  return {
    accountId: account.id,
    from,
    to,
    text: textField.value,
    carrierId: carrierId(fields),
    receivedAt: receivedAt(fields, now),
    parts,
    encoding: analysis.encoding,
  }
}

/**
 * Stores an inbound callback through the same intake as SMS that come over SMPP. A carrier id
 * seen before returns the SMS stored the first time (a carrier retrying a callback).
 */
export async function receiveInboundCallback(
  db: Db,
  sms: InboundCallback,
  log?: IntakeLog,
): Promise<{ id: number; status: string; accountId: number | null }> {
  return receiveInboundSms(
    db,
    {
      from: sms.from,
      to: sms.to,
      text: sms.text,
      encoding: sms.encoding,
      parts: sms.parts,
      source: 'webhook',
      carrierId: sms.carrierId,
      receivedAt: sms.receivedAt,
      accountId: sms.accountId,
    },
    log,
  )
}

/** Carriers' words for the fate of a message, as receipt states. */
const STATUS_WORDS: ReadonlyMap<string, ReceiptState> = new Map([
  ['delivered', 'delivered'],
  ['delivrd', 'delivered'],
  ['undeliverable', 'undeliverable'],
  ['undelivered', 'undeliverable'],
  ['undeliv', 'undeliverable'],
  ['failed', 'undeliverable'],
  ['failure', 'undeliverable'],
  ['rejected', 'rejected'],
  ['rejectd', 'rejected'],
  ['expired', 'expired'],
  // On the way: recorded, settles nothing.
  ['accepted', 'accepted'],
  ['sent', 'enroute'],
  ['queued', 'enroute'],
  ['buffered', 'enroute'],
  ['enroute', 'enroute'],
])

export interface StatusCallback {
  /** The carrier's id, canonical (as the worker stores it). */
  messageId: string
  state: ReceiptState
  error: string | null
  /** The fields as received, for the delivery event's raw text. */
  raw: string
}

export function parseStatusCallback(fields: Fields): StatusCallback {
  const id = carrierId(fields)
  if (!id) throw new WebhookInputError('message_id', 'message_id (or id) is required')
  const statusField = required(fields, STATUS)
  const state = STATUS_WORDS.get(statusField.value.trim().toLowerCase())
  if (!state) {
    throw new WebhookInputError(
      statusField.name,
      `${statusField.name} must be one of delivered, undeliverable, failed, rejected, expired (or accepted, sent, queued, enroute)`,
    )
  }
  const error = pick(fields, ERROR)?.value.trim() || null
  return {
    messageId: canonicalMessageId(id),
    state,
    error: error ? error.slice(0, 64) : null,
    raw: `webhook ${JSON.stringify(fields)}`.slice(0, 500),
  }
}

/**
 * Records a status callback through the receipt code of the SMPP worker, for an SMS of this
 * account only. Carrier ids are matched as given (no hex/decimal readings): the id must name a
 * part of one of the account's SMS, else nothing is stored and null is returned. Receipts the
 * SMPP worker cannot match yet are kept for later; a callback is not, since any account could
 * post one.
 */
export async function applyStatusCallback(
  db: Db,
  account: WebhookAccount,
  status: StatusCallback,
  now: number,
): Promise<{ smsId: number } | null> {
  // applyReceipts settles the newest part stored under this id, whichever account it is:
  // that part must be this account's.
  const newest = await findNewestSmsByCarrierId(db, status.messageId)
  if (!newest || newest.accountId !== account.id) return null
  await applyReceipts(
    db,
    [
      {
        messageId: status.messageId,
        state: status.state,
        error: status.error,
        doneAt: null,
        raw: status.raw,
      },
    ],
    'per_part',
    now,
  )
  return { smsId: newest.smsId }
}
