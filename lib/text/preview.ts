import { analyseSms, foldToGsm7, isGsm7Character } from '../sms'
import { plainTextToSmsText } from './sms-text'

export interface PreviewAccount {
  signatureMarker: string | null
  segmentCap: number
  /** "Stay in GSM 03.38": which of the two versions the MX sends. */
  gsmOnly: boolean
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

/** One version of the SMS (as written, or in GSM 03.38) and what it costs. */
export interface SmsVersion {
  text: string
  encoding: 'GSM-7' | 'UCS-2'
  segments: number
  /** Characters (code points) of the SMS text. */
  characters: number
  /** What the segments count: septets for GSM-7 (extension characters cost two), UTF-16 units. */
  units: number
  /** 160 or 153 for GSM-7, 70 or 67 for UCS-2. */
  perSegment: number
  /** More segments than the account's cap: the MX would refuse the mail if it sent this one. */
  overCap: boolean
  /** Distinct, in order of first appearance. */
  ucs2Culprits: Ucs2Culprit[]
  pieces: PreviewPiece[]
}

export interface SmsPreview {
  /** The SMS text as the sender wrote it, once quotes, signature and typography are dealt with. */
  written: SmsVersion
  /**
   * The same text kept in GSM 03.38 (ê → e). Equal to `written` when folding changes nothing:
   * already GSM-7, a character without equivalent (then listed in `unfoldable`), or longer.
   */
  gsm: SmsVersion
  /** Whether `gsm` differs from `written`. */
  folded: boolean
  /** The letters replaced in `gsm`, in order of first appearance. */
  replacements: Array<{ from: string; to: string }>
  /** Characters GSM has no equivalent for, which keep the text in UCS-2 and as written. */
  unfoldable: Ucs2Culprit[]
  /** Which version the MX sends: the account's "stay in GSM" setting decides. */
  sends: 'written' | 'gsm'
  segmentCap: number
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

function describeVersion(text: string, segmentCap: number): SmsVersion {
  const analysis = analyseSms(text)
  const { culprits, pieces } = findCulprits(text)
  return {
    text,
    encoding: analysis.encoding === 'gsm7' ? 'GSM-7' : 'UCS-2',
    segments: analysis.segments,
    characters: [...text].length,
    units: analysis.units,
    perSegment: analysis.unitsPerSegment,
    overCap: analysis.segments > segmentCap,
    ucs2Culprits: culprits,
    pieces,
  }
}

/**
 * The SMS the gateway would send for a pasted email body, and what it costs: the MX's own
 * steps for a plain-text mail (plainTextToSmsText, then foldToGsm7), so the admin sees what the
 * MX will send. Both versions are described whatever the account's setting, so the admin sees
 * what staying in GSM would save, or what it costs in letters.
 */
export function previewSms(emailText: string, account: PreviewAccount): SmsPreview {
  const text = plainTextToSmsText(emailText, { signatureMarker: account.signatureMarker })
  const fold = foldToGsm7(text)
  const written = describeVersion(text, account.segmentCap)
  const gsm = fold.folded ? describeVersion(fold.text, account.segmentCap) : written
  return {
    written,
    gsm,
    folded: fold.folded,
    replacements: fold.replacements,
    unfoldable: written.ucs2Culprits.filter((c) => fold.unfoldable.includes(c.char)),
    sends: account.gsmOnly ? 'gsm' : 'written',
    segmentCap: account.segmentCap,
    empty: text === '',
  }
}
