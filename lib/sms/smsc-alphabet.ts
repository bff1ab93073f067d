/**
 * Outbound text for an SMSC whose data_coding 0 is not GSM 03.38.
 *
 * SMPP 3.4 §5.2.19 leaves data_coding 0 to "the SMSC default alphabet", and many carriers take it
 * as ISO-8859-1 or plain ASCII, converting to GSM 03.38 themselves for the air interface. The
 * segments on the air are then the GSM ones, so the text keeps the split our GSM counting made
 * and only the octets of each part change: one octet per character, an extension character
 * ([ ] { } ^ ~ \ | €, form feed) included. A GSM-7 text with a character the SMSC's alphabet
 * lacks (€ and the Greek capitals in Latin-1; anything past 0x7F in ASCII) cannot be written as
 * data_coding 0 at all and goes out in UCS-2, split again for 70/67 characters.
 */

import { encodeSms, splitSms, type EncodedSms } from './segments'

/** What data_coding 0 means to the SMSC (smpp.default_alphabet). */
export type SmscAlphabet = 'gsm' | 'latin1' | 'ascii'

// Latin-1 octets are the first 256 Unicode code points, ASCII the first 128.
const HIGHEST_CODE_POINT: Record<Exclude<SmscAlphabet, 'gsm'>, number> = {
  latin1: 0xff,
  ascii: 0x7f,
}

function fitsAlphabet(text: string, highest: number): boolean {
  for (const ch of text) {
    if ((ch.codePointAt(0) ?? 0) > highest) return false
  }
  return true
}

/** Per-segment payloads and data_coding for an SMSC with this default alphabet. */
export function encodeSmsForSmsc(text: string, alphabet: SmscAlphabet): EncodedSms {
  const encoded = encodeSms(text)
  if (alphabet === 'gsm' || encoded.encoding === 'ucs2') return encoded
  if (!fitsAlphabet(text, HIGHEST_CODE_POINT[alphabet])) return encodeSms(text, 'ucs2')
  const parts = splitSms(text).parts.map((part) => Buffer.from(part, 'latin1'))
  return { ...encoded, parts }
}
