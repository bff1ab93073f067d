import { analyseSms, isGsm7Character } from '../sms'
import { plainTextToSmsText } from './sms-text'

export interface PreviewAccount {
  signatureMarker: string | null
  segmentCap: number
}

/** A character GSM 03.38 cannot carry, which makes the whole SMS UCS-2. */
export interface Ucs2Culprit {
  char: string
  /** `U+00EA`: some culprits (joiners, variation selectors) are invisible on their own. */
  codePoint: string
  /** Where it first appears in the SMS text, counted in characters (code points) from 0. */
  position: number
}

/** The SMS text cut into runs, so a page can highlight the culprits without parsing again. */
export interface PreviewPiece {
  text: string
  ucs2: boolean
}

export interface SmsPreview {
  text: string
  encoding: 'GSM-7' | 'UCS-2'
  segments: number
  /** Characters (code points) of the SMS text. */
  characters: number
  /** What the segments count: septets for GSM-7 (extension characters cost two), UTF-16 units. */
  units: number
  /** 160 or 153 for GSM-7, 70 or 67 for UCS-2. */
  perSegment: number
  segmentCap: number
  overCap: boolean
  /** Distinct, in order of first appearance. */
  ucs2Culprits: Ucs2Culprit[]
  pieces: PreviewPiece[]
  /** Nothing left to send: the MX would refuse this mail. */
  empty: boolean
}

function codePointOf(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

function findCulprits(text: string): { culprits: Ucs2Culprit[]; pieces: PreviewPiece[] } {
  const culprits: Ucs2Culprit[] = []
  const pieces: PreviewPiece[] = []
  let position = 0
  for (const ch of text) {
    const ucs2 = !isGsm7Character(ch)
    if (ucs2 && !culprits.some((c) => c.char === ch)) {
      culprits.push({ char: ch, codePoint: codePointOf(ch), position })
    }
    const last = pieces[pieces.length - 1]
    if (last && last.ucs2 === ucs2) last.text += ch
    else pieces.push({ text: ch, ucs2 })
    position++
  }
  return { culprits, pieces }
}

/**
 * The SMS the gateway would send for a pasted email body, and what it costs: the MX's own
 * steps for a plain-text mail (plainTextToSmsText), so the admin sees what the MX will send.
 */
export async function previewSms(emailText: string, account: PreviewAccount): Promise<SmsPreview> {
  const text = await plainTextToSmsText(emailText, { signatureMarker: account.signatureMarker })
  const analysis = analyseSms(text)
  const { culprits, pieces } = findCulprits(text)
  return {
    text,
    encoding: analysis.encoding === 'gsm7' ? 'GSM-7' : 'UCS-2',
    segments: analysis.segments,
    characters: [...text].length,
    units: analysis.units,
    perSegment: analysis.unitsPerSegment,
    segmentCap: account.segmentCap,
    overCap: analysis.segments > account.segmentCap,
    ucs2Culprits: culprits,
    pieces,
    empty: text === '',
  }
}
