import type { ParsedMail } from 'mailparser'

/**
 * Mail written by a program rather than a person: out-of-office replies, bounces, read
 * receipts, bulk and list mail. Sending it as SMS risks a loop (our notice mail answered by an
 * autoresponder, answered by us…), so the MX refuses it.
 *
 * Deliberately not treated as automatic:
 * - X-Auto-Response-Suppress: it asks others not to auto-answer this message. Exchange and
 *   Outlook add it to ordinary mail from some apps (meeting tools, CRM, scanners), so it says
 *   nothing about who wrote the message.
 * - List-Id / List-Unsubscribe alone: transactional senders add them to the alerts users want
 *   on their phone; a real list also says Precedence: list.
 */

type HeaderSource = Map<string, unknown> | ParsedMail

function headersOf(source: HeaderSource): Map<string, unknown> {
  return source instanceof Map ? source : source.headers
}

/** mailparser gives a string, an array when repeated, or { value, params } for structured ones. */
function values(headers: Map<string, unknown>, name: string): string[] {
  const raw = headers.get(name)
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]
  return list.flatMap((v: unknown) => {
    if (typeof v === 'string') return [v]
    if (v && typeof v === 'object' && typeof (v as { value?: unknown }).value === 'string') {
      return [(v as { value: string }).value]
    }
    return []
  })
}

/** The keyword without parameters or comments: "Auto-Replied (vacation); x=y" → "auto-replied". */
function keyword(value: string): string {
  return value
    .split(';')[0]
    .replace(/\([^)]*\)/g, '')
    .trim()
    .toLowerCase()
}

function autoSubmitted(headers: Map<string, unknown>): string | null {
  const value = values(headers, 'auto-submitted')
    .map(keyword)
    .find((v) => v !== '' && v !== 'no')
  return value ? `Auto-Submitted: ${value}` : null
}

function report(headers: Map<string, unknown>): string | null {
  const raw = headers.get('content-type')
  if (!values(headers, 'content-type').some((v) => keyword(v) === 'multipart/report')) return null
  const params =
    raw && typeof raw === 'object' ? (raw as { params?: Record<string, string> }).params : undefined
  const type = params?.['report-type'] ?? /report-type\s*=\s*"?([\w-]+)/i.exec(String(raw))?.[1]
  return type
    ? `Content-Type: multipart/report (${type.toLowerCase()})`
    : 'Content-Type: multipart/report'
}

// auto_reply is what several autoresponders put there instead of Auto-Submitted.
const AUTOMATIC_PRECEDENCE = new Set(['bulk', 'junk', 'list', 'auto_reply'])

function precedence(headers: Map<string, unknown>): string | null {
  const value = values(headers, 'precedence')
    .map(keyword)
    .find((v) => AUTOMATIC_PRECEDENCE.has(v))
  return value ? `Precedence: ${value}` : null
}

// Some put free text there, and the reason ends up in an SMTP reply.
function shortened(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40).trimEnd()}...` : value
}

const NEGATIVE = new Set(['no', 'false', '0'])

/** X-Autoreply and X-Autorespond: vendor marks of autoresponders; any value but a "no". */
function vendorAutoreply(headers: Map<string, unknown>): string | null {
  for (const [name, label] of [
    ['x-autoreply', 'X-Autoreply'],
    ['x-autorespond', 'X-Autorespond'],
  ]) {
    const value = values(headers, name).find((v) => !NEGATIVE.has(keyword(v)))
    if (value !== undefined) return value.trim() ? `${label}: ${shortened(value.trim())}` : label
  }
  return null
}

/** Exchange labels its reports (read receipts: mdn, bounces: dsn) with a content class. */
function exchangeReport(headers: Map<string, unknown>): string | null {
  const value = values(headers, 'content-class')
    .map(keyword)
    .find((v) => v === 'urn:content-classes:mdn' || v === 'urn:content-classes:dsn')
  return value ? `Content-Class: ${value}` : null
}

/** A read receipt's machine part (RFC 8098), wherever it sits in the MIME tree. */
function notificationPart(source: HeaderSource): string | null {
  if (source instanceof Map) return null
  // A broken Content-Type can leave mailparser's contentType something else than a string.
  const part = source.attachments?.find(
    (a) => String(a.contentType).toLowerCase() === 'message/disposition-notification',
  )
  return part ? 'a message/disposition-notification part' : null
}

// What read receipts put before the original subject, in the languages of common clients.
const RECEIPT_SUBJECT =
  /^\s*(?:read|lu|gelesen|le[ií]do|letto|gelezen|lido|lida|l[äæ]st|lest|luettu|przeczytan[ae]|p[řr]e[čc]teno|olvasott|прочитано|read receipt|accus[ée] de lecture|lesebest[äa]tigung)\s*:/i
// The sentence of a read receipt's text part: "Your message … was read on …".
const RECEIPT_TEXT =
  /(?:was read on|a [ée]t[ée] lue? le|wurde am [^\n]* gelesen|fue le[ií]d[oa] el|[èe] stato letto|is gelezen op|foi lid[oa] em|lästes|blev læst|ble lest|luettiin)\b/i

/**
 * A read receipt that is not a multipart/report (some clients and gateways flatten it): its
 * subject prefix alone is no proof (a person may write "Read: chapter 3"), so it also needs a
 * receipt's own field (Original-Message-ID, Disposition) or the receipt sentence in the text.
 */
function flatReadReceipt(source: HeaderSource, headers: Map<string, unknown>): string | null {
  const subject = values(headers, 'subject')[0] ?? ''
  if (!RECEIPT_SUBJECT.test(subject)) return null
  const fields = ['original-message-id', 'disposition', 'original-recipient'].some((name) =>
    headers.has(name),
  )
  const text = source instanceof Map ? '' : `${source.text ?? ''}\n${source.html || ''}`
  return fields || RECEIPT_TEXT.test(text) ? 'read receipt' : null
}

/** A short reason when the message was written by a program, else null. */
export function detectAutomaticMail(source: HeaderSource): string | null {
  const headers = lowerCased(headersOf(source))
  // A report first: for a bounce it says more than the Auto-Submitted most MTAs add to it.
  return (
    report(headers) ??
    exchangeReport(headers) ??
    notificationPart(source) ??
    autoSubmitted(headers) ??
    precedence(headers) ??
    vendorAutoreply(headers) ??
    flatReadReceipt(source, headers)
  )
}

/** mailparser already lower-cases names; a hand-built map may not. */
function lowerCased(headers: Map<string, unknown>): Map<string, unknown> {
  if ([...headers.keys()].every((k) => k === k.toLowerCase())) return headers
  return new Map([...headers].map(([k, v]) => [k.toLowerCase(), v]))
}
