/**
 * Typographic characters that mail clients insert on their own (smart quotes, dashes, ellipsis,
 * non-breaking spaces) have plain equivalents in GSM 03.38. One of them left in the text would
 * make the whole SMS UCS-2, 70 characters per part instead of 160, for no visible gain.
 * Letters are never touched: whether ê costs a UCS-2 SMS is the encoder's decision.
 */

const SINGLE_QUOTES = /[\u2018\u2019\u201a\u201b\u2032\u2039\u203a]/g
const DOUBLE_QUOTES = /[\u201c\u201d\u201e\u201f\u2033]/g
// French puts a (usually non-breaking) space inside « »; once they become " that space would
// read as a stray blank, so it goes with them.
const OPENING_GUILLEMET = /\u00ab[^\S\n]*/g
const DASHES = /[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]/g
const BULLETS = /[\u2022\u2023\u2043\u25aa\u25cf\u25e6]/g
const ELLIPSIS = /\u2026/g
const UNICODE_SPACES = /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g
// Invisible on a phone, yet each one forces UCS-2.
const INVISIBLES = /[\u00ad\u200b\u2060\ufeff]/g
// C0 and C1 controls (stray bytes of a broken encoder, a NUL, an ESC) are invisible too. Tab,
// the line breaks, form feed and NEL are left for normaliseWhitespace, which reads them as
// spacing.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f]/g
// Joiners are part of emoji sequences and of Persian or Indic spelling: drop a run of them only
// where a neighbour is ASCII (or a line break), where it can only be an artefact of editing.
// A run is matched from its first joiner only, so a long run costs linear time, not quadratic.
const ASCII_SIDED_JOINERS =
  /(?<=[\t-\r -~\u0085])[\u200c\u200d]+|(?<![\u200c\u200d])[\u200c\u200d]+(?=[\t-\r -~\u0085]|$)|^[\u200c\u200d]+/gm

// By hand: a regular expression for "spaces before »" retries every space of a long run.
function withoutTrailingSpaces(text: string): string {
  let end = text.length
  while (end > 0 && text[end - 1] !== '\n' && /\s/.test(text[end - 1])) end--
  return text.slice(0, end)
}

/**
 * The order makes one pass enough (mapping the result again changes nothing): what is removed
 * goes before composing, so that `e` + soft hyphen + accent still composes to é; composing goes
 * before the mapping, because it turns a few signs into ASCII (the Kelvin sign into K); joiners
 * go after the mapping, which gives them ASCII neighbours, and their removal can bring a letter
 * and its accent together, hence composing once more.
 */
export function mapTypography(text: string): string {
  return (
    text
      .replace(CONTROLS, '')
      .replace(INVISIBLES, '')
      // A decomposed é (e + combining accent, as some Apple clients send) is not in GSM 03.38,
      // the composed one is; composing keeps every letter as it looks.
      .normalize('NFC')
      .replace(UNICODE_SPACES, ' ')
      .replace(SINGLE_QUOTES, "'")
      .replace(DOUBLE_QUOTES, '"')
      .replace(OPENING_GUILLEMET, '"')
      .split('\u00bb')
      .map((piece, i, pieces) => (i < pieces.length - 1 ? withoutTrailingSpaces(piece) : piece))
      .join('"')
      .replace(DASHES, '-')
      .replace(BULLETS, '-')
      .replace(ELLIPSIS, '...')
      .replace(ASCII_SIDED_JOINERS, '')
      .normalize('NFC')
  )
}
