import { unifyLineBreaks } from './normalise'

/**
 * Only what the sender wrote goes into the SMS, not the conversation their client quoted below
 * it. email-reply-parser finds `>` quotes and many attribution lines; our own guards come first
 * for what it misses: Outlook's unquoted history under a header block, attributions wrapped
 * over several lines, French wording.
 */

// email-reply-parser is ESM-only: a real import(), which TypeScript keeps under module node16.
function createParser() {
  return import('email-reply-parser').then((m) => new m.default())
}

let parser: ReturnType<typeof createParser> | undefined

function replyParser(): ReturnType<typeof createParser> {
  if (!parser) {
    parser = createParser()
    // A failed load is not kept, so the next message tries again.
    parser.catch(() => {
      parser = undefined
    })
  }
  return parser
}

// Attributions always carry a date, hence the digit: "Le patient a écrit :" is a sentence.
const ATTRIBUTIONS = [/^on\s.*\d.*\swrote\s?:$/i, /^le\s.*\d.*\sa\s+écrit\s?:$/i]
const ATTRIBUTION_START = /^(on|le)\s/i
const MAX_ATTRIBUTION_LINES = 3
const LONGEST_ATTRIBUTION = 400
const ORIGINAL_MESSAGE =
  /^-{2,}\s*(original message|message d'origine|mail original|message original)\s*-{2,}$/i
const FORWARD_MARKER =
  /^(-{2,}\s*(forwarded message|message transféré|mail transféré)\s*-{2,}|begin forwarded message:|début du message réexpédié\s?:)$/i
const HEADER_FROM = /^\*?(from|de)\s?:\*?\s+\S/i
const HEADER_DATE = /^\*?(sent|date|envoyé)\s?:/i
const HEADER_OTHER = /^\*?(to|à|cc|subject|objet)\s?:/i
const HEADER_BLOCK_LINES = 6
const SEPARATOR = /^(_{5,}|-{5,}|={5,})$/
// Indented by any kind of space: HTML mail converted to text indents with non-breaking ones.
const QUOTED = /^[^\S\n]*>/

/** How many lines, from `i`, make an "On … wrote:" / "Le … a écrit :" line; 0 if none. */
function attributionLength(lines: string[], i: number): number {
  if (!ATTRIBUTION_START.test(lines[i].trim())) return 0
  let joined = ''
  for (let n = 0; n < MAX_ATTRIBUTION_LINES && i + n < lines.length; n++) {
    const line = lines[i + n].trim()
    // A wrapped attribution is one sentence: a line ending a sentence is the sender's text.
    if (line === '' || (n > 0 && /[.!?]$/.test(joined))) return 0
    joined = n === 0 ? line : `${joined} ${line}`
    // Longer is a paragraph, and the patterns below would backtrack over all of it.
    if (joined.length > LONGEST_ATTRIBUTION) return 0
    if (ATTRIBUTIONS.some((a) => a.test(joined))) return n + 1
  }
  return 0
}

function nextContentIsQuoted(lines: string[], from: number): boolean {
  const next = lines.slice(from).find((line) => line.trim() !== '')
  return next !== undefined && QUOTED.test(next)
}

/** Outlook's "From: / Sent: / To:" (or "De : / Envoyé : / À :") block heading its history. */
function isHeaderBlock(lines: string[], i: number, kept: string[]): boolean {
  if (!HEADER_FROM.test(lines[i].trim())) return false
  const block = lines.slice(i + 1, i + HEADER_BLOCK_LINES).map((line) => line.trim())
  if (!block.some((l) => HEADER_DATE.test(l)) || !block.some((l) => HEADER_OTHER.test(l))) {
    return false
  }
  // A forwarded message is what the sender chose to send: its headers are content.
  const before = [...kept].reverse().find((line) => line.trim() !== '')
  return before === undefined || !FORWARD_MARKER.test(before.trim())
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

/**
 * Cuts the unquoted history Outlook-style clients append, and drops attribution lines. An
 * attribution followed by `>` quotes only loses its own line: the sender may answer between
 * the quotes further down.
 */
function withoutHistory(lines: string[]): string[] {
  const kept: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const attribution = attributionLength(lines, i)
    if (attribution > 0 && nextContentIsQuoted(lines, i + attribution)) {
      i += attribution - 1
      continue
    }
    const line = lines[i].trim()
    if (attribution > 0 || ORIGINAL_MESSAGE.test(line) || isHeaderBlock(lines, i, kept)) {
      return withoutTrailingSeparators(kept)
    }
    kept.push(lines[i])
  }
  return kept
}

// No attribution, quote header or sign-off is anywhere near this long.
const LONGEST_PARSED_LINE = 1000
const PLACEHOLDER = />?\uE000(\d+)\uE001/g

/**
 * The parser's regular expressions take quadratic time on a long line (a megabyte paragraph
 * starting with "On " stalls it for minutes), so long lines reach it as short placeholders,
 * put back afterwards. A placeholder keeps the `>` of a quoted line.
 */
function shieldLongLines(text: string): { text: string; restore: (s: string) => string } {
  const long: string[] = []
  if (text.includes('\uE000')) return { text, restore: (s) => s }
  const shielded = text
    .split('\n')
    .map((line) => {
      if (line.length <= LONGEST_PARSED_LINE) return line
      long.push(line)
      return `${line.startsWith('>') ? '>' : ''}\uE000${long.length - 1}\uE001`
    })
    .join('\n')
  return {
    text: shielded,
    restore: (s) => s.replace(PLACEHOLDER, (_, i: string) => long[Number(i)]),
  }
}

/** A quoted fragment holding unquoted lines is a whole earlier message: nothing after it is new. */
function isHistory(content: string): boolean {
  return content
    .split('\n')
    .slice(1)
    .some((line) => line.trim() !== '' && !QUOTED.test(line))
}

/**
 * The parser's fragments minus the quoted ones. Its sign-off detection ("Cordialement",
 * "Regards", "Bonne journée") is not used: it drops whatever follows, a P.S. included, and the
 * name that tells the recipient who wrote; the account's signature marker decides that instead.
 */
async function unquotedFragments(text: string): Promise<string> {
  const shielded = shieldLongLines(text)
  const parts: string[] = []
  for (const fragment of (await replyParser()).read(shielded.text).getFragments()) {
    const content = shielded.restore(fragment.getContent())
    if (!fragment.isQuoted()) parts.push(content)
    else if (isHistory(content)) break
    // An answer between two quotes is a paragraph of its own.
    else if (parts.length > 0) parts.push('')
  }
  return parts.join('\n')
}

function withoutQuotedLines(text: string): string {
  return text
    .split('\n')
    .filter((line) => !QUOTED.test(line))
    .join('\n')
    .trim()
}

/**
 * Runs of blank lines become one. Nothing is lost (whitespace is normalised later anyway), and
 * the parser's patterns that start with `^\s*` would otherwise rescan a long run from each of
 * its lines. Lines end where the normaliser ends them: a quote after a U+2028 separator is a
 * line of its own, or it would reach the SMS once the separator becomes a line feed.
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

export async function stripQuotedReply(text: string): Promise<string> {
  const lines = withSingleBlankLines(text)
  const reply = withoutQuotedLines(await unquotedFragments(withoutHistory(lines).join('\n')))
  if (reply !== '') return reply
  // Our guards found nothing of the sender's own: take the parser's word alone before giving
  // up, so a message that merely looks like a header block is not lost.
  return withoutQuotedLines(await unquotedFragments(lines.join('\n')))
}
