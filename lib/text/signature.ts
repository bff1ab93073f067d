import { mapTypography } from './typography'

/**
 * Where the message ends and the signature begins. As the user guide puts it, the account holds
 * the first line of the user's signature and everything from that line on is left out of the
 * SMS; the standard `-- ` delimiter and the footers mobile clients append are cut as well.
 */

// Footers a client adds on its own. Matched only against the last line, and worded narrowly,
// because "Sent from the office" in a real sentence is text to keep.
const MOBILE_FOOTERS = [
  /^(sent|envoyé) (from|de|depuis) (my|mon|ma) \S.{0,40}$/,
  /^(sent from|sent with|envoyé à partir de|envoyé depuis|envoyé de|envoyé avec) (outlook|yahoo|gmail|proton ?mail|samsung|blackberry|mail (for|pour) windows)\b.{0,80}$/,
  /^(get|download|télécharger|obtenir) outlook (for|pour) (ios|android)\b.{0,80}$/,
  /^provenance ?: courrier pour windows\b.{0,80}$/,
]

// A marker matches a line that starts with it only at a word boundary: "Dr" must not cut at
// "Drôle de journée".
const WORD_CHARACTER = /^[\p{L}\p{N}]/u

/** Compare lines the way a reader would: case, spacing and smart quotes don't matter. */
function fold(line: string): string {
  return mapTypography(line).replace(/\s+/g, ' ').trim().toLowerCase()
}

function firstLine(marker: string | null | undefined): string {
  const line = (marker ?? '').split(/\r?\n/).find((l) => fold(l) !== '')
  return line ? fold(line) : ''
}

function isDelimiter(line: string): boolean {
  // `-- ` is the standard; clients and editors that strip trailing spaces leave `--`.
  return line.trim() === '--'
}

function startsWithMarker(folded: string, marker: string): boolean {
  if (!marker || !folded.startsWith(marker)) return false
  const rest = folded.slice(marker.length)
  return !WORD_CHARACTER.test(rest) || !WORD_CHARACTER.test(marker.slice(-1))
}

function withoutMobileFooters(lines: string[]): string[] {
  const kept = [...lines]
  for (;;) {
    while (kept.length > 0 && fold(kept[kept.length - 1]) === '') kept.pop()
    if (kept.length === 0) return kept
    const last = fold(kept[kept.length - 1])
    if (!MOBILE_FOOTERS.some((footer) => footer.test(last))) return kept
    kept.pop()
  }
}

export function cutAtSignature(text: string, marker?: string | null): string {
  const lines = text.split(/\r?\n/)
  const folded = firstLine(marker)
  const cut = lines.findIndex((line) => isDelimiter(line) || startsWithMarker(fold(line), folded))
  const body = cut === -1 ? lines : lines.slice(0, cut)
  return withoutMobileFooters(body).join('\n')
}
