/**
 * outbound_sms.dedupe_key: what a retried email finds its SMS by (a unique index), and how keys
 * stored before they were time-ordered are still found.
 *
 * A key is the minute the email was written (its Date header), in 8 hex digits, followed by 56
 * hex digits of the sha256 of its retry identity and recipient. Mail is written a moment before
 * it is sent, so new keys land at the right edge of the index, whose pages are in memory: a
 * plain sha256 put each insert and each retry check on a random page of an index that, with
 * months of SMS, no longer fits in the database's memory (a disk read per message). Within a
 * minute the order is random, so the pages written to are one minute of traffic's.
 *
 * The key is a pure function of the email, never of the time it arrives, so that a retry days
 * later finds it. Mail whose Date cannot be read has the prefix 00000000: no locality, but rare.
 */
import crypto from 'node:crypto'
import type { Db } from '../connection'
import { DAY_MS } from '../../time/zone'

const PREFIX_DIGITS = 8
const MINUTE_MS = 60_000
/** Minutes from the epoch that fit the prefix: up to the year 10136. */
const PREFIX_MINUTES = 16 ** PREFIX_DIGITS
const UNDATED_PREFIX = '0'.repeat(PREFIX_DIGITS)

/** The key of SMS stored before keys were time-ordered: the same sha256, in full. */
export function legacyDedupeKeyFor(source: string, recipient: string): string {
  return crypto.createHash('sha256').update(source).update('\0').update(recipient).digest('hex')
}

/**
 * The key of one SMS of an email: `source` its retry identity (lib/mx/message.ts retryIdentity),
 * `writtenAt` the instant of its Date header (null when it has none that can be read).
 */
export function dedupeKeyFor(source: string, recipient: string, writtenAt: number | null): string {
  return timeOrderedKey(legacyDedupeKeyFor(source, recipient), writtenAt)
}

/** The key made from the legacy key of the same SMS: one digest serves both (the MX needs both). */
export function timeOrderedKey(legacyKey: string, writtenAt: number | null): string {
  return keyPrefix(writtenAt) + legacyKey.slice(PREFIX_DIGITS)
}

function keyPrefix(writtenAt: number | null): string {
  if (writtenAt === null || !Number.isFinite(writtenAt)) return UNDATED_PREFIX
  const minute = Math.floor(writtenAt / MINUTE_MS)
  // Before 1970 or past the prefix: undated rather than out of order or too long.
  if (minute < 0 || minute >= PREFIX_MINUTES) return UNDATED_PREFIX
  return minute.toString(16).padStart(PREFIX_DIGITS, '0')
}

/** The minute a key's email was written (epoch ms), null for an undated one. */
export function keyWrittenAt(key: string): number | null {
  const prefix = key.slice(0, PREFIX_DIGITS)
  return prefix === UNDATED_PREFIX ? null : parseInt(prefix, 16) * MINUTE_MS
}

/**
 * How far ahead of the upgrade an email's Date may be and still have been stored under a legacy
 * key: the sending host's clock may run ahead, and MX nodes of the previous version may still
 * take mail while a rolling upgrade goes round.
 */
export const LEGACY_DATE_MARGIN_MS = DAY_MS
/** After this, no retry of mail stored before the upgrade is expected: MTAs give up in ~5 days. */
export const LEGACY_RETRY_HORIZON_MS = 30 * DAY_MS

/**
 * Whether an SMS keyed `key` may have been stored, before the upgrade (`upgradedAt`, see
 * readKeyUpgrade), under its legacy key: only an email written before the upgrade (plus the
 * margin), or an undated one, retried within the horizon. 0 means no SMS had legacy keys.
 */
export function mayHaveLegacyKey(key: string, upgradedAt: number, now: number): boolean {
  if (upgradedAt === 0 || now >= upgradedAt + LEGACY_RETRY_HORIZON_MS) return false
  const writtenAt = keyWrittenAt(key)
  return writtenAt === null || writtenAt < upgradedAt + LEGACY_DATE_MARGIN_MS
}

/** One row of format_changes (migrations/20261206140000). */
const KEY_FORMAT = 'outbound_sms.dedupe_key'

const upgrades = new WeakMap<Db, Promise<number>>()

/**
 * When this database's SMS started to have time-ordered keys (epoch ms; 0: it never had others).
 * Read once per process and database: it never changes once the migration has run.
 */
export function readKeyUpgrade(db: Db): Promise<number> {
  let known = upgrades.get(db)
  if (!known) {
    known = db('format_changes')
      .where({ name: KEY_FORMAT })
      .first('changed_at')
      .then((row: { changed_at?: unknown } | undefined) => Number(row?.changed_at ?? 0))
    // A failed read (the database down) is tried again by the next message.
    known.catch(() => upgrades.delete(db))
    upgrades.set(db, known)
  }
  return known
}

/** What the insert and the spend check need to also look an SMS up under its legacy key. */
export interface KeyedSms {
  dedupeKey: string
  /** Absent: none to look for (an SMS that no retry can match, or made by a script). */
  legacyDedupeKey?: string
}

/**
 * New key → legacy key, for those of `items` that may have been stored under their legacy key
 * (none, and no read, once the upgrade is past the horizon).
 */
export async function legacyKeysToCheck(
  db: Db,
  items: readonly KeyedSms[],
  now: number,
): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  if (!items.some((i) => i.legacyDedupeKey)) return out
  const upgradedAt = await readKeyUpgrade(db)
  for (const i of items) {
    if (i.legacyDedupeKey && mayHaveLegacyKey(i.dedupeKey, upgradedAt, now))
      out.set(i.dedupeKey, i.legacyDedupeKey)
  }
  return out
}
