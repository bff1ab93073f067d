/**
 * How the client reports to an SmppObserver (lib/ops/observers.ts): the bind state as a metric
 * shows it, the outcome of a submit_sm's answer, and a guard so that a failing observer cannot
 * break the session.
 */

import type { PDU } from 'smpp'
import {
  noSmppObserver,
  type SmppBindState,
  type SmppObserver,
  type SubmitOutcome,
} from '../ops/observers'
import type { SmppLogger } from './connection'
import type { SmppClientState } from './session-keeper'
import { classifySubmitStatus } from './status'

/** Stopping already counts as unbound: no new submit is taken. */
const BIND_STATE: Record<SmppClientState, SmppBindState> = {
  idle: 'unbound',
  connecting: 'binding',
  bound: 'bound',
  stopping: 'unbound',
  stopped: 'unbound',
}

export function bindStateOf(state: SmppClientState): SmppBindState {
  return BIND_STATE[state]
}

/** How a metric counts an answer: by its status, throttling apart from other refusals. */
export function outcomeOf(response: PDU): SubmitOutcome {
  const status = response.command_status
  // Status 0 on another command than submit_sm_resp is a confused SMSC, not an acceptance.
  if (status === 0) return response.command === 'submit_sm_resp' ? 'accepted' : 'error'
  return classifySubmitStatus(status) === 'throttled' ? 'throttled' : 'refused'
}

export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000
}

/**
 * The observer is called from socket and promise callbacks, where a throw would leave a part
 * without an outcome: a failing observer is logged, and the session goes on. None: no-ops.
 */
export function guarded(observer: SmppObserver | undefined, logger: SmppLogger): SmppObserver {
  if (observer === undefined || observer === noSmppObserver) return noSmppObserver
  const report = (hook: string, err: unknown) =>
    logger.error(`smpp observer ${hook} threw: ${(err as Error)?.stack ?? String(err)}`)
  return {
    bindState: (state) => {
      try {
        observer.bindState(state)
      } catch (err) {
        report('bindState', err)
      }
    },
    windowInUse: (outstanding) => {
      try {
        observer.windowInUse(outstanding)
      } catch (err) {
        report('windowInUse', err)
      }
    },
    submitAnswered: (outcome, seconds) => {
      try {
        observer.submitAnswered(outcome, seconds)
      } catch (err) {
        report('submitAnswered', err)
      }
    },
  }
}
