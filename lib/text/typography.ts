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
// Joiners are part of emoji sequences and of Persian or Indic spelling: drop one only where a
// neighbour is ASCII, where it can only be an artefact of editing.
const ASCII_SIDED_JOINERS =
  /(?<=[\t\n\r -~])[\u200c\u200d]|[\u200c\u200d](?=[\t\n\r -~]|$)|^[\u200c\u200d]/gm

// By hand: a regular expression for "spaces before »" retries every space of a long run.
function withoutTrailingSpaces(text: string): string {
  let end = text.length
  while (end > 0 && text[end - 1] !== '\n' && /\s/.test(text[end - 1])) end--
  return text.slice(0, end)
}

export function mapTypography(text: string): string {
  return (
    text
      // A decomposed é (e + combining accent, as some Apple clients send) is not in GSM 03.38,
      // the composed one is; composing keeps every letter as it looks.
      .normalize('NFC')
      .replace(INVISIBLES, '')
      .replace(ASCII_SIDED_JOINERS, '')
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
  )
}
