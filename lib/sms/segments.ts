/**
 * How a text becomes SMS segments (3GPP TS 23.038 / 23.040).
 *
 * A segment carries 140 octets. Alone, that is 160 septets (GSM-7) or 70 UTF-16 code units
 * (UCS-2). Once a message needs several segments, each one gives 6 octets to the concatenation
 * header, leaving 153 septets or 67 code units. A character is never cut between two segments:
 * the escape and code of a GSM-7 extension character, or the two halves of a surrogate pair,
 * must arrive together or the handset shows garbage. So the count comes from packing the
 * characters one by one, and can exceed ceil(units / 153).
 */

import { encodeGsm7, firstNonGsm7Character, gsm7SeptetLength } from './gsm7'
import { encodeUcs2 } from './ucs2'

export type SmsEncoding = 'gsm7' | 'ucs2'

export interface SmsAnalysis {
  encoding: SmsEncoding
  /** Septets (GSM-7) or UTF-16 code units (UCS-2) of the whole text. */
  units: number
  /** 0 for the empty text. */
  segments: number
  /** 160 or 153 for GSM-7, 70 or 67 for UCS-2. */
  unitsPerSegment: number
  /** Units still free in the last segment; the full single-segment size for the empty text. */
  remainingInLastSegment: number
  /** The first character that forced UCS-2, or null for GSM-7. */
  nonGsmCharacter: string | null
}

export interface EncodedSms {
  encoding: SmsEncoding
  dataCoding: 0x00 | 0x08
  /** One payload per segment, without the concatenation header. */
  parts: Buffer[]
  segments: number
}

const CAPACITY: Record<SmsEncoding, { single: number; concatenated: number }> = {
  gsm7: { single: 160, concatenated: 153 },
  ucs2: { single: 70, concatenated: 67 },
}

const DATA_CODING: Record<SmsEncoding, 0x00 | 0x08> = { gsm7: 0x00, ucs2: 0x08 }

interface Chunk {
  text: string
  units: number
}

interface SegmentPlan {
  encoding: SmsEncoding
  nonGsmCharacter: string | null
  units: number
  unitsPerSegment: number
  chunks: Chunk[]
}

// Iterating by code point keeps each surrogate pair in one piece; its .length is then the number
// of UTF-16 code units it costs.
function unitLength(ch: string, encoding: SmsEncoding): number {
  return encoding === 'gsm7' ? gsm7SeptetLength(ch) : ch.length
}

function packChunks(text: string, encoding: SmsEncoding, capacity: number): Chunk[] {
  const chunks: Chunk[] = []
  let current: Chunk = { text: '', units: 0 }
  for (const ch of text) {
    const length = unitLength(ch, encoding)
    if (current.units + length > capacity) {
      chunks.push(current)
      current = { text: '', units: 0 }
    }
    current.text += ch
    current.units += length
  }
  if (current.text !== '') chunks.push(current)
  return chunks
}

function planSegments(text: string, forced?: SmsEncoding): SegmentPlan {
  const nonGsmCharacter = firstNonGsm7Character(text)
  const encoding: SmsEncoding = forced ?? (nonGsmCharacter === null ? 'gsm7' : 'ucs2')
  const { single, concatenated } = CAPACITY[encoding]
  const unsplit = packChunks(text, encoding, single)
  if (unsplit.length <= 1) {
    const units = unsplit[0]?.units ?? 0
    return { encoding, nonGsmCharacter, units, unitsPerSegment: single, chunks: unsplit }
  }
  const chunks = packChunks(text, encoding, concatenated)
  const units = chunks.reduce((sum, chunk) => sum + chunk.units, 0)
  return { encoding, nonGsmCharacter, units, unitsPerSegment: concatenated, chunks }
}

/** Encoding, size and segment count of `text`, as a composer would show them. */
export function analyseSms(text: string): SmsAnalysis {
  const plan = planSegments(text)
  const last = plan.chunks[plan.chunks.length - 1]
  return {
    encoding: plan.encoding,
    units: plan.units,
    segments: plan.chunks.length,
    unitsPerSegment: plan.unitsPerSegment,
    remainingInLastSegment: plan.unitsPerSegment - (last?.units ?? 0),
    nonGsmCharacter: plan.nonGsmCharacter,
  }
}

/** `text` cut into the segments it will be sent as (no parts for the empty text). */
export function splitSms(text: string): { encoding: SmsEncoding; parts: string[] } {
  const plan = planSegments(text)
  return { encoding: plan.encoding, parts: plan.chunks.map((chunk) => chunk.text) }
}

/**
 * Per-segment payloads for SMPP short_message, with the matching data_coding. The concatenation
 * header is left to the sender, which knows the reference number. The empty text gives no parts:
 * whether an empty SMS may be sent is the caller's decision. `encoding` forces one: 'ucs2' for a
 * GSM-7 text an SMSC cannot take as data_coding 0 (a text outside GSM-7 forced to 'gsm7' throws).
 */
export function encodeSms(text: string, encoding?: SmsEncoding): EncodedSms {
  const plan = planSegments(text, encoding)
  const encode = plan.encoding === 'gsm7' ? encodeGsm7 : encodeUcs2
  const parts = plan.chunks.map((chunk) => encode(chunk.text))
  return {
    encoding: plan.encoding,
    dataCoding: DATA_CODING[plan.encoding],
    parts,
    segments: parts.length,
  }
}
