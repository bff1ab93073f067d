import { decodeUtf7 } from './utf7'

/**
 * Charsets as real mail uses them rather than as it declares them. Text with 8-bit bytes and no
 * charset, or labelled UTF-8, ASCII or Latin-1, is in practice UTF-8 or Windows-1252 (Outlook
 * and old scripts write the latter whatever the label says). Decoding it strictly by its label
 * turns every accented letter into U+FFFD, which also forces the whole SMS into UCS-2.
 *
 * So for those labels: every well-formed UTF-8 sequence is read as UTF-8 and every other 8-bit
 * byte as Windows-1252, byte by byte, so a Latin-1 body with a UTF-8 signature (or the reverse)
 * keeps both. Pure Latin-1 text almost never forms UTF-8 sequences by chance: that would need
 * a letter such as "Ã" directly followed by a C1 or symbol byte.
 */

// Windows-1252 at 0x80..0x9F as the WHATWG Encoding Standard maps it; the five unassigned
// bytes stay C1 controls, which the text step removes. 0xA0..0xFF are Latin-1.
// prettier-ignore
const WINDOWS_1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021,
  0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
  0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
]

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

function windows1252(byte: number): string {
  return String.fromCharCode(byte >= 0x80 && byte < 0xa0 ? WINDOWS_1252_C1[byte - 0x80] : byte)
}

const isContinuation = (b: number | undefined): boolean => b !== undefined && (b & 0xc0) === 0x80

/**
 * Length of the well-formed UTF-8 sequence at `i` (RFC 3629 § 4), or 0. The second byte's
 * range excludes overlong forms, surrogates and code points past U+10FFFF.
 */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i]
  const second = bytes[i + 1]
  let length: number
  let low = 0x80
  let high = 0xbf
  if (lead >= 0xc2 && lead <= 0xdf) length = 2
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3
    if (lead === 0xe0) low = 0xa0
    if (lead === 0xed) high = 0x9f
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4
    if (lead === 0xf0) low = 0x90
    if (lead === 0xf4) high = 0x8f
  } else return 0
  if (second === undefined || second < low || second > high) return 0
  for (let k = 2; k < length; k++) if (!isContinuation(bytes[i + k])) return 0
  return length
}

/** UTF-8 where the bytes are UTF-8, Windows-1252 for every byte that is not. */
export function decodeUtf8OrWindows1252(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    // Not UTF-8 throughout: sorted out sequence by sequence below.
  }
  const parts: string[] = []
  let run = 0
  let i = 0
  while (i < bytes.length) {
    if (bytes[i] < 0x80) {
      i++
      continue
    }
    const length = utf8SequenceLength(bytes, i)
    if (length > 0) {
      i += length
      continue
    }
    parts.push(Buffer.from(bytes.subarray(run, i)).toString('utf8'), windows1252(bytes[i]))
    i++
    run = i
  }
  parts.push(Buffer.from(bytes.subarray(run)).toString('utf8'))
  return parts.join('')
}

/** How a label is compared: case, dashes, underscores and dots do not matter. */
function canonical(label: string): string {
  return label.toLowerCase().replace(/[^a-z0-9]/g, '')
}

// No label, or one that the bytes so often contradict that it is read as a hint.
const UNTRUSTED_LABELS = new Set([
  '',
  'utf8',
  'unicode11utf8',
  'usascii',
  'ascii',
  'csascii',
  'iso646us',
  'ansix341968',
  'latin1',
  'l1',
  'iso88591',
  'iso885911987',
  'isoir100',
  'csisolatin1',
  'cp819',
  'ibm819',
  'windows1252',
  'cp1252',
  'xcp1252',
])
const UTF7_LABELS = new Set(['utf7', 'unicode11utf7', 'csunicode11utf7'])

/**
 * A text body's bytes to text by our rules, or null for a label we leave to the parser
 * (Shift_JIS, ISO-2022-JP, KOI8-R… are decoded by their label).
 */
export function decodeTextBody(bytes: Uint8Array, charset: string | undefined): string | null {
  const label = canonical(charset ?? '')
  if (UTF7_LABELS.has(label)) return decodeUtf7(bytes)
  if (UNTRUSTED_LABELS.has(label)) return decodeUtf8OrWindows1252(bytes)
  return null
}

/**
 * A header line as the parser holds it (one char per byte) whose 8-bit bytes are not UTF-8,
 * re-encoded as the UTF-8 bytes of its Windows-1252 reading, so that the parser's own UTF-8
 * decoding gives letters instead of U+FFFD. Lines that are ASCII or UTF-8 are returned as is.
 */
export function repairHeaderLine(binaryLine: string): string {
  if (!/[\x80-\xff]/.test(binaryLine)) return binaryLine
  const bytes = Buffer.from(binaryLine, 'latin1')
  const text = decodeUtf8OrWindows1252(bytes)
  return Buffer.from(text, 'utf8').toString('latin1')
}
