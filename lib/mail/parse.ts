import {
  MailParser,
  type Attachment,
  type AttachmentStream,
  type MailParserOptions,
  type MessageText,
  type ParsedMail,
} from 'mailparser'
import { Transform, type TransformCallback } from 'node:stream'
import { isUtf8 } from 'node:buffer'
import { decodeTextBody, repairHeaderLine } from './charset'
import { parsePlainTextEmail } from './plain-text'

/**
 * Raw message to mailparser's ParsedMail, tuned for turning mail into SMS text:
 * - attachments are read through and counted but not kept: an SMS carries none, and a message
 *   of several megabytes would otherwise be held twice in memory. Their `content` is an empty
 *   Buffer; `size`, type and name are real.
 * - HTML is not converted to `text`: an HTML-only message leaves `text` empty and our own
 *   converter (lib/text/html.ts), which knows reply quote containers, reads `html`.
 * - no `textAsHtml`, no inlined images, no checksums: work nobody here reads.
 * - text parts with no charset, or labelled UTF-8, ASCII, Latin-1 or UTF-7, and header lines
 *   with 8-bit bytes, are decoded by lib/mail/charset.ts rather than by their label; other
 *   labels that the bytes contradict (U+FFFD out, well-formed UTF-8 in) give way to UTF-8.
 * Headers are kept whole (`headers`, `headerLines`) for the automatic-mail checks.
 */

const PARSER_OPTIONS: MailParserOptions = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  checksumAlgo: false,
}

const NO_CONTENT = Buffer.alloc(0)

/*
 * mailparser has no option for how a part's charset is read: it decodes UTF-8 and ASCII by
 * turning bad bytes into U+FFFD and refuses UTF-7. Three of its methods are the places where
 * that happens, so each parser gets them wrapped. They are internal to mailparser, hence the
 * shapes below and the check at load time, which stops the process at start (and every test)
 * if an upgrade renames them rather than letting text turn into U+FFFD again.
 */
interface HeaderLine {
  key: string
  line: string
}
interface PartNode {
  isAttachment?: boolean
  charset?: string
}
interface ParserInternals {
  createNode(node: unknown): PartNode
  processHeaders(lines: HeaderLine[] | undefined): unknown
  decoder: { decodeStream: DecodeStream }
}

// A label no real charset has: it makes mailparser hand the part to our decoder, whatever the
// part said (it skips decoding for UTF-8 and ASCII).
const OWN_DECODING = 'x-mail2sms-decodes;'

type DecodeStream = (charset: string) => NodeJS.ReadWriteStream

/**
 * Reads a whole text part (text parts are small), then decodes it: by lib/mail/charset.ts for
 * the labels it takes, else by mailparser's own decoder for the label. When that gives U+FFFD
 * but the bytes are well-formed UTF-8, the label was wrong and UTF-8 is used instead.
 */
class TextBodyDecoder extends Transform {
  private chunks: Buffer[] = []

  constructor(
    private readonly charset: string,
    private readonly byLabel: DecodeStream,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.chunks.push(chunk)
    done()
  }

  override _flush(done: TransformCallback): void {
    const bytes = Buffer.concat(this.chunks)
    const own = decodeTextBody(bytes, this.charset)
    if (own !== null) return done(null, Buffer.from(own, 'utf8'))
    const stream = this.byLabel(this.charset)
    const out: Buffer[] = []
    stream.on('data', (chunk: Buffer | string) => out.push(Buffer.from(chunk)))
    stream.once('error', (err: Error) => done(err))
    stream.once('end', () => {
      const text = Buffer.concat(out)
      done(null, text.includes(REPLACEMENT) && isUtf8(bytes) ? bytes : text)
    })
    stream.end(bytes)
  }
}

const REPLACEMENT = Buffer.from('\uFFFD', 'utf8')

function internalsOf(parser: MailParser): ParserInternals {
  const internals = parser as unknown as Partial<ParserInternals>
  if (
    typeof internals.createNode !== 'function' ||
    typeof internals.processHeaders !== 'function' ||
    typeof internals.decoder?.decodeStream !== 'function'
  ) {
    throw new Error('mailparser changed: createNode/processHeaders/decoder not found')
  }
  return internals as ParserInternals
}

function createParser(): MailParser {
  const parser = new MailParser(PARSER_OPTIONS)
  const internals = internalsOf(parser)
  const createNode = internals.createNode.bind(parser)
  const processHeaders = internals.processHeaders.bind(parser)
  const byLabel = internals.decoder.decodeStream.bind(internals.decoder)
  internals.createNode = (node) => {
    const part = createNode(node)
    if (!part.isAttachment) part.charset = `${OWN_DECODING}${part.charset ?? ''}`
    return part
  }
  internals.processHeaders = (lines) =>
    processHeaders(lines?.map((l) => ({ ...l, line: repairHeaderLine(l.line) })))
  internals.decoder = {
    decodeStream: (charset) =>
      charset.startsWith(OWN_DECODING)
        ? new TextBodyDecoder(charset.slice(OWN_DECODING.length), byLabel)
        : byLabel(charset),
  }
  return parser
}

// Fails at load, not on the first message, when mailparser no longer has what we wrap.
createParser().destroy()

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
    const parser = createParser()
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
