import { isClientFooter, listFooterStart } from './footers'
import { signatureStart, type KindCache } from './signature-block'
import { mapTypography } from './typography'

/**
 * Where the message ends and the signature begins. As the user guide puts it, the account holds
 * the first line of the user's signature and everything from that line on is left out of the
 * SMS. Without it (or above it) the standard `-- ` delimiter, the footers mobile clients and
 * mailing lists append, and the signatures people type without a delimiter (sign-off and name,
 * contact block) are cut as well: each costs money on every SMS, and the SMS sender name already
 * tells the recipient who wrote.
 */

// A marker matches a line that starts with it only at a word boundary: "Dr" must not cut at
// "Drôle de journée".
const WORD_CHARACTER = /^[\p{L}\p{N}]/u
// "PS :", "P.S.", "P.-S.", "PPS": the author's words, even under their name.
const POSTSCRIPT = /^(p\.? ?s|p\.-s|p\.? ?p\.? ?s)\.? ?[:.-]? /
// A P.S. is looked for among the last lines only, like the signature.
const POSTSCRIPT_WINDOW = 12
// Lines read back from the end for a list footer, blank ones included.
const LIST_FOOTER_SCAN = 40
const LONGEST_RULE = 200

/** Compare lines the way a reader would: case, spacing and smart quotes don't matter. */
function fold(line: string): string {
  // Long lines are never markers or footers; folding one would only cost time.
  if (line.length > 1000) return line.slice(0, 1000).toLowerCase()
  const mapped = /^[ -~]*$/.test(line) ? line : mapTypography(line)
  return mapped.replace(/\s+/g, ' ').trim().toLowerCase()
}

function firstLine(marker: string | null | undefined): string {
  const line = (marker ?? '').split(/\r?\n/).find((l) => fold(l) !== '')
  return line ? fold(line) : ''
}

function isDelimiter(line: string): boolean {
  // `-- ` is the standard; clients and editors that strip trailing spaces leave `--`.
  return line.trim() === '--'
}

function isBlank(line: string): boolean {
  return line.trim() === ''
}

function startsWithMarker(folded: string, marker: string): boolean {
  if (!marker || !folded.startsWith(marker)) return false
  const rest = folded.slice(marker.length)
  return !WORD_CHARACTER.test(rest) || !WORD_CHARACTER.test(marker.slice(-1))
}

/** Index of the first line with text, or -1. */
function firstContent(lines: string[]): number {
  return lines.findIndex((line) => !isBlank(line))
}

/**
 * The account's marker cuts wherever it is. The delimiter cuts only below some text: a message
 * that is nothing but "--\nRoman" keeps it, rather than become an empty SMS.
 */
function markerOrDelimiterCut(lines: string[], marker: string, first: number): number {
  const cut = lines.findIndex(
    (line, i) =>
      (i > first && isDelimiter(line)) || (marker !== '' && startsWithMarker(fold(line), marker)),
  )
  return cut === -1 ? lines.length : cut
}

function withoutTrailingBlanks(lines: string[], end: number): number {
  while (end > 0 && isBlank(lines[end - 1])) end--
  return end
}

function listFooterCut(lines: string[], end: number, folded: string[]): number {
  const tail: number[] = []
  for (let i = end - 1; i >= Math.max(0, end - LIST_FOOTER_SCAN); i--) {
    if (!isBlank(lines[i])) tail.unshift(i)
  }
  const start = listFooterStart(tail.map((i) => (folded[i] ??= fold(lines[i]))))
  return start === -1 ? end : tail[start]
}

/**
 * Cuts from the end, one thing at a time, until nothing more goes: a client footer, a list
 * footer, a signature. One cut can uncover the next ("-Lev.\n\nSent from my HTC"), and repeating
 * until nothing changes makes the result the same however often it is applied.
 */
function withoutTail(lines: string[], end: number, first: number, kinds: KindCache): number {
  // Folded lines by index, for the list footer: each pass reads mostly the same lines.
  const folded: string[] = []
  for (;;) {
    end = withoutTrailingBlanks(lines, end)
    if (end === 0) return end
    // The signature first: a client footer under a name ("Jean\nvia mobile") is part of it.
    const signature = signatureStart(lines, end, first, kinds)
    const footer = isListFooterCandidate(lines, end) ? listFooterCut(lines, end, folded) : end
    if (signature < end || (footer < end && footer > first)) {
      end = Math.min(signature, footer > first ? footer : end)
      continue
    }
    // A footer is the client's, never the author's: it goes even if nothing is left, and the
    // MX then falls back to the Subject.
    if (!isClientFooter(fold(lines[end - 1]))) return end
    end--
  }
}

// Cheap test before gathering the tail: some line near the end must be a rule.
const RULE = /^\s*[_\-=*]{5,}\s*$/

function isListFooterCandidate(lines: string[], end: number): boolean {
  for (let i = end - 1; i >= Math.max(0, end - LIST_FOOTER_SCAN); i--) {
    if (lines[i].length <= LONGEST_RULE && RULE.test(lines[i])) return true
  }
  return false
}

/** The first P.S. among the last lines before `end`, or -1. */
function postscriptStart(lines: string[], end: number, first: number): number {
  let found = -1
  let seen = 0
  for (let i = end - 1; i > first && seen < POSTSCRIPT_WINDOW; i--) {
    if (isBlank(lines[i])) continue
    seen++
    if (POSTSCRIPT.test(fold(lines[i]))) found = i
  }
  return found
}

export function cutAtSignature(text: string, marker?: string | null): string {
  const lines = text.split(/\r?\n/)
  const first = firstContent(lines)
  const kinds: KindCache = []
  const end = withoutTail(
    lines,
    markerOrDelimiterCut(lines, firstLine(marker), first),
    first,
    kinds,
  )
  // A P.S. under the signature is kept: only the signature between it and the text goes.
  const postscript = postscriptStart(lines, end, first)
  if (postscript !== -1) {
    const above = withoutTrailingBlanks(lines, postscript)
    const cut = withoutTrailingBlanks(lines, withoutTail(lines, above, first, kinds))
    if (cut < above) {
      return [...lines.slice(0, cut), '', ...lines.slice(postscript, end)].join('\n')
    }
  }
  return lines.slice(0, end).join('\n')
}

/**
 * Whether a text cut by cutAtSignature is only a signature it kept for want of anything else
 * ("--\nRoman"): the caller may have better to send, such as the Subject.
 */
export function isOnlySignature(text: string): boolean {
  const lines = text.split(/\r?\n/)
  const first = firstContent(lines)
  return first !== -1 && isDelimiter(lines[first])
}
