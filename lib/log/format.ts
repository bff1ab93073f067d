/**
 * One log record as one line of text, in logfmt or JSON. Whatever a value holds (quotes, line
 * breaks, control characters, lone surrogates, Unicode line separators), the line stays one
 * line and reads back to the same value.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const LOG_FORMATS = ['logfmt', 'json'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

export type LogValue = string | number | boolean | null | undefined | ReadonlyArray<string | number>
export type LogFields = Readonly<Record<string, LogValue>>

/** The keys every line starts with, in this order; an event's own fields never replace them. */
export interface LogHead {
  time: string
  level: LogLevel
  service: string
  event: string
}

const HEAD_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'service', 'event'])

/** Cleaned keys by key: a program uses a few dozen names, on every line. */
const cleanKeys = new Map<string, string>()
const CLEAN_KEYS_MAX = 1000

/** Keys are plain words: anything else becomes '_', so a key never needs quoting. */
export function logKey(key: string): string {
  const known = cleanKeys.get(key)
  if (known !== undefined) return known
  const clean = cleanKey(key)
  // Keys come from code, not from data; the bound only guards against a caller that varies them.
  if (cleanKeys.size < CLEAN_KEYS_MAX) cleanKeys.set(key, clean)
  return clean
}

function cleanKey(key: string): string {
  const clean = key.replace(/[^A-Za-z0-9_.-]/g, '_')
  if (clean === '') return '_'
  // A field may not pass itself off as one of the head's keys.
  return HEAD_KEYS.has(clean) ? `${clean}_` : clean
}

/**
 * Characters escaped inside a logfmt value: line breaks and every other control character
 * (C0, DEL, C1), the Unicode line and paragraph separators that some tools split lines on, and
 * lone surrogates (not valid UTF-8).
 */
const ESCAPED =
  // eslint-disable-next-line no-control-regex -- control characters are what must be escaped.
  /["\\\u0000-\u001f\u007f-\u009f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g
/** A value is quoted when empty or when it holds a space of any kind, `=` or a character above. */
const NEEDS_QUOTES =
  // eslint-disable-next-line no-control-regex -- a control character forces quotes.
  /^$|[\s="\\\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function escapeChar(c: string): string {
  switch (c) {
    case '"':
      return '\\"'
    case '\\':
      return '\\\\'
    case '\n':
      return '\\n'
    case '\r':
      return '\\r'
    case '\t':
      return '\\t'
    default:
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  }
}

function plainText(value: Exclude<LogValue, null | undefined>): string {
  return Array.isArray(value) ? value.join(',') : String(value)
}

/** A logfmt value: bare when it can be, else quoted with backslash escapes (as JSON strings). */
export function logfmtValue(value: LogValue): string {
  if (value === null || value === undefined) return '""'
  const text = plainText(value)
  if (!NEEDS_QUOTES.test(text)) return text
  return `"${text.replace(ESCAPED, escapeChar)}"`
}

/**
 * JSON.stringify leaves DEL, the C1 controls (NEL among them) and U+2028/U+2029 as they are:
 * valid inside JSON strings, but some readers end a line at them.
 */
function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => escapeChar(c))
}

export function formatLogfmt(head: LogHead, fields: LogFields): string {
  let line = `time=${head.time} level=${head.level} service=${logfmtValue(head.service)} event=${logfmtValue(head.event)}`
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    line += ` ${logKey(key)}=${logfmtValue(value)}`
  }
  return line
}

export function formatJson(head: LogHead, fields: LogFields): string {
  const record: Record<string, unknown> = { ...head }
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    record[logKey(key)] = value
  }
  return jsonText(record)
}

export function formatRecord(format: LogFormat, head: LogHead, fields: LogFields): string {
  return format === 'json' ? formatJson(head, fields) : formatLogfmt(head, fields)
}

/** An event and its fields without the head: what a line-callback (tests, libraries) receives. */
export function formatEventLine(event: string, fields: LogFields): string {
  let line = event
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue
    line += ` ${logKey(key)}=${logfmtValue(value)}`
  }
  return line
}
