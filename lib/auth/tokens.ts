import crypto from 'node:crypto'

/**
 * Secrets handed out once: session cookies, invitation links, webhook secrets. The holder keeps
 * the token; the database keeps only its sha256, so a copy of the database lets nobody in.
 */

/** 32 random bytes in base64url: what newSecretToken returns, and all a lookup accepts. */
const SECRET_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export function newSecretToken(): string {
  return crypto.randomBytes(32).toString('base64url')
}

/** The form stored and looked up: sha256, hex. */
export function hashSecretToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex')
}

/** Whether `text` could be one of ours; anything else is refused before any query. */
export function isSecretTokenShape(text: string): boolean {
  return SECRET_TOKEN_PATTERN.test(text)
}
