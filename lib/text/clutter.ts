/**
 * What mail software, not the author, puts in a body: inline uuencoded files, runs of base64
 * or hex, placeholders where images and attachments were ("[image: logo.png]", "<<scan.pdf>>",
 * "[cid:…]"), and the banners that virus scanners and mail gateways add at the top or bottom
 * ("This email has been scanned by …", "CAUTION: This email originated from outside …", a
 * carrier's "Sent via … Text Messaging service").
 * None of it means anything on a phone, and all of it costs SMS parts.
 *
 * Every rule is narrow on purpose: whole lines or paragraphs in a recognisable form, banners
 * only at the start or the end, inline removals only for bracketed placeholders. A sentence
 * that merely mentions a file ("I attached report.pdf") is the author's and stays.
 */

export interface ClutterContext {
  /** File names of the message's attachments and inline parts. */
  attachmentNames?: readonly string[]
  /** The message carries images: a line that is only "[Logo]" is then an image's alt text. */
  hasImages?: boolean
}

// --- uuencode (POSIX uuencode/uudecode): "begin <mode> <name>", data lines, "end" -----------

const UU_BEGIN = /^begin(?:-base64)? [0-7]{3,4} \S.*$/
const UU_CHARACTERS = /^[\x20-\x60]+$/
const UU_END = /^(?:end|====)$/

/**
 * A data line: its first character gives the byte count, then four characters per three
 * bytes (some encoders add a checksum character), all in ` `..`\``. A base64 line (the
 * begin-base64 form) is accepted as such.
 */
function isUuencodedLine(line: string): boolean {
  if (/^[A-Za-z0-9+/]{4,76}={0,2}$/.test(line) && line.length % 4 === 0) return true
  if (!UU_CHARACTERS.test(line)) return false
  const expected = 1 + Math.ceil(((line.charCodeAt(0) - 32) & 63) / 3) * 4
  return line.length === expected || line.length === expected + 1
}

/** Index past a uuencoded block starting at `begin`, or `begin` when there is no data. */
function uuencodedBlockEnd(lines: string[], begin: number): number {
  let i = begin + 1
  while (
    i < lines.length &&
    !UU_END.test(lines[i].trimEnd()) &&
    isUuencodedLine(lines[i].trimEnd())
  )
    i++
  if (i < lines.length && UU_END.test(lines[i].trimEnd())) return i + 1
  return i > begin + 1 ? i : begin
}

// --- base64 and hex data --------------------------------------------------------------------

// A MIME base64 line is 76 characters: a word of at least that length from the base64 alphabet,
// with letters and digits, is data (a SHA-256 in hex, 64, is still left to the reader).
const DATA_WORD_LENGTH = 76
const DATA_WORD =
  /(?<!\S)(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Za-z])[A-Za-z0-9+/]{76,}={0,2}(?!\S)/g
// The short last line of a base64 block, right after data lines: whole groups of four, and
// not a word ("Thanks", "Best"): a digit, a sign or a change of case inside it.
const DATA_TAIL =
  /^(?=.*(?:[\d+/=]|[a-z][A-Z]))(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

// --- placeholders ---------------------------------------------------------------------------

const FILE_EXTENSIONS =
  'png|jpe?g|gif|bmp|tiff?|webp|heic|svg|ico|emz|wmz|pdf|docx?|xlsx?|pptx?|od[tsp]|rtf|txt|csv|' +
  'zip|rar|7z|gz|tgz|eml|msg|ics|vcf|p7s|asc|mp3|mp4|m4a|wav|mov|avi'
const FILE_NAME = `[^\\s<>\\[\\]"]+(?: [^\\s<>\\[\\]"]+)*\\.(?:${FILE_EXTENSIONS})`
// Forms clients give an image or attachment in the text part: Gmail "[image: x]", Outlook
// "[cid:image001.png@01D…]" and "<<file.pdf>>", Apple Mail "<file.pdf>", others "[file.png]".
const INLINE_PLACEHOLDER = new RegExp(
  `\\[(?:image|inline image|cid|picture|photo)(?::[^\\]\\n]*|\\s*\\d*)\\]|<<${FILE_NAME}>>|<${FILE_NAME}>|\\[${FILE_NAME}\\]`,
  'gi',
)
const FILE_NAME_LINE = new RegExp(`^${FILE_NAME}$`, 'i')
// Lotus Notes and others list attachments in the text: "(See attached file: a.pdf)".
const ATTACHMENT_LIST_LINE = new RegExp(
  `^\\(?(?:see attached file|attachments?|pi[eè]ces? jointes?|anh[aä]nge?)\\s*:\\s*${FILE_NAME}(?:[,;]\\s*${FILE_NAME})*\\)?$`,
  'i',
)
// A line of nothing but bracketed short labels, as HTML-to-text converters render images.
const BRACKET_ONLY_LINE = /^(?:\[[^\][\n]{1,80}\]\s*)+$/

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function attachmentPattern(names: readonly string[]): RegExp | null {
  const usable = names.map((n) => n.trim()).filter((n) => n.length >= 3)
  if (usable.length === 0) return null
  const alternatives = usable.map(escapeRegExp).join('|')
  // The name alone on its line, or wrapped the way clients wrap it.
  return new RegExp(
    `<<\\s*(?:${alternatives})\\s*>>|<\\s*(?:${alternatives})\\s*>|\\[\\s*(?:${alternatives})\\s*\\]`,
    'g',
  )
}

function isPlaceholderLine(line: string, context: ClutterContext, names: Set<string>): boolean {
  const bare = line.trim()
  if (bare === '') return false
  if (names.has(bare.toLowerCase())) return true
  if (bare.includes('.') && FILE_NAME_LINE.test(bare) && !/\s/.test(bare)) return true
  if (bare.includes(':') && ATTACHMENT_LIST_LINE.test(bare)) return true
  return context.hasImages === true && BRACKET_ONLY_LINE.test(bare)
}

// --- banners --------------------------------------------------------------------------------

const BANNER_OPENINGS = [
  // "This email has been scanned by …", "Filter2: This message has been scanned for viruses…"
  /^(?:[\w -]{1,20}:\s*)?(?:this|the) (?:e-?mail|message|mail)(?: message)?(?: and (?:any|all|its) (?:of its )?attachments?)? (?:has|have|was|were|is) (?:been )?(?:scanned|checked|swept|filtered|cleared|virus[- ]checked)\b/i,
  /^(?:scanned|checked) (?:for viruses )?by (?:\S+ ){0,3}(?:anti-?virus|anti-?spam|mailscanner|mimecast|symantec|sophos|mcafee|trend ?micro|eset|avast|avg|clamav|kaspersky|bitdefender|norton|proofpoint|barracuda)/i,
  /^(?:no virus found in this (?:incoming|outgoing) message|checked by avg\b|virus[- ]free\b)/i,
  // Gateways that warn about outside senders.
  /^\[?(?:caution|warning|attention|notice|external(?: e-?mail| sender| message)?)\]?\s*[:!-]?\s*(?:this (?:e-?mail|message) (?:originated|was sent|came|comes|is) from outside|do not click links)/i,
  /^\[?(?:external(?: e-?mail| sender| message)?|externe?)\]?$/i,
  // Mobile carriers' email gateways: "Sent via <carrier>'s Text Messaging service."
  /^sent (?:via|by|through) (?:\S+ ){1,4}(?:text messaging|sms|mms|messaging) service\b/i,
]
const BANNER_MAX_LENGTH = 400
const SEPARATOR_LINE = /^[-_=*~#. ]{2,}$/
const URL_LINE = /^<?(?:https?:\/\/|www\.)\S+>?$/i

function isBanner(paragraph: string[]): boolean {
  const words = paragraph
    .map((l) => l.trim())
    .filter((l) => l !== '' && !SEPARATOR_LINE.test(l) && !URL_LINE.test(l))
    .join(' ')
  if (words === '' || words.length > BANNER_MAX_LENGTH) return false
  return BANNER_OPENINGS.some((opening) => opening.test(words))
}

/** Paragraphs (runs of non-blank lines) as index ranges. */
function paragraphs(lines: string[]): Array<[number, number]> {
  const found: Array<[number, number]> = []
  let start = -1
  lines.forEach((line, i) => {
    const blank = line.trim() === ''
    if (!blank && start === -1) start = i
    if (blank && start !== -1) {
      found.push([start, i])
      start = -1
    }
  })
  if (start !== -1) found.push([start, lines.length])
  return found
}

function withoutBanners(lines: string[]): string[] {
  const blocks = paragraphs(lines)
  let first = 0
  let last = blocks.length - 1
  while (first <= last && isBanner(lines.slice(...blocks[first]))) first++
  while (last >= first && isBanner(lines.slice(...blocks[last]))) last--
  if (first > last) return []
  const dropped = new Set<number>()
  for (let b = 0; b < blocks.length; b++) {
    if (b >= first && b <= last) continue
    for (let i = blocks[b][0]; i < blocks[b][1]; i++) dropped.add(i)
  }
  return lines.filter((_, i) => !dropped.has(i))
}

// --- all together -----------------------------------------------------------------------------

function withoutDataAndPlaceholders(lines: string[], context: ClutterContext): string[] {
  const names = new Set((context.attachmentNames ?? []).map((n) => n.trim().toLowerCase()))
  const attachments = attachmentPattern(context.attachmentNames ?? [])
  const out: string[] = []
  let afterData = false
  for (let i = 0; i < lines.length; i++) {
    const blockEnd = UU_BEGIN.test(lines[i].trimEnd()) ? uuencodedBlockEnd(lines, i) : i
    if (blockEnd > i) {
      i = blockEnd - 1
      afterData = true
      continue
    }
    if (afterData && DATA_TAIL.test(lines[i].trim())) continue
    // The checks below cost a regular expression each: a line that cannot match skips them.
    const withoutData =
      lines[i].length < DATA_WORD_LENGTH ? lines[i] : lines[i].replace(DATA_WORD, '')
    afterData = withoutData !== lines[i] && withoutData.trim() === ''
    if (afterData || isPlaceholderLine(withoutData, context, names)) continue
    let line = /[[<]/.test(withoutData) ? withoutData.replace(INLINE_PLACEHOLDER, '') : withoutData
    if (attachments) line = line.replace(attachments, '')
    // A line that held only placeholders goes; one that held text keeps its text.
    if (line.trim() === '' && withoutData.trim() !== '') continue
    out.push(line)
  }
  return out
}

export function removeClutter(text: string, context: ClutterContext = {}): string {
  const lines = withoutDataAndPlaceholders(text.split('\n'), context)
  return withoutBanners(lines).join('\n')
}
