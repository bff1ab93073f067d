/**
 * The lines a mail client writes above the conversation it quotes: attributions ("On … wrote:",
 * "Le … a écrit :", "… skrev:"), "Original Message" separators and Outlook's header block. Each
 * is recognised in the languages clients ship, from what the line says, never from a client's
 * exact layout: clients wrap attributions, glue them to the reply, or break them around the
 * address.
 */

// The verbs of attributions, as clients write them in their languages. "sent" only counts
// with an address (isAttribution), since "Here is what I sent:" is a sentence.
const VERBS = [
  'wrote',
  'writes',
  'sent',
  'a\\s+écrit',
  'écrit',
  'schrieb',
  'geschrieben',
  'skrev',
  'skrevet',
  'schreef',
  'geschreven',
  'escribió',
  'escreveu',
  'ha\\s+scritto',
  'scrisse',
  'a\\s+scris',
  'napisał(?:a|\\(a\\))?',
  'pisze',
  'napsal(?:a)?',
  'kirjoitti',
  'írta',
  'yazdı',
  'skrifaði',
  'написал(?:а|\\(а\\))?',
  'писал(?:а)?',
  'đã\\s+viết',
  'έγραψε',
  '写道',
  '寫道',
  '작성',
].join('|')
// Not inside a word: "rewrote:" is not "wrote:". \b knows ASCII letters only.
const ATTRIBUTION_VERB = new RegExp(`(?<!\\p{L})(?:${VERBS})[^\\S\\n]*[:：][^\\S\\n]*$`, 'iu')
const VERB_ANYWHERE = new RegExp(`(?<!\\p{L})(?:${VERBS})(?!\\p{L})`, 'iu')
const ENDS_WITH_COLON = /[:：][^\S\n]*$/u
const LONGEST_VERB = 40

/** The verb is at the end: only the end is searched, so a long line costs no more than a short one. */
function endsWithVerb(text: string): boolean {
  const end = text.trimEnd()
  return (
    (end.endsWith(':') || end.endsWith('：')) && ATTRIBUTION_VERB.test(end.slice(-LONGEST_VERB))
  )
}

const WEAK_VERB = /\bsent[^\S\n]*:[^\S\n]*$/iu

/** Words that open an attribution: "On", "Le", "Am", "El", "Il", "Op", "Den", "På", "Em"… */
const OPENING_WORD =
  /^(?:on|le|am|el|il|op|den|dne|på|em|w\s+dniu|в|vào|pe|kom|ngày|el\s+día|il\s+giorno)\s/iu
// A date first: "2014-10-17 11:28 …", "02.04.2012 14:20 …", "2011/4/7 …", "2025年3月3日".
const OPENING_DATE = /^\d{1,4}(?:[-/.]\d{1,2}[-/.]\d{1,4}\b|[年년][^\S\n]?\d{1,2}[月월])/u
// Both are written so that each '@' is tried once: no backtracking over a long line.
const ADDRESS = /[^\s<>()"'@]@[^\s<>()"'@.]+\.[^\s<>()"'@]/u
// Gmail with a date first ends on the address alone: "2011/4/7 Name <a@example.com>" (":").
const ADDRESS_AT_END = /^@[^\s<>@]+>?[^\S\n]*:?[^\S\n]*$/u

function endsWithAddress(text: string): boolean {
  return ADDRESS_AT_END.test(text.slice(text.lastIndexOf('@')))
}

const LONGEST_ATTRIBUTION = 400
const MOST_ATTRIBUTION_LINES = 5

function opens(line: string): boolean {
  return OPENING_WORD.test(line) || OPENING_DATE.test(line)
}

/**
 * A date or an address is what tells an attribution from a sentence such as "Le patient a
 * écrit :". `followedByQuote` relaxes the wording: above `>` lines, "Name <address> wrote:"
 * and a date with an address are attributions too.
 */
function isAttribution(text: string, followedByQuote: boolean): boolean {
  if (text.length > LONGEST_ATTRIBUTION) return false
  const hasAddress = ADDRESS.test(text)
  if (endsWithVerb(text)) {
    if (WEAK_VERB.test(text.slice(-LONGEST_VERB)) && !hasAddress) return false
    if (!/\d/u.test(text) && !hasAddress) return followedByQuote && text.length <= 80
    return followedByQuote || opens(text) || hasAddress
  }
  if (!hasAddress) return false
  // The verb before the name or the date: "Op 13-02-2014 3:18 schreef Name <address>:",
  // "Name <address> kirjoitti 3.3.2025 kello 10.12:"; or no verb: "2025年3月3日 Name <address>:".
  if (ENDS_WITH_COLON.test(text) && /\d/u.test(text)) {
    if (VERB_ANYWHERE.test(text) || (opens(text) && endsWithAddress(text))) return true
  }
  return OPENING_DATE.test(text) && endsWithAddress(text) && followedByQuote
}

const SENTENCE_END = /[.!?]$/u
// Clients break an attribution around the address, blank lines and all: "<", "mailto:…", "> wrote:".
const ADDRESS_PIECE = /[<>@]/u
const QUOTED_VERB = /^[^\S\n]*>[^\S\n]*\S{1,20}[^\S\n]*:?[^\S\n]*$/u

interface AttributionSpan {
  /** Lines it takes, from the first. */
  lines: number
}

/**
 * The attribution starting at line `i`, wrapped over up to five lines, or null. Only a line
 * that opens like an attribution (a date, "On", "Le"…) may start a wrapped one; a blank line is
 * crossed only towards a piece of an address.
 */
export function attributionAt(
  lines: string[],
  i: number,
  isFollowedByQuote: (after: number) => boolean,
): AttributionSpan | null {
  const first = lines[i].trim()
  if (first === '' || first.length > LONGEST_ATTRIBUTION) return null
  if (isAttribution(first, isFollowedByQuote(i + 1))) return { lines: 1 }
  if (!opens(first)) return null
  let joined = first
  let taken = 1
  for (let n = i + 1; n < lines.length && taken < MOST_ATTRIBUTION_LINES; n++) {
    const line = lines[n].trim()
    if (line === '') {
      const next = lines[n + 1]?.trim() ?? ''
      if (!ADDRESS_PIECE.test(next)) return null
      continue
    }
    // A wrapped attribution is one sentence: a line ending a sentence is the sender's text.
    if (SENTENCE_END.test(joined)) return null
    if (line.startsWith('>') && !QUOTED_VERB.test(line)) return null
    joined = `${joined} ${line}`
    taken++
    if (joined.length > LONGEST_ATTRIBUTION) return null
    if (isAttribution(joined, isFollowedByQuote(n + 1))) return { lines: n - i + 1 }
  }
  return null
}

// Mid-line, only a capitalised opening word counts: "reply On Wed, … wrote:".
const INLINE_OPENING = /(?:^|[\s\-–—])((?:On|Le|Am|El|Il|Op|Den|På|Em)\s)/gu
const TRAILING_DASHES = /[\s\-–—]+$/u

/**
 * An attribution glued to the end of the reply's last line. Returns the reply's part of the
 * line, or null. Only above `>` quotes: without them the glued words are too weak a sign.
 */
export function replyBeforeInlineAttribution(line: string): string | null {
  if (line.length > LONGEST_ATTRIBUTION || !endsWithVerb(line)) return null
  for (const match of line.matchAll(INLINE_OPENING)) {
    const start = (match.index ?? 0) + match[0].length - match[1].length
    if (start === 0) continue
    if (isAttribution(line.slice(start), true) && opens(line.slice(start))) {
      return line.slice(0, start).replace(TRAILING_DASHES, '')
    }
  }
  return null
}

const SEPARATOR_WORDS = [
  'original message',
  'reply message',
  'forwarded by',
  "message d'origine",
  'message original',
  'mail original',
  'ursprüngliche nachricht',
  'original nachricht',
  'antwort nachricht',
  'oprindelig meddelelse',
  'opprinnelig melding',
  'originalmeddelande',
  'ursprungligt meddelande',
  'oorspronkelijk bericht',
  'origineel bericht',
  'mensaje original',
  'messaggio originale',
  'mensagem original',
  'alkuperäinen viesti',
  'původní zpráva',
  'pôvodná správa',
  'oryginalna wiadomość',
  'eredeti üzenet',
  'исходное сообщение',
  'оригинальное сообщение',
  'αρχικό μήνυμα',
  'orijinal mesaj',
]
const ORIGINAL_MESSAGE = new Set(SEPARATOR_WORDS)
const RULE_CHARACTER = /[-_=*\s]/u
// Android: "---- John Smith wrote ----"; some clients add the date.
const WROTE_RULE = /^\S.{0,120}?\s(?:wrote|a\s+écrit|schrieb|skrev|schreef)$/iu

/** The words between the rule's two halves ("-----Original Message-----"), or null. */
function ruleWords(line: string): string | null {
  let start = 0
  while (start < line.length && RULE_CHARACTER.test(line[start])) start++
  let end = line.length
  while (end > start && RULE_CHARACTER.test(line[end - 1])) end--
  if (start < 2 || line.length - end < 2 || start === end) return null
  return line.slice(start, end)
}

/** A rule that opens the quoted history: "-----Original Message-----" in many languages. */
export function isHistorySeparator(line: string): boolean {
  const trimmed = line.trim()
  if (trimmed.length > 160) return false
  const words = ruleWords(trimmed)
  if (words === null) return false
  if (
    ORIGINAL_MESSAGE.has(
      words
        .toLowerCase()
        .replace(/\s+/gu, ' ')
        .replace(/[\u2018\u2019]/gu, "'"),
    )
  )
    return true
  return trimmed.startsWith('--') && trimmed.endsWith('--') && WROTE_RULE.test(words)
}

type HeaderKind = 'from' | 'date' | 'to' | 'cc' | 'subject'

// Outlook writes the header names in the language of the sender's client.
const HEADER_NAMES: Record<HeaderKind, string[]> = {
  from: [
    'from',
    'de',
    'von',
    'fra',
    'från',
    'van',
    'da',
    'od',
    'lähettäjä',
    'от',
    'feladó',
    'kimden',
  ],
  date: [
    'sent',
    'date',
    'envoyé',
    'gesendet',
    'datum',
    'sendt',
    'skickat',
    'verzonden',
    'enviado',
    'enviada',
    'inviato',
    'data',
    'fecha',
    'lähetetty',
    'wysłano',
    'odesláno',
    'отправлено',
    'дата',
    'elküldve',
    'tarih',
  ],
  to: [
    'to',
    'à',
    'a',
    'an',
    'til',
    'till',
    'aan',
    'para',
    'per',
    'do',
    'komu',
    'кому',
    'vastaanottaja',
    'címzett',
    'kime',
  ],
  cc: ['cc', 'kopie', 'kopia', 'копия', 'másolat'],
  subject: [
    'subject',
    'objet',
    'betreff',
    'emne',
    'ämne',
    'onderwerp',
    'asunto',
    'oggetto',
    'assunto',
    'temat',
    'předmět',
    'aihe',
    'тема',
    'tárgy',
    'konu',
  ],
}

const HEADER_LINE = new RegExp(
  `^\\*?(${Object.values(HEADER_NAMES).flat().join('|')})[^\\S\\n]?\\*?[^\\S\\n]?:\\*?[^\\S\\n]*\\S`,
  'iu',
)
const KIND_OF = new Map<string, HeaderKind>(
  Object.entries(HEADER_NAMES).flatMap(([kind, names]) =>
    names.map((name) => [name, kind as HeaderKind] as [string, HeaderKind]),
  ),
)

function headerKind(line: string): HeaderKind | null {
  const match = HEADER_LINE.exec(line.trim())
  return match ? (KIND_OF.get(match[1].toLowerCase()) ?? null) : null
}

const HEADER_BLOCK_LINES = 8
const MOST_WRAPPED_HEADER_LINES = 2

/**
 * Outlook's "From: / Sent: / To: / Subject:" block heading the history, in the sender's
 * language ("De : / Envoyé : / À :", "Von: / Gesendet: / An:"…). A From line needs a date under
 * it; a block that starts with its Date needs a From or To holding an address. Blank lines and
 * wrapped values ("[mailto:" on the next line) may come between them. One "From:" line, or a
 * note with "Date: Monday / To: all staff", is the sender's text.
 */
export function isHeaderBlock(lines: string[], i: number): boolean {
  const first = headerKind(lines[i])
  if (first !== 'from' && first !== 'date') return false
  let date = first === 'date'
  let addressed = first === 'from' && ADDRESS.test(lines[i])
  let wrapped = 0
  for (let n = i + 1; n < lines.length && n < i + HEADER_BLOCK_LINES; n++) {
    const line = lines[n].trim()
    if (line === '') continue
    const kind = headerKind(line)
    if (kind === 'date') date = true
    else if ((kind === 'from' || kind === 'to') && ADDRESS.test(line)) addressed = true
    // A long address list or "[mailto:" breaks a header over lines; prose does not fit.
    else if (!kind && (++wrapped > MOST_WRAPPED_HEADER_LINES || line.length > 80)) break
  }
  return first === 'from' ? date : addressed
}
