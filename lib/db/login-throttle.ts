import type { Db } from './connection'
import { isUniqueViolation } from './errors'

/**
 * Failed logins counted per key (`email:<address>`, `ip:<address>`) in the database, so every
 * admin process shares the count. After `maxFailures` within the window the key is locked for
 * the same length of time.
 */
export interface ThrottlePolicy {
  maxFailures: number
  /** Both the counting window and the lockout. */
  windowMs: number
}

export function emailThrottleKey(email: string): string {
  return `email:${email.trim().toLowerCase()}`.slice(0, 300)
}

export function ipThrottleKey(ip: string): string {
  return `ip:${ip}`.slice(0, 300)
}

/** The latest time until which one of the keys is locked, or null when none is. */
export async function lockedUntil(
  db: Db,
  keys: string[],
  now = Date.now(),
): Promise<number | null> {
  const row = await db('login_throttle')
    .whereIn('throttle_key', keys)
    .andWhere('locked_until', '>', now)
    .max({ until: 'locked_until' })
    .first()
  return row?.until == null ? null : Number(row.until)
}

/**
 * Counts one failure against the key; returns the lock time when this failure locks it.
 * Counting is one UPDATE so that two processes failing at once both count.
 */
export async function recordLoginFailure(
  db: Db,
  key: string,
  policy: ThrottlePolicy,
  now = Date.now(),
): Promise<number | null> {
  try {
    await db('login_throttle').insert({
      throttle_key: key,
      failures: 0,
      window_started_at: now,
      locked_until: null,
    })
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
  }
  const windowStart = now - policy.windowMs
  // A window that has run out starts again at this failure. Only the old window_started_at is
  // read here, so MySQL's left-to-right SET and SQLite's all-at-once SET agree.
  await db('login_throttle')
    .where({ throttle_key: key })
    .update({
      failures: db.raw('CASE WHEN window_started_at <= ? THEN 1 ELSE failures + 1 END', [
        windowStart,
      ]),
      window_started_at: db.raw(
        'CASE WHEN window_started_at <= ? THEN ? ELSE window_started_at END',
        [windowStart, now],
      ),
    })
  const until = now + policy.windowMs
  const locked = await db('login_throttle')
    .where({ throttle_key: key })
    .andWhere('failures', '>=', policy.maxFailures)
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
    // The count starts again once the lockout is over.
    .update({ locked_until: until, failures: 0, window_started_at: now })
  return locked > 0 ? until : null
}

/** A successful login forgets the failures counted against that address. */
export async function clearLoginFailures(db: Db, key: string): Promise<void> {
  await db('login_throttle').where({ throttle_key: key }).delete()
}

/** Drops keys that neither count recent failures nor hold a lock. */
export async function purgeLoginThrottle(
  db: Db,
  policy: ThrottlePolicy,
  now = Date.now(),
): Promise<number> {
  return db('login_throttle')
    .where('window_started_at', '<=', now - policy.windowMs)
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .delete()
}
