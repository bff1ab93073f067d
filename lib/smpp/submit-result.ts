/**
 * What the client is asked to send and what it says back: per part for the worker, which
 * retries only the parts not settled, and per SMS for callers that want all or nothing.
 */

import type { SmsEncoding } from '../sms'
import { SmppSubmitError } from './errors'
import type { SubmitMessage } from './submit'

/** One SMS to submit, as the worker retries it: only the parts not settled on an earlier try. */
export interface SubmitRequest extends SubmitMessage {
  /**
   * Concatenation reference (1..255) for UDH or SAR. The worker gives the same one on every try
   * of one SMS, so that parts sent on different tries still join up on the handset.
   */
  reference?: number
  /** 1-based parts the SMSC already accepted, or refused for good, on an earlier try. */
  skipParts?: ReadonlySet<number>
}

/** What became of one part on this try. */
export type PartOutcome =
  { part: number; messageId: string } | { part: number; error: SmppSubmitError }

export interface PartsResult {
  /** The parts tried this time (skipped ones are absent), in part order. */
  outcomes: PartOutcome[]
  /** submit_sm PDUs the whole SMS takes: the segments, or 1 with message_payload. */
  parts: number
  segments: number
  encoding: SmsEncoding
}

export interface SubmitResult {
  /** The SMSC's message_id for each submit_sm, in part order, as it gave them. */
  messageIds: string[]
  /** submit_sm PDUs sent: the segments, or 1 with message_payload. */
  parts: number
  /** Segments the recipient is billed for and sees. */
  segments: number
  encoding: SmsEncoding
}

/**
 * The whole SMS's result when every part was accepted; else throws SmppSubmitError naming the
 * first reason (a permanent one before any other), with the ids of the parts accepted.
 */
export function wholeSmsResult(result: PartsResult): SubmitResult {
  const failures = result.outcomes.flatMap((o) => ('error' in o ? [o.error] : []))
  const accepted = result.outcomes.flatMap((o) => ('messageId' in o ? [o.messageId] : []))
  if (failures.length === 0) {
    return {
      messageIds: accepted,
      parts: result.parts,
      segments: result.segments,
      encoding: result.encoding,
    }
  }
  const error = failures.find((f) => f.kind === 'permanent') ?? failures[0]
  throw new SmppSubmitError(error.kind, error.message, {
    status: error.status,
    partsAccepted: accepted,
  })
}
