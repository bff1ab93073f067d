/**
 * UTF-7 (RFC 2152), the charset some old clients and gateways still label text bodies with.
 * mailparser will not decode it (in a browser, `+ADw-script+AD4-` turns into `<script>`, which
 * matters to webmail, not to an SMS) and leaves the `+…-` runs as they are.
 *
 * Outside a shifted run every byte is itself. `+` opens a run of modified base64 (no `=`
 * padding) holding UTF-16 code units; the first character outside the alphabet closes it, and
 * is dropped when it is `-`. `+-` is a literal `+`. Bits left over at the end of a run (fewer
 * than 16) are padding (§ "Rules for encoding", rule 2).
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const SEXTET = new Map([...ALPHABET].map((c, i) => [c.charCodeAt(0), i]))
const PLUS = 0x2b
const MINUS = 0x2d
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Decodes one shifted run starting after its `+`; returns the text and where the run ends. */
function shifted(bytes: Uint8Array, from: number): { text: string; end: number } {
  const units: number[] = []
  let bits = 0
  let bitCount = 0
  let i = from
  for (; i < bytes.length; i++) {
    const sextet = SEXTET.get(bytes[i])
    if (sextet === undefined) break
    bits = ((bits << 6) | sextet) & 0xffffff
    bitCount += 6
    if (bitCount >= 16) {
      bitCount -= 16
      units.push((bits >> bitCount) & 0xffff)
    }
  }
  if (bytes[i] === MINUS) i++
  let text = ''
  // In slices: a spread of a very long run would exceed the engine's argument limit.
  for (let at = 0; at < units.length; at += 8192)
    text += String.fromCharCode(...units.slice(at, at + 8192))
  return { text, end: i }
}

export function decodeUtf7(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  while (i < bytes.length) {
    const plus = bytes.indexOf(PLUS, i)
    const end = plus === -1 ? bytes.length : plus
    // Direct characters are ASCII; an 8-bit byte breaks the charset, and reading it as Latin-1
    // keeps the sender's letter more often than any other guess.
    out += Buffer.from(bytes.subarray(i, end)).toString('latin1')
    if (plus === -1) break
    if (bytes[plus + 1] === MINUS) {
      out += '+'
      i = plus + 2
      continue
    }
    const run = shifted(bytes, plus + 1)
    out += run.text
    i = run.end
  }
  // A run cut short can leave half a surrogate pair: no character, so it goes.
  return out.replace(LONE_SURROGATE, '')
}
