/**
 * GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
 *
 * SMPP data_coding 0x00 carries this alphabet unpacked: one octet per septet, high bit clear.
 * Characters of the extension table take two septets, the escape 0x1B followed by their code.
 */

export const GSM7_ESCAPE = 0x1b

// Indexed by septet value. 0x1B is the escape, not a character: the placeholder is never matched
// because the reverse map below skips it.
const BASIC_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'

const EXTENSION_TABLE: ReadonlyArray<readonly [number, string]> = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
]

// A typo in the table literal would shift every later character: fail at load, not on the air.
if (BASIC_TABLE.length !== 128) {
  throw new Error(`GSM 03.38 basic table has ${BASIC_TABLE.length} entries instead of 128`)
}

const BASIC_CODES = new Map<string, number>()
for (let code = 0; code < BASIC_TABLE.length; code++) {
  if (code !== GSM7_ESCAPE) BASIC_CODES.set(BASIC_TABLE[code], code)
}

const EXTENSION_CODES = new Map<string, number>(EXTENSION_TABLE.map(([code, ch]) => [ch, code]))
const EXTENSION_CHARS = new Map<number, string>(EXTENSION_TABLE)

/** True when `ch` is exactly one character of the default alphabet or its extension table. */
export function isGsm7Character(ch: string): boolean {
  return BASIC_CODES.has(ch) || EXTENSION_CODES.has(ch)
}

/**
 * Septets `ch` costs in a GSM-7 message: 1 for the default alphabet, 2 for the extension table
 * (escape + code). Returns 0 for anything that GSM-7 cannot carry, so callers can test and count
 * with one lookup; a 0 means the whole message has to go out as UCS-2.
 */
export function gsm7SeptetLength(ch: string): number {
  if (BASIC_CODES.has(ch)) return 1
  if (EXTENSION_CODES.has(ch)) return 2
  return 0
}

/** The first character (a whole code point, so an emoji is not cut in half) GSM-7 cannot carry. */
export function firstNonGsm7Character(text: string): string | null {
  for (const ch of text) {
    if (!isGsm7Character(ch)) return ch
  }
  return null
}

function describeCodePoint(ch: string): string {
  const hex = (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')
  return `U+${hex}`
}

/**
 * Unpacked septets of `text`, one octet each, as SMPP data_coding 0x00 expects.
 * Throws a RangeError naming the first character outside the alphabet: silently substituting
 * it would deliver a different message than the one the sender wrote.
 */
export function encodeGsm7(text: string): Buffer {
  const septets: number[] = []
  let offset = 0
  for (const ch of text) {
    const basic = BASIC_CODES.get(ch)
    const extension = basic === undefined ? EXTENSION_CODES.get(ch) : undefined
    if (basic !== undefined) {
      septets.push(basic)
    } else if (extension !== undefined) {
      septets.push(GSM7_ESCAPE, extension)
    } else {
      throw new RangeError(
        `Character "${ch}" (${describeCodePoint(ch)}) at index ${offset} is not in the GSM 03.38 alphabet`,
      )
    }
    offset += ch.length
  }
  return Buffer.from(septets)
}

/**
 * Text of unpacked septets. Tolerant, because this reads what SMSCs send back (delivery
 * receipts, MO messages): the high bit is ignored, an escape followed by a code that the
 * extension table lacks shows the default-alphabet character (TS 23.038 says so), and a
 * double escape or a dangling escape at the end shows a space (the spec's fallback for an
 * escape a receiver cannot interpret).
 */
export function decodeGsm7(bytes: Buffer): string {
  let text = ''
  for (let i = 0; i < bytes.length; i++) {
    const code = bytes[i] & 0x7f
    if (code !== GSM7_ESCAPE) {
      text += BASIC_TABLE[code]
      continue
    }
    i++
    const next = i < bytes.length ? bytes[i] & 0x7f : GSM7_ESCAPE
    if (next === GSM7_ESCAPE) {
      text += ' '
    } else {
      text += EXTENSION_CHARS.get(next) ?? BASIC_TABLE[next]
    }
  }
  return text
}
