import type { LogFields, LogValue } from './format'

/** Field names whose value is a secret whatever it holds. */
const SECRET_KEY =
  /(^|[_.-])(pass(word|wd|phrase)?|secret|token|api_?key|authorization|cookie)($|[_.-])/i

/** user:password@ in a URL (DATABASE_URL, the SMTP relay URL, an SMPP URL…). */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*):[^\s@/]*@/gi
/** password=…, token: …, secret "…" written into free text. */
const INLINE_SECRET =
  /\b(pass(?:word|wd|phrase)?|secret|token|api_?key|authorization)(=|:\s*)("[^"]*"|'[^']*'|[^\s,;&]+)/gi

export const REDACTED = '[redacted]'

/** Free text with the passwords it may carry (in URLs, as key=value) replaced. */
export function redactText(text: string): string {
  if (!text.includes('://') && !/pass|secret|token|key|auth/i.test(text)) return text
  return text
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(INLINE_SECRET, (_m, key: string, sep: string) => `${key}${sep}${REDACTED}`)
}

/** Whether each key seen names a secret: the same few names come back on every line. */
const secretKeys = new Map<string, boolean>()
const SECRET_KEYS_MAX = 1000

function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key)
  if (secret === undefined) {
    secret = SECRET_KEY.test(key)
    if (secretKeys.size < SECRET_KEYS_MAX) secretKeys.set(key, secret)
  }
  return secret
}

function redactValue(key: string, value: LogValue): LogValue {
  if (value === null || value === undefined || value === '') return value
  if (isSecretKey(key)) return REDACTED
  if (typeof value === 'string') return redactText(value)
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? redactText(v) : v))
  return value
}

/** The fields with secrets masked: by name (password, token…) and inside text (URLs). */
export function redactFields(fields: LogFields): LogFields {
  let out: Record<string, LogValue> | null = null
  for (const [key, value] of Object.entries(fields)) {
    const clean = redactValue(key, value)
    if (clean !== value) {
      out ??= { ...fields }
      out[key] = clean
    }
  }
  return out ?? fields
}
