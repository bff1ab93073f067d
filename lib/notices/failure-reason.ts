import { describeStatus, statusName } from '../smpp/status'
import {
  partsDiagnostic,
  partsLines,
  summariseParts,
  type MissedKind,
  type PartsReport,
  type PartsSummary,
} from './part-outcomes'

/**
 * What became of an SMS for good, as outbound_sms.status records it, when its sender is told.
 * Not 'unknown' (no final receipt): nothing is known to have failed, so no notice is sent.
 */
export type FailedStatus = 'failed' | 'undeliverable' | 'expired' | 'partial'

/** Why an SMS failed, in plain words for its sender and in DSN terms for their mail system. */
export interface FailureReason {
  fr: string
  en: string
  /** RFC 3463 enhanced status code, always permanent (5.x.x): the gateway gave up. */
  status: string
  /** The carrier's own words, for the Diagnostic-Code field and the technical detail line. */
  diagnostic: string
  /** For a partly delivered SMS: which parts arrived and which did not and why, as lines. */
  parts?: { fr: string[]; en: string[]; summary: PartsSummary }
}

interface Wording {
  fr: string
  en: string
  status: string
}

const INVALID_DESTINATION: Wording = {
  fr: 'numéro de destination invalide ou inconnu',
  en: 'invalid or unknown destination number',
  status: '5.1.1',
}
const INVALID_SOURCE: Wording = {
  fr: "nom d'émetteur ou numéro d'expéditeur refusé par l'opérateur",
  en: 'sender name or number refused by the carrier',
  status: '5.1.7',
}
const BAD_CONTENT: Wording = {
  fr: "message refusé par l'opérateur (longueur ou codage)",
  en: 'message refused by the carrier (length or encoding)',
  status: '5.6.0',
}
const BARRED: Wording = {
  fr: "envoi interdit par l'opérateur vers ce numéro",
  en: 'the carrier does not allow sending to this number',
  status: '5.7.1',
}
const REFUSED: Wording = {
  fr: "SMS refusé par l'opérateur",
  en: 'SMS refused by the carrier',
  status: '5.3.0',
}
const UNDELIVERABLE: Wording = {
  fr: "le téléphone n'a pas pu recevoir le SMS (numéro hors service, injoignable ou refusé par le réseau)",
  en: 'the phone could not receive the SMS (number out of service, unreachable or refused by the network)',
  status: '5.4.0',
}
const EXPIRED_UNDELIVERED: Wording = {
  fr: 'délai dépassé : le téléphone est resté éteint ou hors réseau trop longtemps',
  en: 'expired: the phone stayed switched off or out of coverage for too long',
  status: '5.4.7',
}
const PARTLY_DELIVERED = {
  fr: "le destinataire n'a reçu qu'une partie du SMS",
  en: 'the recipient received only part of the SMS',
}
const EXPIRED_UNSENT: Wording = {
  fr: "délai dépassé : l'opérateur n'a pas pu prendre le SMS en charge à temps",
  en: 'expired: the carrier could not take the SMS in time',
  status: '5.4.7',
}

/** SMPP command_status values of a refused submit_sm, grouped by what the sender can do. */
const BY_SUBMIT_STATUS = new Map<number, Wording>([
  [0x000b, INVALID_DESTINATION], // ESME_RINVDSTADR
  [0x0050, INVALID_DESTINATION], // ESME_RINVDSTTON
  [0x0051, INVALID_DESTINATION], // ESME_RINVDSTNPI
  [0x0106, INVALID_DESTINATION], // ESME_RINVDSTADDRSUBUNIT
  [0x000a, INVALID_SOURCE], // ESME_RINVSRCADR
  [0x0048, INVALID_SOURCE], // ESME_RINVSRCTON
  [0x0049, INVALID_SOURCE], // ESME_RINVSRCNPI
  [0x0105, INVALID_SOURCE], // ESME_RINVSRCADDRSUBUNIT
  [0x0001, BAD_CONTENT], // ESME_RINVMSGLEN
  [0x0104, BAD_CONTENT], // ESME_RINVDCS
  [0x0043, BAD_CONTENT], // ESME_RINVESMCLASS
  [0x0100, BARRED], // ESME_RSERTYPUNAUTH
  [0x0101, BARRED], // ESME_RPROHIBITED
  [0x0103, BARRED], // ESME_RSERTYPDENIED
  [0x0065, BARRED], // ESME_RX_P_APPN
  [0x0066, BARRED], // ESME_RX_R_APPN
])

/** How a submit refused with this SMPP status reads to a person; null for a status without words. */
export function submitRefusalWording(code: number): { fr: string; en: string } | null {
  const wording = BY_SUBMIT_STATUS.get(code)
  return wording ? { fr: wording.fr, en: wording.en } : null
}

/** The failure as the worker recorded it on the SMS row. */
export interface RecordedFailure {
  status: FailedStatus
  /** SMPP command_status of a refused submit; null for receipts and expiry. */
  errorCode: number | null
  lastError: string | null
  /** For 'partial': what became of each part (outbound_sms_parts). */
  parts?: PartsReport
}

/** Why the first part that did not arrive failed, as the whole SMS would have for that reason. */
function partialStatus(kind: MissedKind | undefined, errorCode: number | null): string {
  if (kind === 'refused') {
    return (errorCode !== null && BY_SUBMIT_STATUS.get(errorCode)?.status) || REFUSED.status
  }
  if (kind === 'expired') return EXPIRED_UNDELIVERED.status
  return UNDELIVERABLE.status
}

/**
 * A partly delivered SMS: one status code, the one the first missing part's failure would give
 * the whole SMS (RFC 3463 has no code for "part of the message"; the DSN's Action is 'failed'
 * since the recipient does not have the text as sent), and which parts arrived, in words.
 */
function partialReason(failure: RecordedFailure): FailureReason {
  const words = failure.lastError?.replace(/[\r\n]+/g, ' ').trim() ?? ''
  if (!failure.parts || failure.parts.count < 1) {
    // Parts unknown to the caller: still a notice, without the list.
    return { ...PARTLY_DELIVERED, status: UNDELIVERABLE.status, diagnostic: words || 'partial' }
  }
  const summary = summariseParts(failure.parts)
  // The refusal of a part at submit is kept on the SMS: its SMPP status, or the worker's words.
  const carrierWords = words && !/^(receipt|expired)\b/.test(words) ? words.slice(0, 120) : null
  const refusal = failure.errorCode !== null ? statusName(failure.errorCode) : carrierWords
  const technical = failure.errorCode !== null ? describeStatus(failure.errorCode) : carrierWords
  return {
    ...PARTLY_DELIVERED,
    status: partialStatus(summary.missed[0]?.kind, failure.errorCode),
    diagnostic: partsDiagnostic(summary, technical),
    parts: {
      fr: partsLines(summary, refusal, 'fr'),
      en: partsLines(summary, refusal, 'en'),
      summary,
    },
  }
}

/**
 * Reads the worker's record of a failure: an SMPP status of a refused submit, a delivery
 * receipt's final state, or an expiry. Unknown carrier codes still give a sentence; the exact
 * code goes in the diagnostic.
 */
export function failureReason(failure: RecordedFailure): FailureReason {
  const detail = failure.lastError?.trim() ?? ''
  if (failure.status === 'partial') return partialReason(failure)
  if (failure.status === 'undeliverable') {
    return { ...UNDELIVERABLE, diagnostic: detail || 'receipt: undeliverable' }
  }
  if (failure.status === 'expired') {
    // Expired before the carrier took it (never submitted, or retried until too old), or
    // after it: the receipt said so.
    const wording = /^receipt:/.test(detail) ? EXPIRED_UNDELIVERED : EXPIRED_UNSENT
    return { ...wording, diagnostic: detail || 'expired' }
  }
  if (failure.errorCode !== null) {
    const wording = BY_SUBMIT_STATUS.get(failure.errorCode) ?? REFUSED
    return { ...wording, diagnostic: describeStatus(failure.errorCode) }
  }
  return { ...REFUSED, diagnostic: detail || 'failed' }
}
