/**
 * Where every inbound SMS enters, from SMPP or an HTTP webhook: numbers made E.164, the
 * account found by its virtual number, STOP and START acted on, and the SMS stored once for
 * the mail dispatcher.
 */

import crypto from 'node:crypto'
import { parsePhoneNumberFromString, isSupportedCountry } from 'libphonenumber-js/max'
import { isMysql, type Db } from '../db/connection'
import { isUniqueViolation } from '../db/errors'
import { releaseInboundKey, type InboundStatus } from '../db/inbound'
import { addOptOut, isOptedOut, removeOptOut } from '../db/opt-outs'
import { matchKeyword } from './keywords'
import { MO_KEY_HOLD_MS } from './redelivery'

export interface InboundSmsInput {
  /** As the carrier gave them: with or without "+", national, or an alphanumeric sender. */
  from: string
  to: string
  text: string
  /** gsm7, ascii, latin1, ucs2, binary, or what a webhook says (at most 8 characters). */
  encoding: string
  parts: number
  source: 'smpp' | 'webhook'
  /** The carrier's id for this SMS, when it gives one: a redelivery with the same id is one SMS. */
  carrierId?: string | null
  /**
   * SMPP: the key of this delivery (redelivery.ts), stored as the row's dedupe key and held
   * until the SMSC has our acknowledgement. A delivery that finds it held is that SMS again.
   */
  heldKey?: string
  receivedAt: number
  /** SMPP type of number (1 international, 2 national) when known. */
  fromTon?: number
  toTon?: number
  /** Parts of a concatenated SMS that never arrived; the text has "[…]" where they were. */
  missingParts?: number
  /**
   * The account a webhook authenticated: the SMS is that account's or nobody's, whichever
   * other account has the same number (virtual numbers are not unique).
   */
  accountId?: number
}

export interface IntakeResult {
  id: number
  status: string
  accountId: number | null
  /** The key the row holds until the SMSC has our acknowledgement, for an SMPP delivery. */
  heldKey?: string
}

export type IntakeLog = (line: string) => void

/**
 * Webhooks only (SMPP MO are told apart by what SMPP gives, see redelivery.ts): how close two
 * identical SMS (same sender, number and text) without a carrier id must be to count as one
 * SMS delivered twice. An HTTP carrier retries a request whose answer it lost within moments;
 * a person who sends the same words again a few minutes later means it.
 */
export const DEDUPE_WINDOW_MS = 2 * 60_000

const TON_INTERNATIONAL = 1
const TON_NATIONAL = 2
/** Alphanumeric and abbreviated: names and short codes, never E.164. */
const TONS_NOT_E164 = new Set([5, 6])
/** The shortest international number there is (country code included). */
const MIN_E164_DIGITS = 7

/**
 * E.164 for a number, the address unchanged for an alphanumeric sender or a short code (which
 * read as international would name some other country's subscriber). Digits are read as
 * international unless the carrier said national (TON 2) or they start with a trunk "0", in
 * which case `country` decides, when there is one.
 */
export function normaliseAddress(address: string, ton?: number, country?: string): string {
  const compact = address.trim().replace(/[\s.\-()/]/g, '')
  if (ton !== undefined && TONS_NOT_E164.has(ton)) return address.trim()
  if (/^\+\d+$/.test(compact)) return compact
  if (/^00[1-9]\d*$/.test(compact)) return `+${compact.slice(2)}`
  if (!/^\d+$/.test(compact)) return address.trim()
  if (compact.length < MIN_E164_DIGITS) return compact
  const national = ton === TON_NATIONAL || (ton !== TON_INTERNATIONAL && compact.startsWith('0'))
  if (!national) return `+${compact}`
  const region = country?.toUpperCase()
  if (region && isSupportedCountry(region)) {
    const parsed = parsePhoneNumberFromString(compact, region)
    if (parsed) return parsed.number
  }
  return compact
}

interface RoutedAccount {
  id: number
  ref: string
  defaultCountry: string
}

/** The active account whose virtual number the SMS was sent to (among `onlyAccountId`). */
async function findAccountByNumber(
  db: Db,
  to: string,
  toTon: number | undefined,
  onlyAccountId?: number,
): Promise<{ account: RoutedAccount | null; number: string }> {
  const direct = normaliseAddress(to, toTon)
  const active = db('accounts').whereNotNull('virtual_number').where({ is_active: true })
  if (onlyAccountId !== undefined) active.where({ id: onlyAccountId })
  const candidates = direct.startsWith('+')
    ? await active.where({ virtual_number: direct })
    : // A national number only means something in a country: try each account's own.
      await active
  for (const row of candidates) {
    const number = normaliseAddress(to, toTon, String(row.default_country))
    if (number === row.virtual_number) {
      const account = {
        id: Number(row.id),
        ref: String(row.ref),
        defaultCountry: String(row.default_country),
      }
      return { account, number }
    }
  }
  return { account: null, number: direct }
}

/**
 * The keys an SMS is known by: the held SMPP key, the carrier id's, or the text's in its
 * DEDUPE_WINDOW_MS bucket. The first is the one stored. A text is also looked up under the
 * bucket before, so that a redelivery a moment after a bucket boundary still finds the first.
 */
function dedupeKeys(
  sms: InboundSmsInput,
  from: string,
  to: string,
  accountId: number | null,
): string[] {
  if (sms.heldKey) return [sms.heldKey]
  const digest = (text: string) => crypto.createHash('sha256').update(text).digest('hex')
  // Scoped by destination and account: two accounts' carriers may reuse one id, even on a
  // number both have.
  if (sms.carrierId) {
    return [digest(`carrier\0${sms.source}\0${to}\0${accountId ?? ''}\0${sms.carrierId}`)]
  }
  const bucket = Math.floor(sms.receivedAt / DEDUPE_WINDOW_MS)
  return [bucket, bucket - 1].map((b) => digest(`text\0${from}\0${to}\0${sms.text}\0${b}`))
}

/**
 * The SMS stored under one of `keys`; under the bucket before, only if it came in the window.
 * A held key counts for MO_KEY_HOLD_MS: older, it is released here so the new SMS can have it.
 */
async function existing(
  db: Db,
  keys: string[],
  sms: InboundSmsInput,
): Promise<IntakeResult | null> {
  const rows = await db('inbound_sms')
    .whereIn('dedupe_key', keys)
    .select('id', 'status', 'account_id', 'received_at', 'dedupe_key')
  if (sms.heldKey && rows.length > 0) {
    const held = rows[0]
    if (Number(held.received_at) > sms.receivedAt - MO_KEY_HOLD_MS) {
      return { ...resultOf(held), heldKey: sms.heldKey }
    }
    await releaseInboundKey(db, Number(held.id), sms.heldKey)
    return null
  }
  const row = rows.find(
    (r) => r.dedupe_key === keys[0] || Number(r.received_at) >= sms.receivedAt - DEDUPE_WINDOW_MS,
  )
  return row ? resultOf(row) : null
}

function resultOf(row: Record<string, unknown>): IntakeResult {
  const accountId = row.account_id === null ? null : Number(row.account_id)
  return { id: Number(row.id), status: String(row.status), accountId }
}

/**
 * SQLite: a transaction that reads, then writes, fails at once ("database is locked") when
 * another process (the MX, the admin) wrote in between: its snapshot is stale and waiting
 * cannot help. A first write that changes nothing takes the lock, waiting on busy_timeout.
 */
export async function takeSqliteWriteLock(trx: Db): Promise<void> {
  if (!isMysql(trx)) await trx('inbound_sms').where('id', -1).delete()
}

/** The trace of an inbound SMS's log lines (mo-<inbound id>), as the MX transaction is an SMS's. */
export function inboundTrace(id: number): string {
  return `mo-${id}`
}

/**
 * Stores one inbound SMS and returns its row. A redelivery (its SMPP key still held; from a
 * webhook, the same carrier id, or the same sender, number and text within DEDUPE_WINDOW_MS)
 * returns the row stored the first time.
 *
 * STOP (and its forms, see keywords.ts) records an opt-out for the account and is not mailed.
 * START removes one and is not mailed either; from a number that had not opted out, "START" or
 * "YES" is an ordinary reply and goes to the mailbox like any other text.
 *
 * `db` may be a transaction: the reassembly of a long SMS stores it in the one that deletes
 * its parts.
 */
export async function receiveInboundSms(
  db: Db,
  sms: InboundSmsInput,
  log: IntakeLog = () => undefined,
): Promise<IntakeResult> {
  const { account, number: to } = await findAccountByNumber(db, sms.to, sms.toTon, sms.accountId)
  const from = normaliseAddress(sms.from, sms.fromTon, account?.defaultCountry)
  const keys = dedupeKeys(sms, from, to, account?.id ?? null)
  const known = await existing(db, keys, sms)
  if (known) {
    log(
      `inbound redelivered trace=${inboundTrace(known.id)} id=${known.id} from=${from} to=${to} source=${sms.source}`,
    )
    return known
  }
  try {
    return await db.transaction(async (trx) => {
      // START reads the opt-out before it deletes it.
      await takeSqliteWriteLock(trx)
      let status: InboundStatus = account ? 'received' : 'unrouted'
      const keyword = account ? matchKeyword(sms.text) : null
      if (account && keyword?.action === 'stop') {
        await addOptOut(trx, account.id, from, keyword.keyword, sms.receivedAt)
        status = 'opt_out'
      } else if (
        account &&
        keyword?.action === 'start' &&
        (await isOptedOut(trx, account.id, from))
      ) {
        await removeOptOut(trx, account.id, from)
        status = 'opt_in'
      }
      const [id] = await trx('inbound_sms').insert({
        account_id: account?.id ?? null,
        from_number: from.slice(0, 20),
        to_number: to.slice(0, 20),
        body: sms.text,
        encoding: sms.encoding.slice(0, 8),
        parts: sms.parts,
        missing_parts: sms.missingParts ?? 0,
        source: sms.source,
        carrier_id: sms.carrierId?.slice(0, 100) ?? null,
        dedupe_key: keys[0],
        status,
        mail_attempts: 0,
        next_attempt_at: status === 'received' ? sms.receivedAt : null,
        received_at: sms.receivedAt,
      })
      const where = account
        ? `account=${account.ref}`
        : 'account=none reason="no account has this number"'
      log(
        `inbound stored trace=${inboundTrace(Number(id))} id=${id} from=${from} to=${to} ${where} status=${status} ` +
          `parts=${sms.parts} encoding=${sms.encoding} source=${sms.source}` +
          (keyword && status !== 'received' ? ` keyword=${keyword.keyword}` : ''),
      )
      const stored: IntakeResult = { id: Number(id), status, accountId: account?.id ?? null }
      return sms.heldKey ? { ...stored, heldKey: sms.heldKey } : stored
    })
  } catch (err) {
    // Two deliveries of one SMS at the same moment: the other one stored it.
    if (isUniqueViolation(err)) {
      const winner = await existing(db, keys, sms)
      if (winner) return winner
    }
    throw err
  }
}
