import { statusName } from './status'

/**
 * Why a submit failed, as the worker acts on it:
 * - throttled: the SMSC asked us to slow down; retry later.
 * - temporary: the SMSC failed or gave a status we do not know; retry with backoff.
 * - permanent: the message cannot be sent as it is (SMSC status or our own checks); mark failed.
 * - timeout: a part got no answer in time. The SMSC may still have taken it, so a retry can
 *   deliver the SMS twice.
 * - disconnected: the session was not bound, or closed before every part was answered. Parts
 *   already written may have been taken, as with timeout.
 */
export type SubmitFailureKind = 'throttled' | 'temporary' | 'permanent' | 'timeout' | 'disconnected'

export interface SmppSubmitErrorDetails {
  status?: number
  /** Message ids of the parts the SMSC accepted before the failure, in part order. */
  partsAccepted?: string[]
}

export class SmppSubmitError extends Error {
  readonly kind: SubmitFailureKind
  readonly status?: number
  readonly statusName?: string
  readonly partsAccepted: string[]

  constructor(kind: SubmitFailureKind, message: string, details: SmppSubmitErrorDetails = {}) {
    super(message)
    this.name = 'SmppSubmitError'
    this.kind = kind
    if (details.status !== undefined) {
      this.status = details.status
      this.statusName = statusName(details.status)
    }
    this.partsAccepted = details.partsAccepted ?? []
  }
}
