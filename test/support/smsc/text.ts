import { decodeGsm7, encodeGsm7 } from './gsm7'

export type MoEncoding = 'gsm7' | 'ucs2' | 'latin1'

export const DATA_CODING: Readonly<Record<MoEncoding, number>> = {
  gsm7: 0x00,
  latin1: 0x03,
  ucs2: 0x08,
}

/**
 * UCS-2 (in practice UTF-16) big-endian. A lone surrogate or an odd trailing octet becomes
 * U+FFFD: a pair split across two segments is a sender bug and must not be healed by joining
 * the decoded parts.
 */
export function decodeUcs2(bytes: Uint8Array): string {
  const units: number[] = []
  for (let i = 0; i + 1 < bytes.length; i += 2) units.push((bytes[i] << 8) | bytes[i + 1])
  let text = ''
  for (let i = 0; i < units.length; i++) {
    const unit = units[i]
    const isHigh = unit >= 0xd800 && unit <= 0xdbff
    const isLow = unit >= 0xdc00 && unit <= 0xdfff
    const next = units[i + 1]
    if (isHigh && next !== undefined && next >= 0xdc00 && next <= 0xdfff) {
      text += String.fromCharCode(unit, next)
      i++
    } else {
      text += isHigh || isLow ? '\ufffd' : String.fromCharCode(unit)
    }
  }
  return bytes.length % 2 === 1 ? text + '\ufffd' : text
}

export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16()
}

/**
 * Text of a message body by data_coding: 0x00 and 0xF0–0xF3 GSM 03.38 septets, 0x01 IA5,
 * 0x03 Latin-1, 0x08 UCS-2. Anything else (binary, Cyrillic, ...) is shown as Latin-1.
 */
export function decodeText(dataCoding: number, bytes: Uint8Array): string {
  if (dataCoding === 0x00 || (dataCoding & 0xfc) === 0xf0) return decodeGsm7(bytes)
  if (dataCoding === 0x08) return decodeUcs2(bytes)
  return Buffer.from(bytes).toString('latin1')
}

export function encodeText(text: string, encoding: MoEncoding): Buffer {
  if (encoding === 'gsm7') return encodeGsm7(text)
  if (encoding === 'ucs2') return encodeUcs2(text)
  const bytes = Buffer.from(text, 'latin1')
  if (bytes.toString('latin1') !== text) throw new Error(`not Latin-1: ${JSON.stringify(text)}`)
  return bytes
}
