import {
  MailParser,
  type Attachment,
  type AttachmentStream,
  type MailParserOptions,
  type MessageText,
  type ParsedMail,
} from 'mailparser'
import { parsePlainTextEmail } from './plain-text'

/**
 * Raw message to mailparser's ParsedMail, tuned for turning mail into SMS text:
 * - attachments are read through and counted but not kept: an SMS carries none, and a message
 *   of several megabytes would otherwise be held twice in memory. Their `content` is an empty
 *   Buffer; `size`, type and name are real.
 * - HTML is not converted to `text`: an HTML-only message leaves `text` empty and our own
 *   converter (lib/text/html.ts), which knows reply quote containers, reads `html`.
 * - no `textAsHtml`, no inlined images, no checksums: work nobody here reads.
 * Headers are kept whole (`headers`, `headerLines`) for the automatic-mail checks.
 */

const PARSER_OPTIONS: MailParserOptions = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  checksumAlgo: false,
}

const NO_CONTENT = Buffer.alloc(0)

/** Drains an attachment's content and returns its description, size filled in at the end. */
function describeAttachment(stream: AttachmentStream, onError: (err: Error) => void): Attachment {
  const { content, release, ...common } = stream
  const attachment: Attachment = {
    ...common,
    content: NO_CONTENT,
    release: null,
    checksum: '',
    size: 0,
  }
  content.once('end', () => {
    attachment.size = stream.size ?? 0
    // The parser waits for this before reading on, as it does for simpleParser.
    release?.()
  })
  // mailparser forwards decoding errors to this stream only: unheard, they would crash the process.
  content.once('error', onError)
  content.resume()
  return attachment
}

function assemble(
  parser: MailParser,
  text: MessageText | undefined,
  attachments: Attachment[],
): ParsedMail {
  const mail: ParsedMail = {
    attachments,
    headers: parser.headers || new Map(),
    headerLines: parser.headerLines || [],
  }
  if (text?.text !== undefined) mail.text = text.text
  if (text?.html !== undefined) mail.html = text.html
  if (text?.textConversionError) mail.textConversionError = text.textConversionError
  const { subject, references, date, to, from, cc, bcc, messageId, inReplyTo, replyTo, otp } =
    parser
  const fields = {
    subject,
    references,
    date,
    to,
    from,
    cc,
    bcc,
    messageId,
    inReplyTo,
    replyTo,
    otp,
  }
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) Object.assign(mail, { [key]: value })
  }
  return mail
}

/**
 * A message the parser refuses to read whole (too many MIME parts, an oversized MIME header):
 * sending it again cannot help, so the MX answers it with a permanent error.
 */
export class UnreadableMessageError extends Error {
  override name = 'UnreadableMessageError'
}

const LIMIT_REASONS: Array<[RegExp, string]> = [
  [/child nodes/i, 'more than 1000 MIME parts'],
  [/header size/i, 'a MIME header over the size limit'],
]

/** mailsplit marks its structural limits with EMAXLEN; everything else stays as it was. */
function classifyParseError(err: Error): Error {
  if ((err as NodeJS.ErrnoException).code !== 'EMAXLEN') return err
  const reason = LIMIT_REASONS.find(([pattern]) => pattern.test(err.message))?.[1]
  return new UnreadableMessageError(reason ?? 'over a MIME structure limit')
}

export function parseEmail(source: Buffer | string | NodeJS.ReadableStream): Promise<ParsedMail> {
  if (Buffer.isBuffer(source)) {
    const plain = parsePlainTextEmail(source)
    if (plain) return Promise.resolve(plain)
  }
  return new Promise((resolve, reject) => {
    const parser = new MailParser(PARSER_OPTIONS)
    const attachments: Attachment[] = []
    let text: MessageText | undefined
    let settled = false
    const fail = (err: Error): void => {
      if (settled) return
      settled = true
      parser.destroy()
      reject(classifyParseError(err))
    }
    parser.on('error', fail)
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') text = data
      else attachments.push(describeAttachment(data, fail))
    })
    parser.on('end', () => {
      if (settled) return
      settled = true
      resolve(assemble(parser, text, attachments))
    })
    if (typeof source === 'string' || Buffer.isBuffer(source)) {
      parser.end(typeof source === 'string' ? Buffer.from(source) : source)
    } else {
      source.once('error', fail)
      source.pipe(parser)
    }
  })
}
