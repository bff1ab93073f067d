import type { LogFields, LogLevel } from './format'
import { readFreeText, readPairs } from './free-text'
import type { Logger } from './logger'

/**
 * Haraka's levels on ours. Haraka's NOTICE is its normal voice (a line per refusal, per queued
 * message, per connection); its INFO traces every hook, which is our debug.
 */
export function levelOfHaraka(level: string): LogLevel {
  switch (level.toUpperCase()) {
    case 'NOTICE':
      return 'info'
    case 'WARN':
      return 'warn'
    case 'ERROR':
    case 'CRIT':
    case 'ALERT':
    case 'EMERG':
      return 'error'
    default:
      return 'debug'
  }
}

/**
 * Haraka's notice for each step an accepted message passed: MAIL FROM, RCPT TO and the end of
 * DATA answered OK or CONT, and the queue's OK. Four lines per mail, which the `sms.queued` line
 * of each of its SMS already covers (trace, sender, number, Message-ID), so they are debug;
 * a refusal at any step stays a notice. Read from the raw record, before it is parsed: at
 * info they are dropped at the cost of one match. JSON escapes the quotes inside values, so
 * a sender cannot forge the `"code":"OK"` this looks for.
 */
const ACCEPTED_STEP =
  /^\{"level":"NOTICE","uuid":"[^"]*","origin":"core","message":"(?:sender|recipient|message|queue)\b[^\n]*"code":"(?:OK|CONT)"/

/**
 * The same accepted steps, told from the arguments of Haraka's `lognotice(message, data)`
 * before Haraka builds its record: `sender <a@b>`, `recipient <…>` or `message`, with code OK
 * or CONT. A record costs Haraka an object, a JSON string and a run of the log hook, three
 * times per mail, only for the line to be dropped at our default level.
 */
export function isAcceptedStepNotice(message: unknown, data: unknown): boolean {
  if (typeof message !== 'string' || !data || typeof data !== 'object') return false
  const code = (data as { code?: unknown }).code
  if (code !== 'OK' && code !== 'CONT') return false
  return (
    message === 'message' || message.startsWith('sender <') || message.startsWith('recipient <')
  )
}

function levelOfItem(item: HarakaLogItem): LogLevel {
  return ACCEPTED_STEP.test(item.data) ? 'debug' : levelOfHaraka(item.level)
}

/** Our level on Haraka's: what Haraka must let through for our level to see it. */
export function harakaLevelFor(level: LogLevel): string {
  switch (level) {
    case 'debug':
      return 'INFO'
    case 'info':
      return 'NOTICE'
    case 'warn':
      return 'WARN'
    default:
      return 'ERROR'
  }
}

/** One of Haraka's log items: its level name and its text, as its `log` hook receives them. */
export interface HarakaLogItem {
  level: string
  data: string
}

/** Haraka's own record, from its json format (or logfmt, before our plugin switched it). */
function readRecord(data: string): Record<string, unknown> | null {
  if (data.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(data)
      if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>
    } catch {
      // not JSON after all: read as text below
    }
  }
  return readPairs(data)
}

function fieldValue(value: unknown): LogFields[string] {
  if (value === null || value === undefined) return value
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value
  return JSON.stringify(value)
}

/**
 * Writes one Haraka log item as our line: Haraka's connection or transaction id becomes
 * `trace` (an SMS's trace is its MX transaction id, so `grep` finds the SMTP dialogue too), the
 * plugin that spoke is `origin`, and a message that is key=value pairs (our plugins' decision
 * lines) becomes fields. The event is the one the line names, else the message's leading
 * words, else the plugin's name.
 */
export function writeHarakaItem(logger: Logger, item: HarakaLogItem): void {
  const level = levelOfItem(item)
  if (!logger.enabled(level)) return
  const record = readRecord(item.data)
  if (!record || !('message' in record || 'origin' in record)) {
    const read = readFreeText(item.data, 'haraka')
    logger[level](read.event, read.fields)
    return
  }
  // Haraka's level was read from the item; the record's copy is dropped with the rest.
  const { uuid, origin, message, event, ...rest } = record
  delete rest.level
  const fields: Record<string, LogFields[string]> = {}
  if (typeof uuid === 'string' && uuid !== '-') fields.trace = uuid
  if (typeof origin === 'string') fields.origin = origin
  let name = typeof event === 'string' && event ? event : null
  const text = typeof message === 'string' ? message.trim() : ''
  if (text) {
    const pairs = readPairs(text)
    if (pairs) Object.assign(fields, pairs)
    else {
      const read = readFreeText(text, '')
      name ??= read.event || null
      Object.assign(fields, read.fields)
    }
  }
  // Haraka's hook records carry an empty msg when the hook said nothing.
  if (rest.msg === '') delete rest.msg
  for (const [key, value] of Object.entries(rest)) fields[key] = fieldValue(value)
  logger[level](name ?? (typeof origin === 'string' ? origin : 'haraka'), fields)
}
