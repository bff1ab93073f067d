import type { Db } from './connection'
import { isUniqueViolation } from './errors'
import { clientNetwork } from '../net/allowlist'

/**
 * Failed logins counted per key (`email:<address>`, `ip:<address or IPv6 /64>`,
 * `device:<id>`) in the database, so every admin process shares the count. After
 * `maxFailures` within the window the key is locked for the same length of time.
 */
export interface ThrottlePolicy {
  maxFailures: number
  /** Both the counting window and the lockout. */
  windowMs: number
}

export function emailThrottleKey(email: string): string {
  return `email:${email.trim().toLowerCase()}`.slice(0, 300)
}

/** One key per client network (an IPv6 /64), not per address: see clientNetwork(). */
export function ipThrottleKey(ip: string): string {
  return `ip:${clientNetwork(ip)}`.slice(0, 300)
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

/** Adds one to the key's count, starting a new window when the last one has run out. */
async function countAttempt(db: Db, key: string, policy: ThrottlePolicy, now: number) {
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
}

/** Locks the keys whose count has reached the limit; returns the lock time if one was locked. */
export async function lockSpentKeys(
  db: Db,
  keys: string[],
  policy: ThrottlePolicy,
  now = Date.now(),
): Promise<number | null> {
  const until = now + policy.windowMs
  const locked = await db('login_throttle')
    .whereIn('throttle_key', keys)
    .andWhere('failures', '>=', policy.maxFailures)
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
    // The count starts again once the lockout is over.
    .update({ locked_until: until, failures: 0, window_started_at: now })
  return locked > 0 ? until : null
}

/**
 * Counts an attempt against its keys before the password is checked, and says whether it may go
 * on: null, or the time until which it is refused. Checking the lock and counting only after the
 * slow hash would let a burst of attempts sent at once all pass the check; counted first, at most
 * `maxFailures` of them get to the hash. The caller then calls lockSpentKeys on a wrong password,
 * or refundLoginAttempt (and clearLoginFailures) on a right one.
 */
export async function beginLoginAttempt(
  db: Db,
  keys: string[],
  policy: ThrottlePolicy,
  now = Date.now(),
): Promise<number | null> {
  const locked = await lockedUntil(db, keys, now)
  if (locked !== null) return locked
  let refusedUntil: number | null = null
  for (const key of keys) {
    await countAttempt(db, key, policy, now)
    const row = await db('login_throttle')
      .where({ throttle_key: key })
      .first('failures', 'window_started_at', 'locked_until')
    if (!row) continue
    // Locked by an attempt that finished meanwhile, or over the limit with attempts in flight.
    const until =
      row.locked_until != null && Number(row.locked_until) > now
        ? Number(row.locked_until)
        : Number(row.failures) > policy.maxFailures
          ? Number(row.window_started_at) + policy.windowMs
          : null
    if (until !== null) refusedUntil = Math.max(refusedUntil ?? until, until)
  }
  return refusedUntil
}

/** Takes back the count of an attempt that succeeded, unless the key has been locked since. */
export async function refundLoginAttempt(db: Db, key: string, now = Date.now()): Promise<void> {
  await db('login_throttle')
    .where({ throttle_key: key })
    .andWhere('failures', '>', 0)
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .decrement('failures', 1)
}

/** A successful login forgets the failures counted against that address. */
export async function clearLoginFailures(db: Db, key: string): Promise<void> {
  await db('login_throttle').where({ throttle_key: key }).delete()
}

/** The failure count of one browser that has logged in before (admin/device-cookie.ts). */
export function deviceThrottleKey(deviceId: string): string {
  return `device:${deviceId}`.slice(0, 300)
}

/**
 * The one delayed attempt a locked address may have at a time, across processes: a row whose
 * locked_until is the lease. Claimed by one UPDATE, so two processes cannot both get it; a
 * process that dies holding it loses it when the lease runs out.
 */
export async function claimDelayedAttempt(
  db: Db,
  key: string,
  leaseMs: number,
  now = Date.now(),
): Promise<boolean> {
  const slot = `delayed:${key}`.slice(0, 300)
  try {
    await db('login_throttle').insert({
      throttle_key: slot,
      failures: 0,
      window_started_at: now,
      locked_until: null,
    })
  } catch (err) {
    if (!isUniqueViolation(err)) throw err
  }
  const claimed = await db('login_throttle')
    .where({ throttle_key: slot })
    .andWhere((q) => q.whereNull('locked_until').orWhere('locked_until', '<=', now))
    .update({ locked_until: now + leaseMs, window_started_at: now })
  return claimed === 1
}

export async function releaseDelayedAttempt(db: Db, key: string): Promise<void> {
  await db('login_throttle')
    .where({ throttle_key: `delayed:${key}`.slice(0, 300) })
    .update({ locked_until: null })
}

/**
 * A wrong password tried while the key is locked: counted, and once the count reaches the
 * limit again the lock starts over from now. Without this, guesses made during a lock would be
 * forgotten when it ends.
 */
export async function recordFailureWhileLocked(
  db: Db,
  key: string,
  policy: ThrottlePolicy,
  now = Date.now(),
): Promise<void> {
  await countAttempt(db, key, policy, now)
  await db('login_throttle')
    .where({ throttle_key: key })
    .andWhere('failures', '>=', policy.maxFailures)
    .update({ locked_until: now + policy.windowMs, failures: 0, window_started_at: now })
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
