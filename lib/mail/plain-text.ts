import type { ParsedMail } from 'mailparser'
import { decodeUtf8OrWindows1252 } from './charset'

/**
 * Most mail sent to the gateway by applications and scripts is a single text/plain part in
 * UTF-8, ASCII or undeclared 8-bit text, without transfer encoding. For those, reading the headers and the body
 * directly gives what mailparser would, at a fraction of its cost on the SMTP path. Anything
 * else (MIME parts, encoded words, quoted-printable, other charsets, flowed text, 8-bit
 * headers, a Content-Disposition) returns null and goes through mailparser.
 * Address headers (From, To, Cc) stay as text in `headers`: nothing on the SMS path reads them
 * parsed, so `from`, `to` and `cc` are left unset.
 */

const HEADER_NAME = /^[!-9;-~]+$/

function splitAt(raw: Buffer): { head: string; body: Buffer } | null {
  let end = raw.indexOf('\r\n\r\n')
  let skip = 4
  const lf = raw.indexOf('\n\n')
  if (lf !== -1 && (end === -1 || lf < end)) {
    end = lf
    skip = 2
  }
  if (end === -1) return null
  const head = raw.subarray(0, end)
  // 8-bit bytes in headers mean raw UTF-8 or a legacy charset: mailparser decides.
  for (const byte of head)
    if (byte > 0x7e || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d)) return null
  return { head: head.toString('latin1'), body: raw.subarray(end + skip) }
}

interface Header {
  key: string
  value: string
  line: string
}

function readHeaders(head: string): Header[] | null {
  const headers: Header[] = []
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line)) {
      const last = headers[headers.length - 1]
      if (!last) return null
      last.value += ` ${line.trim()}`
      last.line += `\r\n${line}`
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon).trimEnd())) return null
    const key = line.slice(0, colon).trimEnd().toLowerCase()
    headers.push({ key, value: line.slice(colon + 1).trim(), line })
  }
  return headers
}

/** `text/plain; charset="UTF-8"` → type and parameters, or null when it is anything else. */
function plainTextCharset(contentType: string | undefined): { charset: string | null } | null {
  if (contentType === undefined) return { charset: null }
  const [type, ...params] = contentType.split(';').map((p) => p.trim())
  if (type.toLowerCase() !== 'text/plain') return null
  let charset: string | null = null
  for (const param of params) {
    if (!param) continue
    const eq = param.indexOf('=')
    if (eq === -1) return null
    const name = param.slice(0, eq).trim().toLowerCase()
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase()
    if (name === 'charset') charset = value
    else if (name === 'format' && value === 'fixed') continue
    else return null
  }
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) return null
  return { charset }
}

export function parsePlainTextEmail(raw: Buffer): ParsedMail | null {
  const parts = splitAt(raw)
  if (!parts) return null
  const headers = readHeaders(parts.head)
  if (!headers) return null
  const map = new Map<string, unknown>()
  for (const h of headers) {
    if (h.value.includes('=?')) return null
    const previous = map.get(h.key)
    if (previous === undefined) map.set(h.key, h.value)
    else map.set(h.key, Array.isArray(previous) ? [...previous, h.value] : [previous, h.value])
  }
  // Which of two Subjects (or Dates, Message-IDs) counts is mailparser's rule, not ours.
  if (['subject', 'date', 'message-id'].some((key) => Array.isArray(map.get(key)))) return null
  // mailparser files a text part with a disposition other than `inline` as an attachment,
  // leaving no text: that decision is its own.
  if (map.has('content-disposition')) return null
  const contentType = map.get('content-type')
  if (Array.isArray(contentType)) return null
  const plain = plainTextCharset(contentType as string | undefined)
  if (!plain) return null
  const encoding = map.get('content-transfer-encoding')
  if (encoding !== undefined && !['7bit', '8bit'].includes(String(encoding).toLowerCase()))
    return null
  // The same reading mailparser is given in parse.ts: UTF-8 where it is, else Windows-1252.
  const text = decodeUtf8OrWindows1252(parts.body)
  map.set('content-type', {
    value: 'text/plain',
    params: plain.charset ? { charset: plain.charset } : {},
  })
  return assemble(map, headers, text)
}

function single(map: Map<string, unknown>, key: string): string | undefined {
  const value = map.get(key)
  return typeof value === 'string' ? value : undefined
}

function assemble(map: Map<string, unknown>, headers: Header[], text: string): ParsedMail {
  const mail: ParsedMail = {
    attachments: [],
    headers: map as ParsedMail['headers'],
    headerLines: headers.map((h) => ({ key: h.key, line: h.line })),
    text: text.replace(/\r\n/g, '\n'),
  }
  const subject = single(map, 'subject')
  if (subject !== undefined) mail.subject = subject
  const messageId = single(map, 'message-id')
  // In angle brackets, as mailparser gives it, so both readers key retries alike.
  if (messageId)
    mail.messageId = `${messageId.startsWith('<') ? '' : '<'}${messageId}${messageId.endsWith('>') ? '' : '>'}`
  const date = single(map, 'date')
  if (date !== undefined) {
    const parsed = new Date(date)
    if (!Number.isNaN(parsed.getTime())) {
      mail.date = parsed
      map.set('date', parsed)
    }
  }
  return mail
}
