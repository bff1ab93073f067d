/**
 * Hooks the core calls so a service can count what happens (lib/ops/metrics.ts plugs into
 * them). No-ops by default: the core never depends on metrics being on.
 */
export type SmppBindState = 'unbound' | 'binding' | 'bound'
export type SubmitOutcome = 'accepted' | 'throttled' | 'refused' | 'timeout' | 'error'

export interface SmppObserver {
  /** The session's state changed. */
  bindState(state: SmppBindState): void
  /** submit_sm sent and not yet answered, after each change. */
  windowInUse(outstanding: number): void
  /** A submit_sm was answered, or given up on, after `seconds`. */
  submitAnswered(outcome: SubmitOutcome, seconds: number): void
}

export interface LoopObserver {
  /** One round of the named poll loop ended after `seconds`; failed when it threw. */
  round(loop: string, seconds: number, failed: boolean): void
}

export interface PurgeObserver {
  /** A purge run blanked `rows` rows in the named step (outbound_text, inbound_both…). */
  purged(step: string, rows: number): void
}

export interface ClaimObserver {
  /**
   * A lease claim of `work` (sms, notices, inbound…) took `seconds` and returned `rows`, after
   * `conflicts` retried deadlock or certification failures.
   */
  claimed(work: string, rows: number, seconds: number, conflicts: number): void
}

export const noSmppObserver: SmppObserver = {
  bindState: () => undefined,
  windowInUse: () => undefined,
  submitAnswered: () => undefined,
}
export const noLoopObserver: LoopObserver = { round: () => undefined }
export const noClaimObserver: ClaimObserver = { claimed: () => undefined }
