import type { ParsedMail } from 'mailparser'
import { removeClutter, type ClutterContext } from './clutter'
import { removeControlCharacters } from './controls'
import { htmlToPlainText, looksLikeHtml } from './html'
import { normaliseWhitespace } from './normalise'
import { stripQuotedReply } from './reply'
import { cutAtSignature, isOnlySignature } from './signature'
import { mapTypography } from './typography'

export interface SmsText {
  text: string
  source: 'text' | 'html' | 'subject'
}

export interface SmsTextOptions extends ClutterContext {
  /** First line of the account's signature: it and what follows are left out. */
  signatureMarker?: string | null
}

function isHtmlRoot(mail: ParsedMail): boolean {
  const type = mail.headers?.get('content-type')
  const value = type && typeof type === 'object' && 'value' in type ? type.value : type
  return typeof value === 'string' && value.toLowerCase().startsWith('text/html')
}

/**
 * The body as plain text. parseEmail leaves `text` empty for HTML-only mail so that our
 * converter, which drops reply quote containers, does the work. A mail parsed elsewhere may
 * carry mailparser's own conversion in `text`: a text/html root tells it apart.
 */
function bodyText(mail: ParsedMail): { body: string; source: 'text' | 'html' } {
  const text = mail.text ?? ''
  const html = typeof mail.html === 'string' ? mail.html : ''
  if (html && (text.trim() === '' || isHtmlRoot(mail))) {
    return { body: htmlToPlainText(html), source: 'html' }
  }
  const declared = mail.headerLines.some((h) => h.key === 'content-type')
  if (!html && looksLikeHtml(text, declared)) return { body: htmlToPlainText(text), source: 'html' }
  return { body: text, source: 'text' }
}

/**
 * Typography is mapped before whitespace is normalised, not after: a line holding only a
 * zero-width character or a non-breaking space must count as blank.
 */
function tidy(text: string): string {
  return normaliseWhitespace(mapTypography(text))
}

/**
 * A plain-text body to SMS text: quoted conversation removed, cut at the signature, tidied.
 * The admin's preview runs the same steps on pasted text, so it shows what the MX will send.
 */
export function plainTextToSmsText(body: string, options: SmsTextOptions = {}): string {
  // Clutter goes before quotes, not after, though it then reads the quoted history too: a line
  // of uuencoded data may start with '>' (30 bytes), and a quote reader that took it away would
  // leave the rest of the block unrecognisable.
  const reply = stripQuotedReply(removeClutter(removeControlCharacters(body), options))
  return tidy(cutAtSignature(reply, options.signatureMarker))
}

/**
 * From a parsed mail to the text of the SMS: body (text part, else HTML), minus the quoted
 * conversation, cut at the signature, tidied for GSM 03.38. Apps often put the whole alert in
 * the Subject and leave the body empty (or only signed), so such a body falls back to the Subject.
 */
export function emailToSmsText(mail: ParsedMail, options: SmsTextOptions = {}): SmsText {
  const { body, source } = bodyText(mail)
  const parts = mail.attachments ?? []
  const text = plainTextToSmsText(body, {
    attachmentNames: parts.flatMap((a) => (typeof a.filename === 'string' ? [a.filename] : [])),
    hasImages: parts.some((a) => String(a.contentType).startsWith('image/')),
    ...options,
  })
  const subject = tidy(removeControlCharacters(mail.subject ?? ''))
  // A body that is nothing but a signature is kept rather than lost, yet the Subject says more.
  if (text !== '' && (subject === '' || !isOnlySignature(text))) return { text, source }
  return subject !== '' ? { text: subject, source: 'subject' } : { text: '', source }
}
