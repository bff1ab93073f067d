/**
 * "Stay in GSM 03.38": letters the GSM alphabet lacks replaced by the closest ones it has, so an
 * SMS that is UCS-2 for one ê or ç (70 characters per SMS, 67 per part) goes out as GSM-7 (160,
 * 153). An account chooses it; the text as written is otherwise sent untouched.
 *
 * The rule is general rather than a list of French letters: a letter decomposed by Unicode
 * (NFKD) loses its combining marks, and what is left is taken when GSM has it (ê → e, ş → s,
 * ǿ → ø, 𝐁 → B, ﬁ → fi). Letters GSM has are kept as they are, accents included (é è ù ì ò à Ç
 * É Ä Ö Ñ Ü ß Å Æ Ø ä ö ñ ü å æ ø): decomposing them would lose an accent for nothing.
 * Letters whose stroke or shape is not a combining mark (ł, đ, ı, œ…) are in a table.
 *
 * All or nothing: when some character has no GSM equivalent (an emoji, Cyrillic, Arabic, CJK,
 * lower-case Greek), the SMS stays UCS-2 whatever is replaced, and UCS-2 counts UTF-16 units,
 * so replacing ê by e would save nothing and œ by oe would cost one more: the text is then kept
 * exactly as written. So is a text that folding would make longer in SMS (a few ligatures such as
 * ﬃ, one UCS-2 unit and three GSM letters, could): the setting only ever makes an SMS cheaper.
 */

import { firstNonGsm7Character, isGsm7Character } from './gsm7'
import { analyseSms } from './segments'

// Letters whose decomposition leaves no GSM letter: for Unicode a stroke, a bar or a hook is
// part of the letter, not a combining mark. Capitals give capitals (Œ → OE), as in text written
// in capitals, where they are most common.
// prettier-ignore
const LETTERS: Record<string, string> = {
  'Œ': 'OE', 'œ': 'oe', 'Þ': 'TH', 'þ': 'th', 'ẞ': 'SS',
  'Đ': 'D', 'đ': 'd', 'Ð': 'D', 'ð': 'd', 'Ɗ': 'D',
  'Ħ': 'H', 'ħ': 'h', 'ı': 'i', 'Ɨ': 'I',
  'Ł': 'L', 'ł': 'l', 'Ŀ': 'L', 'ŀ': 'l', 'Ƚ': 'L', 'ƚ': 'l',
  'Ŧ': 'T', 'ŧ': 't', 'Ƭ': 'T', 'ƭ': 't', 'Ʈ': 'T', 'Ⱦ': 'T', 'ƫ': 't',
  'Ⱥ': 'A', 'ⱥ': 'a', 'Ƀ': 'B', 'ƀ': 'b', 'Ɓ': 'B', 'Ȼ': 'C', 'ȼ': 'c', 'Ƈ': 'C', 'ƈ': 'c',
  'Ɇ': 'E', 'ɇ': 'e', 'Ƒ': 'F', 'ƒ': 'f', 'Ǥ': 'G', 'ǥ': 'g', 'Ɠ': 'G',
  'Ɉ': 'J', 'ɉ': 'j', 'Ƙ': 'K', 'ƙ': 'k', 'Ɲ': 'N', 'ƞ': 'n', 'Ƥ': 'P', 'ƥ': 'p',
  'Ɍ': 'R', 'ɍ': 'r', 'Ʋ': 'V', 'Ƴ': 'Y', 'ƴ': 'y', 'Ɏ': 'Y', 'ɏ': 'y', 'Ƶ': 'Z', 'ƶ': 'z',
  // The modifier apostrophe some keyboards type, and what ŉ decomposes into.
  'ʼ': "'",
  // Greek capitals that GSM lacks because they look like Latin ones (it has the other ten:
  // Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ); Greek text in GSM-7 is written with these Latin capitals. Lower-case
  // Greek is left alone: μ → M would turn micrograms into megagrams.
  'Α': 'A', 'Β': 'B', 'Ε': 'E', 'Ζ': 'Z', 'Η': 'H', 'Ι': 'I', 'Κ': 'K',
  'Μ': 'M', 'Ν': 'N', 'Ο': 'O', 'Ρ': 'P', 'Τ': 'T', 'Υ': 'Y', 'Χ': 'X',
}

// Not letters, but typed as apostrophes. ASCII and Latin-1, so the typography step, which maps
// what mail clients insert, leaves them alone.
const SIGNS: Record<string, string> = { '`': "'", '´': "'" }

const REPLACEMENTS = new Map<string, string>(Object.entries({ ...LETTERS, ...SIGNS }))

const LETTER = /^\p{L}$/u
const COMBINING_MARKS = /\p{M}/gu
// Nonspacing marks left over after composing (q + tilde has no precomposed form) go with their
// GSM base. Variation selectors are nonspacing marks too, but they pick an emoji's look.
const DROPPABLE_MARK = /^(?![\ufe00-\ufe0f\u{e0100}-\u{e01ef}])\p{Mn}$/u

function knownReplacement(ch: string): string | undefined {
  return isGsm7Character(ch) ? ch : REPLACEMENTS.get(ch)
}

/** The GSM 03.38 text that stands for one character, or null when there is none. */
function foldCharacter(ch: string): string | null {
  const known = knownReplacement(ch)
  if (known !== undefined) return known
  if (!LETTER.test(ch)) return null
  const base = ch.normalize('NFKD').replace(COMBINING_MARKS, '')
  if (base === ch || base === '') return null
  let folded = ''
  for (const piece of base) {
    // Only letters: NFKD turns some presentation forms into a space and a mark, and a space
    // is no stand-in for a letter.
    const replacement = LETTER.test(piece) ? knownReplacement(piece) : undefined
    if (replacement === undefined) return null
    folded += replacement
  }
  return folded
}

export interface GsmFold {
  /** The folded text when every character has a GSM 03.38 equivalent; else the input as is. */
  text: string
  /** Whether `text` is the folded one (false too when there was nothing to fold). */
  folded: boolean
  /** Each distinct replacement made, in order of first appearance. Empty when not folded. */
  replacements: Array<{ from: string; to: string }>
  /** Distinct characters without an equivalent, in order of first appearance: they keep it UCS-2. */
  unfoldable: string[]
}

/** `text` in the GSM 03.38 alphabet if it can be written in it with the closest letters. */
export function foldToGsm7(text: string): GsmFold {
  // Most SMS are GSM-7 already: one table lookup per character says so.
  if (firstNonGsm7Character(text) === null) {
    return { text, folded: false, replacements: [], unfoldable: [] }
  }
  // Composed first, so that e + combining acute stays é (which GSM has) rather than e.
  const composed = text.normalize('NFC')
  let out = ''
  const replacements = new Map<string, string>()
  const unfoldable = new Set<string>()
  let afterGsmLetter = false
  for (const ch of composed) {
    if (afterGsmLetter && DROPPABLE_MARK.test(ch)) {
      replacements.set(ch, '')
      continue
    }
    const folded = foldCharacter(ch)
    if (folded === null) {
      unfoldable.add(ch)
      afterGsmLetter = false
      continue
    }
    if (folded !== ch) replacements.set(ch, folded)
    afterGsmLetter = LETTER.test(ch)
    out += folded
  }
  const unchanged = { text, folded: false, replacements: [], unfoldable: [...unfoldable] }
  if (unfoldable.size > 0 || out === text) return unchanged
  if (analyseSms(out).segments > analyseSms(text).segments) return unchanged
  return {
    text: out,
    folded: true,
    replacements: [...replacements].map(([from, to]) => ({ from, to })),
    unfoldable: [],
  }
}
