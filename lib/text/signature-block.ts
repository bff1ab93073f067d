import { isClientFooter } from './footers'
import { isSignOff } from './sign-offs'
import { mapTypography } from './typography'

/**
 * Finds the signature a sender typed (or their client added) at the end of a message, without
 * a `-- ` delimiter: a sign-off and their name, a `---` or `-Name` line, a name over a phone
 * number or an email address. Every character of an SMS costs money and the SMS sender name
 * already says who wrote, so these go.
 *
 * Only the last few lines are read, each line is classified on its own (short lines only, so
 * the patterns stay cheap), and a block is a signature only when every line from its start to
 * the end could belong to one: a long line, a sentence, a list item, a question or a P.S. on
 * the way means the author is still speaking. The first line of a message is never part of
 * one: "Thanks," above the text is a greeting, and "--\nRoman" alone is all there is to send.
 */

/** How a line could take part in a signature. */
export type LineKind =
  | 'sign-off' // "Thanks!", "Bien à vous,"
  | 'delimiter' // "---", "___", "—"
  | 'dash-name' // "-Roman", "- Jean Dupont", "-Lev."
  | 'footer' // "Sent from my iPhone", "via mobile"
  | 'contact' // phone number, email, "Tél. …"
  | 'link' // a web address: in a signature, or the link the message is about
  | 'name' // a few capitalised words: a name, a title, a company
  | 'text' // a short line that could be a slogan or a job title as well as text
  | 'list-item' // "- milk", "--> two": a list is the message
  | 'prose' // long line, sentence, question, header, quote, P.S.: the author's words

interface Entry {
  index: number
  kind: LineKind
  /** A blank line separates it from the line above. */
  paragraphStart: boolean
  /** It ends the way a sentence does. */
  closesSentence: boolean
  /** It ends with a colon: what follows is what it announces. */
  announces: boolean
}

// Signature lines are short: a longer line is a paragraph the author wrote.
const LONGEST_SIGNATURE_LINE = 60
const LONGEST_NAME = LONGEST_SIGNATURE_LINE
// A signature is rarely more than a dozen lines; looking further costs time for nothing.
const WINDOW = 12
// Physical lines looked at, blank ones included, whatever the text holds.
const SCAN_LIMIT = 400
// Lines of plain text a signature may hold in a row ("some text", a slogan) between its lines.
const TEXT_RUN = 2

// After mapTypography, so an em dash rule reads as dashes too. `--` itself is cut earlier.
const DELIMITER = /^(-+|_{3,})$/
const DASH_NAME = /^-{1,3} ?\p{L}[\p{L}'.-]*(?: \p{L}[\p{L}'.-]*){0,2}$/u
const LIST_MARK = /^([-*>•]|\+ )/
const POSTSCRIPT = /^(p\.? ?s|p\.-s|p\.? ?p\.? ?s)\.? ?[:.-]? /
const HEADER = /^(from|to|cc|bcc|subject|date|sent|de|à|objet|envoyé|von|an|betreff)\s?:/
const EMAIL = /\S@\S+\.\S/
const URL = /https?:\/\/|www\.\S/
const PHONE = /\+?\(?\d[\d ()./-]{6,}\d/
const PHONE_DIGITS = 8
const CONTACT_LABEL =
  /^(tel|tél|téléphone|telephone|phone|ph|mobile|mob|cell|fax|portable|port|gsm|skype|linkedin|twitter|web|site|e-?mail|courriel)\s?[.:]|^[tfmp]\s?[.:]\s?\+?\d/
const PRINTABLE_ASCII = /^[ -~]*$/
const SENTENCE_END = /[.!?)"'»]$/
const WORD_LETTER = /\p{L}/u
const FIRST_LETTER_UPPER = /^[^\p{L}]*\p{Lu}/u

function isPhone(line: string): boolean {
  const run = PHONE.exec(line)
  return run !== null && run[0].replace(/\D/g, '').length >= PHONE_DIGITS
}

/** "Ph.D.", "Inc.", "Jr." end a line without ending a sentence. */
function endsWithAbbreviation(line: string): boolean {
  const word = line.slice(line.lastIndexOf(' ') + 1, -1)
  return word.includes('.') || /^\p{Lu}\p{L}{0,2}$/u.test(word)
}

function isSentence(line: string): boolean {
  if (/[!?]$|\.\.\.$/.test(line)) return true
  return line.endsWith('.') && !endsWithAbbreviation(line)
}

function isName(line: string): boolean {
  if (line.length > LONGEST_NAME || /\d/.test(line)) return false
  const words = line.split(' ').filter((w) => WORD_LETTER.test(w))
  if (words.length === 0 || words.length > 6) return false
  const capitalised = words.filter((w) => FIRST_LETTER_UPPER.test(w)).length
  return 2 * capitalised >= words.length
}

function isContact(line: string, lower: string): boolean {
  return EMAIL.test(line) || isPhone(line) || CONTACT_LABEL.test(lower)
}

/** A line's kind on its own; list items are told apart from dash-names with their neighbours. */
export function classifyLine(raw: string): LineKind {
  const trimmed = raw.trim()
  // Measured before any mapping, so a megabyte line costs nothing more.
  if (trimmed.length > 200) return 'prose'
  // Printable ASCII has no typography to map, and most lines are just that.
  const line = (PRINTABLE_ASCII.test(trimmed) ? trimmed : mapTypography(trimmed)).replace(
    /\s+/g,
    ' ',
  )
  const lower = line.toLowerCase()
  if (isClientFooter(lower)) return 'footer'
  if (DELIMITER.test(line)) return 'delimiter'
  if (line.length > LONGEST_SIGNATURE_LINE || POSTSCRIPT.test(lower)) return 'prose'
  if (isSignOff(line, lower)) return 'sign-off'
  if (DASH_NAME.test(line)) return 'dash-name'
  if (LIST_MARK.test(line)) return 'list-item'
  if (HEADER.test(lower) || line.endsWith(':') || isSentence(line)) return 'prose'
  if (isContact(line, lower)) return 'contact'
  if (URL.test(lower)) return 'link'
  return isName(line) ? 'name' : 'text'
}

/** Kinds already worked out, by line index: each pass from the end reads mostly the same lines. */
export type KindCache = Array<LineKind | undefined>

function kindOf(lines: string[], i: number, kinds: KindCache): LineKind {
  return (kinds[i] ??= classifyLine(lines[i]))
}

function isBlank(line: string): boolean {
  return line.trim() === ''
}

/** The last non-blank lines before `end`, oldest first, classified. */
function lastLines(lines: string[], end: number, first: number, kinds: KindCache): Entry[] {
  const entries: Entry[] = []
  const stop = Math.max(first, end - SCAN_LIMIT)
  let blankBelow = false
  for (let i = end - 1; i >= stop && entries.length <= WINDOW; i--) {
    if (isBlank(lines[i])) {
      blankBelow = true
      continue
    }
    if (entries.length > 0) entries[0].paragraphStart = blankBelow
    blankBelow = false
    const trimmed = lines[i].trim()
    entries.unshift({
      index: i,
      kind: kindOf(lines, i, kinds),
      paragraphStart: false,
      closesSentence: SENTENCE_END.test(trimmed) || trimmed.endsWith('\u2026'),
      announces: trimmed.endsWith(':'),
    })
  }
  if (entries.length > 0) entries[0].paragraphStart = blankBelow
  markLists(entries)
  return entries
}

/**
 * A dash line next to another dash line is one item of a list, and so is one right under a
 * line ending with a colon ("Shopping:\n- milk"): the list is what the author wrote.
 */
function markLists(entries: Entry[]): void {
  const dashLed = (e: Entry | undefined): boolean =>
    e !== undefined && (e.kind === 'dash-name' || e.kind === 'list-item')
  const items = entries.map(
    (e, i) =>
      e.kind === 'dash-name' &&
      (dashLed(entries[i - 1]) || dashLed(entries[i + 1]) || entries[i - 1]?.announces === true),
  )
  entries.forEach((e, i) => {
    if (items[i]) e.kind = 'list-item'
  })
}

const SIGNATURE_LINES = new Set<LineKind>([
  'sign-off',
  'delimiter',
  'dash-name',
  'footer',
  'contact',
  'link',
  'name',
])

/**
 * Whether `block` could all be signature: no prose or list item, at most a couple of plain
 * lines in a row, and not ending on one. Returns the count of contact lines, or -1. Links are
 * not counted: a message often ends with the links it is about.
 */
function signatureContacts(block: Entry[]): number {
  let textRun = 0
  let contacts = 0
  for (const e of block) {
    if (e.kind === 'text') {
      if (++textRun > TEXT_RUN) return -1
    } else if (SIGNATURE_LINES.has(e.kind)) {
      textRun = 0
      if (e.kind === 'contact' || e.kind === 'footer') contacts++
    } else {
      return -1
    }
  }
  return textRun > 0 ? -1 : contacts
}

/**
 * A name above contact lines, in a paragraph of its own after the text ("Gina Doe\n555 …"),
 * or a paragraph of two contact lines or more.
 */
function isContactBlock(entries: Entry[], i: number, contacts: number): boolean {
  const e = entries[i]
  const above = entries[i - 1]
  if (!e.paragraphStart || above === undefined) return false
  if (!above.closesSentence && above.kind !== 'sign-off') return false
  if (e.kind === 'contact') contacts++
  return contacts >= 2 || (e.kind === 'name' && contacts >= 1)
}

function startsSignature(entries: Entry[], i: number): boolean {
  const contacts = signatureContacts(entries.slice(i + 1))
  if (contacts < 0) return false
  switch (entries[i].kind) {
    case 'sign-off':
    case 'delimiter':
    case 'dash-name':
      return true
    case 'name':
    case 'text':
    case 'contact':
    case 'link':
      return isContactBlock(entries, i, contacts)
    default:
      return false
  }
}

/**
 * "Thanks in advance,\n<a long line>\nBob": the long line is the author's, but a name alone on
 * the very last line, a line or two under a sign-off, still signs the message.
 */
function closingNameStart(entries: Entry[], lines: string[], first: number): number | undefined {
  const last = entries[entries.length - 1]
  if (last === undefined || last.kind !== 'name' || last.index <= first) return undefined
  if (lines[last.index].trim().split(/\s+/).length > 3) return undefined
  const signed = entries.slice(-4, -1).some((e) => e.kind === 'sign-off' && e.index > first)
  return signed ? last.index : undefined
}

/**
 * Where the signature at the end of `lines[0, end)` starts, or `end` if there is none. `first`
 * is the message's first non-blank line, which a signature never includes.
 */
export function signatureStart(
  lines: string[],
  end: number,
  first: number,
  kinds: KindCache = [],
): number {
  if (first < 0) return end
  const entries = lastLines(lines, end, first, kinds)
  for (let i = 0; i < entries.length; i++) {
    if (entries[i].index > first && startsSignature(entries, i)) return entries[i].index
  }
  return closingNameStart(entries, lines, first) ?? end
}
