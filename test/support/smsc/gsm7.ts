/**
 * GSM 03.38 default alphabet, one septet per octet (the "unpacked" form SMPP carries with
 * data_coding 0). Written here rather than imported from lib/sms so that the simulator checks
 * the product's encoder against an independent table.
 */

const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'

const ESCAPE = 0x1b

/** Septet after ESC → character, from the GSM 03.38 extension table. */
const EXTENSION: ReadonlyMap<number, string> = new Map([
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
])

const BASIC_BY_CHAR = new Map([...BASIC].map((char, septet) => [char, septet]))
const EXTENSION_BY_CHAR = new Map([...EXTENSION].map(([septet, char]) => [char, septet]))

/**
 * Decodes unpacked septets. Octets above 0x7f and an ESC with nothing after it are not valid
 * GSM 03.38 and become U+FFFD, so a sender's bug shows in the text instead of vanishing. An
 * ESC before a septet the extension table lacks shows the basic character, as 03.38 says.
 */
export function decodeGsm7(septets: Uint8Array): string {
  let text = ''
  for (let i = 0; i < septets.length; i++) {
    const septet = septets[i]
    if (septet > 0x7f) {
      text += '\ufffd'
    } else if (septet !== ESCAPE) {
      text += BASIC[septet]
    } else if (i + 1 >= septets.length) {
      text += '\ufffd'
    } else {
      const next = septets[++i]
      text += EXTENSION.get(next) ?? (next === ESCAPE || next > 0x7f ? '\ufffd' : BASIC[next])
    }
  }
  return text
}

/** Encodes text as unpacked septets; throws on a character the default alphabet lacks. */
export function encodeGsm7(text: string): Buffer {
  const septets: number[] = []
  for (const char of text) {
    const basic = char === '\x1b' ? undefined : BASIC_BY_CHAR.get(char)
    if (basic !== undefined) {
      septets.push(basic)
      continue
    }
    const extension = EXTENSION_BY_CHAR.get(char)
    if (extension === undefined) {
      throw new Error(`not in the GSM 03.38 alphabet: U+${char.codePointAt(0)?.toString(16)}`)
    }
    septets.push(ESCAPE, extension)
  }
  return Buffer.from(septets)
}
