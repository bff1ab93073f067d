import { unifyLineBreaks } from './normalise'
import {
  attributionAt,
  isHeaderBlock,
  isHistorySeparator,
  replyBeforeInlineAttribution,
} from './quote-headers'

/**
 * Only what the sender wrote goes into the SMS, not the conversation their client quoted. Each
 * line is read once, top to bottom:
 * - `>` lines are quoted and dropped; an answer written between quotes is kept, as a paragraph;
 * - an attribution ("On … wrote:") above `>` quotes loses its own line(s) only, since the sender
 *   may answer between the quotes further down;
 * - an attribution, a "-----Original Message-----" rule or an Outlook header block above
 *   unquoted text starts the history: nothing from there on is new.
 * A forwarded message is what the sender chose to send: from its marker on, only `>` lines go.
 */

// Indented by any kind of space: HTML mail converted to text indents with non-breaking ones.
const QUOTE_MARK = /^[^\S\n]*>/u
// ">>> http://example.com <<<" is a banner, not a quote.
const BANNER = /<{2,}[^\S\n]*$/u
const FORWARD_MARKER =
  /^(-{2,}\s*(forwarded message|message transféré|mail transféré|weitergeleitete nachricht|mensaje reenviado|messaggio inoltrato|doorgestuurd bericht)\s*-{2,}|begin forwarded message:|début du message réexpédié\s?:)$/iu
const SEPARATOR = /^(_{5,}|-{5,}|={5,})$/u

function isQuotedLine(line: string): boolean {
  return QUOTE_MARK.test(line) && !BANNER.test(line)
}

const URLS = /(?:https?:\/\/|mailto:|www\.)\S*/giu
const HAS_URL = /(?:https?:\/\/|mailto:|www\.)/iu
const LINK_PUNCTUATION = /[=/_&%#()]/u

/**
 * A client that wraps a long quoted link may leave the wrapped part without its `>`:
 * "> View ticket (http://example.com/action" then "_nonce=3dd518)". Such a line, between two
 * quoted lines, is part of the quote: it holds a link and no words, or is one token of URL
 * characters. An answer between quotes has words.
 */
function isBrokenLinkPiece(line: string): boolean {
  const trimmed = line.trim()
  if (trimmed === '') return false
  if (HAS_URL.test(trimmed) && !/\p{L}{2,}/u.test(trimmed.replace(URLS, ''))) return true
  return !/\s/u.test(trimmed) && LINK_PUNCTUATION.test(trimmed)
}

/**
 * Runs of blank lines become one, and every line break a text may use becomes a line feed, so
 * a quote after a U+2028 separator is a line of its own.
 */
function withSingleBlankLines(text: string): string[] {
  const lines: string[] = []
  for (const line of unifyLineBreaks(text).split('\n')) {
    const blank = line.trim() === ''
    if (!blank) lines.push(line)
    else if (lines.length > 0 && lines[lines.length - 1] !== '') lines.push('')
  }
  return lines
}

function lastContent(kept: string[]): string | undefined {
  for (let i = kept.length - 1; i >= 0; i--) if (kept[i].trim() !== '') return kept[i].trim()
  return undefined
}

function withoutTrailingSeparators(kept: string[]): string[] {
  const lines = [...kept]
  while (
    lines.length > 0 &&
    (lines[lines.length - 1].trim() === '' || SEPARATOR.test(lines[lines.length - 1].trim()))
  ) {
    lines.pop()
  }
  return lines
}

class ReplyReader {
  private readonly kept: string[] = []
  private quoteSinceKept = false

  constructor(private readonly lines: string[]) {}

  isQuoted(i: number): boolean {
    const line = this.lines[i]
    if (line === undefined) return false
    if (isQuotedLine(line)) return true
    return isQuotedLine(this.lines[i - 1] ?? '') && isQuotedLine(this.lines[i + 1] ?? '')
      ? isBrokenLinkPiece(line)
      : false
  }

  /** Whether the next line with content from `i` on is quoted. */
  followedByQuote = (i: number): boolean => {
    let n = i
    while (n < this.lines.length && this.lines[n].trim() === '') n++
    return n < this.lines.length && isQuotedLine(this.lines[n])
  }

  private keep(line: string): void {
    // An answer between two quotes is a paragraph of its own.
    if (this.quoteSinceKept && line.trim() !== '' && lastContent(this.kept) !== undefined) {
      if (this.kept[this.kept.length - 1] !== '') this.kept.push('')
    }
    this.quoteSinceKept = false
    this.kept.push(line)
  }

  read(): string[] {
    let forwarded = false
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[i]
      if (this.isQuoted(i)) {
        this.quoteSinceKept = true
        continue
      }
      const trimmed = line.trim()
      if (FORWARD_MARKER.test(trimmed)) forwarded = true
      if (forwarded) {
        this.keep(line)
        continue
      }
      const inline = this.followedByQuote(i + 1) ? replyBeforeInlineAttribution(trimmed) : null
      if (inline !== null) {
        this.keep(inline)
        continue
      }
      const attribution = attributionAt(this.lines, i, this.followedByQuote)
      if (attribution) {
        const next = i + attribution.lines
        if (!this.followedByQuote(next)) return withoutTrailingSeparators(this.kept)
        i = next - 1
        continue
      }
      if (isHistorySeparator(trimmed)) return withoutTrailingSeparators(this.kept)
      if (isHeaderBlock(this.lines, i)) return withoutTrailingSeparators(this.kept)
      this.keep(line)
    }
    return this.kept
  }
}

function withoutQuotedLines(lines: string[]): string {
  return lines
    .filter((line) => !isQuotedLine(line))
    .join('\n')
    .trim()
}

/** The sender's own words, without the conversation their client quoted. */
export function stripQuotedReply(text: string): string {
  const lines = withSingleBlankLines(text)
  const reply = new ReplyReader(lines).read().join('\n').trim()
  if (reply !== '') return reply
  // Nothing of the sender's own was found: rather than lose a message that merely looks like
  // a header block or an attribution, send it without its `>` lines.
  return withoutQuotedLines(lines)
}
