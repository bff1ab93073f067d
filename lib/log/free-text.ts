import type { LogFields } from './format'

/**
 * Reads a free-text line, as library code writes it ("smpp bound host=h:1 system_id=x",
 * "cannot claim SMS: timeout; retrying"), into an event and fields: the leading lower-case
 * words name the event (at most three, joined by dots, up to a colon); what follows is read
 * as key=value pairs when it is nothing else. Otherwise the whole line is kept as `msg`, words
 * and all, so that the sentence can still be searched for as it was written.
 */
export function readFreeText(
  line: string,
  fallbackEvent: string,
): { event: string; fields: LogFields } {
  const text = line.trim()
  const words: string[] = []
  let rest = text
  while (words.length < 3) {
    const m = /^([a-z][a-z_]*)(:?)(?: |$)/.exec(rest)
    if (!m) break
    words.push(m[1])
    rest = rest.slice(m[0].length)
    if (m[2]) break
  }
  const event = words.length > 0 ? words.join('.') : fallbackEvent
  // Words alone ("database ready") are a sentence too: kept, so that it can be searched for.
  if (rest === '') return { event, fields: words.length > 1 ? { msg: text } : {} }
  const pairs = readPairs(rest)
  return { event, fields: pairs ?? { msg: text } }
}

/** `k=v k2="quoted \"v\""` as fields; null when the text is anything else. */
export function readPairs(text: string): Record<string, string> | null {
  const fields: Record<string, string> = {}
  const pair = /([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?: +|$)/y
  let at = 0
  while (at < text.length) {
    pair.lastIndex = at
    const m = pair.exec(text)
    if (!m) return null
    fields[m[1]] = m[2].startsWith('"') ? unquote(m[2]) : m[2]
    at = pair.lastIndex
  }
  return Object.keys(fields).length > 0 ? fields : null
}

function unquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string
  } catch {
    return quoted.slice(1, -1)
  }
}
