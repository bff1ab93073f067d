/**
 * Whitespace as a phone shows it. Every character costs part of an SMS, and blank runs, trailing
 * blanks or indentation only push the message into one more part.
 *
 * Paragraph breaks are kept as one blank line rather than folded into a plain line break: mail
 * text is often hard-wrapped, so without the blank line a greeting, the body and the sign-off
 * would merge into one block that no longer shows where a paragraph ends. One blank line costs
 * a single character.
 */

// NEL (U+0085) is the line break of EBCDIC systems, found in mail decoded from Latin-1.
const LINE_BREAKS = /\r\n|[\r\u0085\u2028\u2029\v\f]/g
// Any whitespace but the line feed: tabs and every Unicode space.
const HORIZONTAL_SPACE = /[^\S\n]+/g
const BLANK_RUNS = /\n{3,}/g

/** Every line break a text may use (CRLF, CR, NEL, the Unicode separators, VT, FF) as LF. */
export function unifyLineBreaks(text: string): string {
  return text.replace(LINE_BREAKS, '\n')
}

export function normaliseWhitespace(text: string): string {
  return unifyLineBreaks(text)
    .split('\n')
    .map((line) => line.replace(HORIZONTAL_SPACE, ' ').trim())
    .join('\n')
    .replace(BLANK_RUNS, '\n\n')
    .trim()
}
