/**
 * What became of an inbound SMS, as an account admin reads it: the row's status and the
 * dispatcher's words for why, turned into a few kinds a page can say in its own language.
 * The reasons the dispatcher records are written here, so that both sides agree on them.
 */

import type { InboundStatus } from '../db/inbound'

/** last_error of an SMS kept because its account went away or was switched off. */
export const KEPT_NO_ACCOUNT = 'no active account owns this number any more'
/** last_error of an SMS kept because the account has nowhere to mail it. */
export const KEPT_NO_DESTINATION = 'the account has no forward address and no sender to reply to'
/** last_error of a mail the relay refused: this, then the relay's own answer. */
export const RELAY_REFUSED = 'relay refused: '

export type InboxOutcome =
  /** Mailed to the account's forward addresses (null: mailed before they were recorded). */
  | { kind: 'forwarded'; to: string[] | null }
  /** Mailed to the sender of the SMS it answers (direct reply). */
  | { kind: 'replied'; to: string[] | null }
  /** Waiting for the dispatcher; `retryReason` when the last try failed and another is due. */
  | { kind: 'pending'; retryReason: InboundReason | null }
  /** Given up: the relay kept refusing it. */
  | { kind: 'failed'; reason: InboundReason }
  /** Routed, but mailed to nobody. */
  | { kind: 'kept'; reason: InboundReason }
  | { kind: 'opt_out' }
  | { kind: 'opt_in' }

export interface InboundReason {
  code: 'relay_refused' | 'no_account' | 'no_destination' | 'other'
  /** The technical words, as recorded (in English); null when the code says it all. */
  detail: string | null
}

export function reasonOf(lastError: string | null): InboundReason {
  const error = lastError ?? ''
  if (error === KEPT_NO_ACCOUNT) return { code: 'no_account', detail: null }
  if (error === KEPT_NO_DESTINATION) return { code: 'no_destination', detail: null }
  if (error.startsWith(RELAY_REFUSED)) {
    return { code: 'relay_refused', detail: error.slice(RELAY_REFUSED.length) || null }
  }
  return { code: 'other', detail: error || null }
}

/** Addresses as the dispatcher recorded them (mailed_to), or null when it did not. */
export function parseMailedTo(value: string | null): string[] | null {
  if (value === null || value.trim() === '') return null
  return value.split(',').map((a) => a.trim())
}

export function outcomeOf(row: {
  status: InboundStatus
  lastError: string | null
  mailedTo: string[] | null
}): InboxOutcome {
  switch (row.status) {
    case 'forwarded':
      return { kind: 'forwarded', to: row.mailedTo }
    case 'replied':
      return { kind: 'replied', to: row.mailedTo }
    case 'failed':
      return { kind: 'failed', reason: reasonOf(row.lastError) }
    case 'kept':
      return { kind: 'kept', reason: reasonOf(row.lastError) }
    case 'opt_out':
      return { kind: 'opt_out' }
    case 'opt_in':
      return { kind: 'opt_in' }
    default:
      // received, mailing, and any state a newer worker adds: still on its way.
      return { kind: 'pending', retryReason: row.lastError ? reasonOf(row.lastError) : null }
  }
}
