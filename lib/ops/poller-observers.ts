import type { ClaimObserver, LoopObserver } from './observers'

/** What a polling service reports to (both optional, no-ops when absent): see observers.ts. */
export interface PollerObservers {
  /** Each round of the service's poll loops. */
  loop?: LoopObserver
  /** Each lease claim the service makes. */
  claim?: ClaimObserver
}
