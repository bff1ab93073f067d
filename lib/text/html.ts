import { normaliseWhitespace } from './normalise'

/**
 * HTML mail body to plain text, for mail that has no text part. A small converter of our own
 * rather than a general one, because it must know what mail clients put in a reply: the quoted
 * message sits in containers (Gmail's gmail_quote, Apple Mail's and Thunderbird's
 * `<blockquote type="cite">`, Outlook's divRplyFwdMsg) that a general converter keeps.
 */

// Elements whose content is never text for the reader.
const RAW_SKIPPED = new Set(['head', 'script', 'style', 'template', 'title', 'xml'])
const VOID = new Set('area base br col embed hr img input link meta source wbr'.split(' '))
const BLOCK = new Set(
  (
    'address article aside blockquote caption center dd details dialog dir div dl dt fieldset ' +
    'figcaption figure footer form header hgroup hr li main menu nav ol pre section summary ' +
    'table tbody tfoot thead tr ul'
  ).split(' '),
)
const PARAGRAPH = new Set(['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'])
const QUOTE_CLASSES = new Set([
  'gmail_quote',
  'gmail_quote_container',
  'moz-cite-prefix',
  'yahoo_quoted',
  'protonmail_quote',
])
// Outlook puts only the From/Sent header in divRplyFwdMsg; the quoted message follows it as
// siblings, so the text ends there rather than after the container.
const END_OF_MESSAGE_IDS = new Set(['divrplyfwdmsg', 'appendonsend'])

/** Builds the text, placing line breaks the way a browser lays out blocks. */
class TextWriter {
  private out = ''
  // Kept up to date on every append rather than read back from `out`, so that runs of spaces
  // in hostile markup cannot make each block tag rescan them.
  private lineStart = true
  preformatted = 0

  text(raw: string): void {
    const spaced = this.preformatted > 0 ? raw : raw.replace(/[ \t\r\n\f]+/g, ' ')
    this.append(decodeEntities(spaced))
  }

  lineBreak(): void {
    this.append('\n')
  }

  /** Starts a new line unless already at the start of one, so nested blocks make one break. */
  endLine(): void {
    if (!this.lineStart) this.append('\n')
  }

  endParagraph(): void {
    this.endLine()
    if (this.out !== '' && !this.out.endsWith('\n\n')) this.append('\n')
  }

  result(): string {
    return this.out
  }

  private append(text: string): void {
    this.out += text
    let last = text.length - 1
    while (last >= 0 && text[last] === ' ') last--
    if (last >= 0) this.lineStart = text[last] === '\n'
  }
}

function attribute(attrs: string, name: string): string {
  const match = new RegExp(
    `(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`,
    'i',
  ).exec(attrs)
  return match ? (match[1] ?? match[2] ?? match[3] ?? '') : ''
}

function classes(attrs: string): string[] {
  return attribute(attrs, 'class').toLowerCase().split(/\s+/).filter(Boolean)
}

function isQuoteContainer(name: string, attrs: string): boolean {
  if (name === 'blockquote' && attribute(attrs, 'type').toLowerCase() === 'cite') return true
  return classes(attrs).some((c) => QUOTE_CLASSES.has(c))
}

// Outlook (Word) marks every line as a MsoNormal paragraph with no margin: those are lines, not
// paragraphs, or every line of an Outlook mail would be followed by a blank one.
function isParagraph(name: string, attrs: string): boolean {
  if (!PARAGRAPH.has(name)) return false
  if (classes(attrs).includes('msonormal')) return false
  return !/(^|;)\s*margin\s*:\s*0[a-z]*\s*(;|$)/i.test(attribute(attrs, 'style'))
}

interface Skipping {
  name: string
  depth: number
}

/** Inside a dropped container, counts nesting of its own element to find where it ends. */
function stillSkipping(
  skip: Skipping,
  closing: boolean,
  name: string,
  selfClosing: boolean,
): boolean {
  if (name !== skip.name || VOID.has(name) || selfClosing) return true
  skip.depth += closing ? -1 : 1
  return skip.depth > 0
}

/** Layout for one tag. Returns false when the rest of the document is quoted history. */
function applyTag(writer: TextWriter, closing: boolean, name: string, attrs: string): boolean {
  if (!closing && END_OF_MESSAGE_IDS.has(attribute(attrs, 'id').toLowerCase())) return false
  if (name === 'br') writer.lineBreak()
  else if (name === 'pre') {
    writer.endLine()
    writer.preformatted = Math.max(0, writer.preformatted + (closing ? -1 : 1))
  } else if (PARAGRAPH.has(name)) {
    // Margins collapse in a browser: one blank line before a paragraph is all it shows.
    if (!closing && isParagraph(name, attrs)) writer.endParagraph()
    else writer.endLine()
  } else if (BLOCK.has(name)) writer.endLine()
  else if ((name === 'td' || name === 'th') && closing) writer.text(' ')
  if (name === 'li' && !closing) writer.text('- ')
  return true
}

type Token = { text: string } | { closing: boolean; name: string; attrs: string }

const TAG_NAME = /<(\/?)([a-zA-Z][\w:.-]*)/y

/** Index just past the `>` closing a tag's attributes, skipping quoted values; -1 if none. */
function endOfTag(html: string, from: number): number {
  let afterEquals = false
  for (let i = from; i < html.length; i++) {
    const c = html[i]
    if (c === '>') return i + 1
    // A quote opens a value only right after `=`: a stray one must not swallow the document.
    if ((c === '"' || c === "'") && afterEquals) {
      i = html.indexOf(c, i + 1)
      if (i === -1) return -1
    }
    if (c === '=') afterEquals = true
    else if (!/\s/.test(c)) afterEquals = false
  }
  return -1
}

/**
 * Where the content of a raw-text element (style, script, head…) ends: past its end tag, or at
 * the end of the document when there is none. `unclosed` remembers names with no end tag left,
 * so a mail full of unclosed <head> is searched once, not once per tag.
 */
function endOfRawElement(html: string, name: string, from: number, unclosed: Set<string>): number {
  const end = new RegExp(`</${name}\\s*>`, 'ig')
  end.lastIndex = from
  if (unclosed.has(name) || !end.exec(html)) {
    unclosed.add(name)
    // An unclosed <head> is the sender's slip, not a reason to lose the body.
    return name === 'head' ? from : html.length
  }
  return end.lastIndex
}

/** Index past a comment, declaration or processing instruction starting at `at`, else -1. */
function endOfMarkup(html: string, at: number): number {
  if (html.startsWith('<!--', at)) {
    const end = html.indexOf('-->', at + 4)
    return end === -1 ? html.length : end + 3
  }
  if (html[at + 1] !== '!' && html[at + 1] !== '?') return -1
  const end = html.indexOf('>', at)
  return end === -1 ? html.length : end + 1
}

/**
 * Text runs and tags, in one forward pass: each character is looked at a bounded number of
 * times, so hostile markup (thousands of unclosed `<a`) cannot make it slow. Comments
 * (Outlook's conditional ones too) and raw-text elements yield nothing.
 */
function* tokens(html: string): Generator<Token> {
  const unclosed = new Set<string>()
  let text = 0
  for (let lt = html.indexOf('<'); lt !== -1; lt = html.indexOf('<', lt + 1)) {
    let end = endOfMarkup(html, lt)
    TAG_NAME.lastIndex = lt
    const tag = end === -1 ? TAG_NAME.exec(html) : null
    if (end === -1 && !tag) continue
    if (lt > text) yield { text: html.slice(text, lt) }
    if (tag) {
      end = endOfTag(html, TAG_NAME.lastIndex)
      if (end === -1) return
      const name = tag[2].toLowerCase()
      const closing = tag[1] === '/'
      yield { closing, name, attrs: html.slice(TAG_NAME.lastIndex, end - 1) }
      if (!closing && RAW_SKIPPED.has(name)) end = endOfRawElement(html, name, end, unclosed)
    }
    text = end
    lt = end - 1
  }
  if (text < html.length) yield { text: html.slice(text) }
}

export function htmlToPlainText(html: string): string {
  const writer = new TextWriter()
  let skip: Skipping | null = null
  for (const token of tokens(html)) {
    if ('text' in token) {
      if (!skip) writer.text(token.text)
      continue
    }
    const { closing, name, attrs } = token
    const selfClosing = attrs.endsWith('/')
    if (skip) {
      if (!stillSkipping(skip, closing, name, selfClosing)) skip = null
    } else if (!closing && !selfClosing && !VOID.has(name) && isQuoteContainer(name, attrs)) {
      skip = { name, depth: 1 }
    } else if (!applyTag(writer, closing, name, attrs)) {
      break
    }
  }
  return normaliseWhitespace(writer.result())
}

// Names of U+00A0..U+00FF in code point order (HTML 4's Latin-1 set).
const LATIN1_NAMES = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg ' +
  'plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest ' +
  'Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute ' +
  'Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml ' +
  'Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc ' +
  'euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ' +
  'ugrave uacute ucirc uuml yacute thorn yuml'
).split(' ')

// The rest of what mail editors emit: markup escapes, typography, a few symbols.
const OTHER_NAMES: Record<string, number> = {
  quot: 0x22,
  amp: 0x26,
  apos: 0x27,
  lt: 0x3c,
  gt: 0x3e,
  OElig: 0x152,
  oelig: 0x153,
  Scaron: 0x160,
  scaron: 0x161,
  Yuml: 0x178,
  circ: 0x2c6,
  tilde: 0x2dc,
  ensp: 0x2002,
  emsp: 0x2003,
  thinsp: 0x2009,
  zwnj: 0x200c,
  zwj: 0x200d,
  lrm: 0x200e,
  rlm: 0x200f,
  ndash: 0x2013,
  mdash: 0x2014,
  lsquo: 0x2018,
  rsquo: 0x2019,
  sbquo: 0x201a,
  ldquo: 0x201c,
  rdquo: 0x201d,
  bdquo: 0x201e,
  dagger: 0x2020,
  Dagger: 0x2021,
  bull: 0x2022,
  hellip: 0x2026,
  permil: 0x2030,
  prime: 0x2032,
  Prime: 0x2033,
  lsaquo: 0x2039,
  rsaquo: 0x203a,
  euro: 0x20ac,
  trade: 0x2122,
  minus: 0x2212,
}

const NAMED = new Map<string, number>([
  ...LATIN1_NAMES.map((name, i): [string, number] => [name, 0xa0 + i]),
  ...Object.entries(OTHER_NAMES),
])

// Named references need their semicolon: in `?a=1&copy=2` the text is a link, not a symbol.
const REFERENCE = /&(?:#(\d{1,7});?|#[xX]([0-9a-fA-F]{1,6});?|([A-Za-z][A-Za-z0-9]{1,31});)/g

function character(code: number, written: string): string {
  // NUL, lone surrogates and values past Unicode are no characters: keep what was written.
  if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return written
  return String.fromCodePoint(code)
}

/** Unknown names are left as written, so nothing is silently lost. */
export function decodeEntities(text: string): string {
  return text.replace(
    REFERENCE,
    (written: string, decimal?: string, hex?: string, name?: string) => {
      if (decimal) return character(parseInt(decimal, 10), written)
      if (hex) return character(parseInt(hex, 16), written)
      const code = name === undefined ? undefined : NAMED.get(name)
      return code === undefined ? written : String.fromCodePoint(code)
    },
  )
}

// Elements that a text written by a person does not start with, but HTML mail does.
const HTML_START =
  /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|style|div|p|table|font|span|center|b|strong|br|h[1-6])[\s>/]/i
const WHOLE_DOCUMENT = /^\s*(?:<!--[\s\S]*?-->\s*)*<(?:!doctype\s+html|html)[\s>]/i

/**
 * Whether a body given as plain text is HTML: some scripts send HTML with no Content-Type (so
 * it defaults to text/plain), or label a whole HTML document text/plain. A declared text/plain
 * part counts only when it is a whole document; an undeclared body also when it opens with a
 * tag of the kind mail editors write, since plain text never starts that way.
 */
export function looksLikeHtml(text: string, declared: boolean): boolean {
  return (declared ? WHOLE_DOCUMENT : HTML_START).test(text.slice(0, 4096))
}
