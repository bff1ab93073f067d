import { unifyLineBreaks } from './normalise'

/**
 * Characters that print nothing on a phone but still reach it: NUL and other C0/C1 controls
 * (stray bytes of a broken encoder, terminal colour codes in a cron job's output), direction
 * overrides, noncharacters, U+FFFD and halves of surrogate pairs. Each one makes the SMS UCS-2
 * and some handsets show them as boxes. Tab and line breaks are kept: they become spaces and
 * lines later. Done before quote stripping, so that a NUL cannot hide an "On … wrote:" line.
 */

// A terminal escape sequence (CSI: ESC [ parameters final-byte, or a two-byte ESC x) goes
// whole: removing the ESC alone would leave "[31m" in the text.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])?/g
// C0 and C1 controls but tab and line feed (line breaks are unified to LF first).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g
// Embeddings, overrides and isolates change how text is laid out, never what it says; in a
// code review they are also the "Trojan Source" trick.
const BIDI_FORMATTING = /[\u202a-\u202e\u2066-\u2069]/g
// Direction marks matter only next to right-to-left letters.
const DIRECTION_MARKS = /[\u200e\u200f\u061c]/g
const RIGHT_TO_LEFT = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]/
// U+FFFD stands for bytes a sender's software already lost; it tells the reader nothing.
const NOT_CHARACTERS = /[\ufdd0-\ufdef\ufff9-\ufffb\ufffd-\uffff]/g
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

export function removeControlCharacters(text: string): string {
  const cleaned = unifyLineBreaks(text)
    .replace(ESCAPE_SEQUENCE, '')
    .replace(CONTROLS, '')
    .replace(BIDI_FORMATTING, '')
    .replace(NOT_CHARACTERS, '')
    .replace(LONE_SURROGATE, '')
  return RIGHT_TO_LEFT.test(cleaned) ? cleaned : cleaned.replace(DIRECTION_MARKS, '')
}
