/**
 * Opt-out and opt-in keywords in SMS that people send back.
 *
 * Only a message that is the keyword and nothing else counts: "STOP", "Stop !", "arrêt 🙏",
 * "  stop sms." do; "stop calling me at 6pm" or "Please stop" do not, since those are
 * sentences for a person to read, and a gateway that silently unsubscribes on them would lose
 * replies. Case, accents, punctuation, emoji and spacing around or between words are ignored.
 *
 * The lists follow what carriers honour (the CTIA's STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
 * QUIT; France's STOP / ARRET; the Spanish BAJA and ALTO) and their opposites.
 */

export type KeywordAction = 'stop' | 'start'

export interface KeywordMatch {
  action: KeywordAction
  /** The keyword as normalised, e.g. "ARRET" for "Arrêt !". */
  keyword: string
}

const STOP_WORDS = [
  'STOP',
  'STOP SMS',
  'STOPALL',
  'STOP ALL',
  'ARRET',
  'ARRET SMS',
  'ARRETER',
  'DESABONNER',
  'DESABONNEMENT',
  'DESINSCRIPTION',
  'DESINSCRIRE',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'BAJA',
  'ALTO',
]

const START_WORDS = [
  'START',
  'UNSTOP',
  'DEMARRER',
  'YES',
  'SUBSCRIBE',
  'ABONNER',
  'REABONNER',
  'REPRENDRE',
]

const KEYWORDS = new Map<string, KeywordAction>([
  ...STOP_WORDS.map((w): [string, KeywordAction] => [w, 'stop']),
  ...START_WORDS.map((w): [string, KeywordAction] => [w, 'start']),
])

/**
 * Upper case without accents, every run of characters that are not letters or digits (spaces,
 * punctuation, emoji) made one space, and none at either end.
 */
export function normaliseKeywordText(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
}

/** The keyword the whole message is, or null for any other text. */
export function matchKeyword(text: string): KeywordMatch | null {
  // A keyword is a word or two: longer texts are sentences, whatever they contain.
  if (text.length > 40) return null
  const keyword = normaliseKeywordText(text)
  const action = KEYWORDS.get(keyword)
  return action ? { action, keyword } : null
}
