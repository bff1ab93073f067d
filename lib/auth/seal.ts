import crypto from 'node:crypto'

/**
 * Sealing a short secret under a token the database does not hold (a session cookie's token,
 * whose sha256 alone is stored): the sealed text can wait in a table for the one request that
 * presents the token, and a copy of the table opens nothing. AES-256-GCM with a fresh nonce;
 * the key is an HMAC of the token, so a token is never used as a key directly.
 * `context` (e.g. an account id) is authenticated too: the sealed text opens under that
 * context only.
 */

const KEY_LABEL = 'mail2sms seal v1'
const NONCE_BYTES = 12
const TAG_BYTES = 16

function keyOf(token: string): Buffer {
  return crypto.createHmac('sha256', token).update(KEY_LABEL).digest()
}

/** base64url of nonce ‖ tag ‖ ciphertext. */
export function sealWithToken(plaintext: string, token: string, context: string): string {
  const nonce = crypto.randomBytes(NONCE_BYTES)
  const cipher = crypto.createCipheriv('aes-256-gcm', keyOf(token), nonce)
  cipher.setAAD(Buffer.from(context, 'utf8'))
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
  return Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64url')
}

/** The plaintext, or null for another token, another context or a text that was altered. */
export function openWithToken(sealed: string, token: string, context: string): string | null {
  const bytes = Buffer.from(sealed, 'base64url')
  if (bytes.length < NONCE_BYTES + TAG_BYTES) return null
  try {
    const decipher = crypto.createDecipheriv(
      'aes-256-gcm',
      keyOf(token),
      bytes.subarray(0, NONCE_BYTES),
    )
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(bytes.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES))
    const body = bytes.subarray(NONCE_BYTES + TAG_BYTES)
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
  } catch {
    return null
  }
}
