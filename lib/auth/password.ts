import crypto from 'node:crypto'

/**
 * Admin passwords are hashed with scrypt. The stored form keeps every parameter
 * (`scrypt$N$r$p$salt$hash`, salt and hash in base64) so the cost can be raised later without
 * invalidating existing hashes.
 */
const COST = { N: 32768, r: 8, p: 1 }
const SALT_BYTES = 16
const KEY_BYTES = 64
/**
 * Refuse absurd parameters from a tampered row rather than exhausting memory: scrypt needs
 * 128 * N * r bytes, so N and r must be bounded together, not each on its own.
 */
const MAX_N = 1 << 20
const MAX_MEMORY_BYTES = 256 * 1024 * 1024

export const PASSWORD_MIN_LENGTH = 10
export const PASSWORD_MAX_LENGTH = 200

export type PasswordProblem = 'too_short' | 'too_long'

/** Length counted in characters as people see them (code points), not UTF-16 units. */
export function checkPasswordPolicy(password: string): PasswordProblem | null {
  const length = [...password].length
  if (length < PASSWORD_MIN_LENGTH) return 'too_short'
  if (length > PASSWORD_MAX_LENGTH) return 'too_long'
  return null
}

function scrypt(
  password: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keyLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Node's default maxmem (32 MiB) is exactly what N=32768, r=8 needs and is refused: allow twice.
    const maxmem = 256 * N * r
    crypto.scrypt(password.normalize('NFC'), salt, keyLength, { N, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    )
  })
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES)
  const key = await scrypt(password, salt, COST.N, COST.r, COST.p, KEY_BYTES)
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join(
    '$',
  )
}

interface ParsedHash {
  N: number
  r: number
  p: number
  salt: Buffer
  key: Buffer
}

function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const [N, r, p] = parts.slice(1, 4).map(Number)
  const salt = Buffer.from(parts[4], 'base64')
  const key = Buffer.from(parts[5], 'base64')
  const powerOfTwo = Number.isInteger(N) && N > 1 && (N & (N - 1)) === 0
  if (!powerOfTwo || N > MAX_N || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return null
  if (128 * N * r > MAX_MEMORY_BYTES) return null
  if (salt.length === 0 || key.length < 16) return null
  return { N, r, p, salt, key }
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored)
  if (!parsed) return false
  const key = await scrypt(password, parsed.salt, parsed.N, parsed.r, parsed.p, parsed.key.length)
  return crypto.timingSafeEqual(key, parsed.key)
}

let dummyHash: Promise<string> | null = null

/**
 * Checks a password against the stored hash, or, when there is no such login, spends the same
 * time on a throw-away hash: the answer time then does not tell which addresses have a login.
 */
export async function verifyPasswordOrDummy(
  password: string,
  stored: string | null,
): Promise<boolean> {
  if (stored !== null) return verifyPassword(password, stored)
  dummyHash ??= hashPassword(crypto.randomBytes(18).toString('base64'))
  await verifyPassword(password, await dummyHash)
  return false
}

/** A password for a new login when none is given: 20 characters from 15 random bytes. */
export function generatePassword(): string {
  return crypto.randomBytes(15).toString('base64url')
}
