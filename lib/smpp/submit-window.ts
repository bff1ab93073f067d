/**
 * The window of outstanding submit_sm, shared by all messages: parts wait in a queue, leave at
 * the pace's rate while fewer than `window` are unanswered, each with its own timeout, and get
 * an outcome from the SMSC's answer. A throttling answer puts the part back at the head of the
 * queue a few times (the pace has slowed down meanwhile) before it is reported throttled.
 */

import type { PDU } from 'smpp'
import type { SmppObserver } from '../ops/observers'
import { RequestError, type SmppConnection, type SmppLogger } from './connection'
import { SmppSubmitError } from './errors'
import { outcomeOf, secondsSince } from './observed'
import {
  PartQueue,
  partLabel,
  recordOutcome,
  settleIfDone,
  type MessageJob,
  type QueuedPart,
} from './part-queue'
import { classifySubmitStatus, describeStatus } from './status'
import type { SubmitPlan } from './submit'
import type { SubmitPace } from './submit-pace'
import type { PartOutcome, PartsResult } from './submit-result'
import type { UnansweredSubmits } from './unanswered-submits'

/**
 * How often one part is put back in the queue after a throttling answer before it is reported
 * throttled (the worker then retries it later): the rate has been lowered each time, so a
 * carrier that still refuses is not just asking us to slow down.
 */
export const DEFAULT_THROTTLE_REQUEUES = 5

export interface SubmitWindowOptions {
  window: number
  requestTimeoutMs: number
  throttleRequeues: number
  pace: SubmitPace
  unanswered: UnansweredSubmits
  logger: SmppLogger
  observer: SmppObserver
  /** The session's connection while it is bound, else null: parts leave only then. */
  boundLink(): SmppConnection | null
}

export class SubmitWindow {
  private outstanding = 0
  private readonly queue = new PartQueue()
  private readonly drainWaiters = new Set<() => void>()
  private pumpTimer: NodeJS.Timeout | null = null

  constructor(private readonly options: SubmitWindowOptions) {}

  /** Queues the parts of `plan` at these indexes; resolves once each has an outcome. */
  enqueue(plan: SubmitPlan, indexes: number[]): Promise<PartsResult> {
    return new Promise<PartsResult>((resolve) => {
      const job: MessageJob = {
        plan,
        outcomes: new Array<PartOutcome | undefined>(plan.pdus.length),
        unfinished: indexes.length,
        queued: indexes.length,
        resolve,
      }
      if (indexes.length === 0) {
        settleIfDone(job)
        return
      }
      for (const index of indexes) this.queue.push({ job, index, throttled: 0 })
      this.pump()
    })
  }

  /** Sends queued parts while the session is bound, the window has room and the pace allows. */
  pump(): void {
    let link = this.options.boundLink()
    while (link !== null && this.outstanding < this.options.window && this.queue.length > 0) {
      const wait = this.options.pace.take()
      if (wait > 0) {
        this.pumpTimer ??= setTimeout(() => {
          this.pumpTimer = null
          this.pump()
        }, wait)
        return
      }
      const part = this.queue.shift()
      if (part === undefined) return
      part.job.queued--
      this.send(link, part)
      link = this.options.boundLink()
    }
  }

  /** Gives every queued part the outcome 'disconnected' with this reason; sends nothing more. */
  dropAll(reason: string): void {
    if (this.pumpTimer) clearTimeout(this.pumpTimer)
    this.pumpTimer = null
    this.dropQueued(() => true, reason)
  }

  /** Resolves once no submit_sm awaits an answer, or after graceMs. */
  drained(graceMs: number): Promise<void> {
    if (this.outstanding === 0 || graceMs <= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.drainWaiters.delete(done)
        resolve()
      }
      const timer = setTimeout(done, graceMs)
      this.drainWaiters.add(done)
    })
  }

  private send(link: SmppConnection, part: QueuedPart): void {
    this.changeOutstanding(+1)
    const sentAt = performance.now()
    const pdu = part.job.plan.pdus[part.index]
    link.request('submit_sm', pdu, this.options.requestTimeoutMs).then(
      (response) => {
        this.options.observer.submitAnswered(outcomeOf(response), secondsSince(sentAt))
        this.onResponse(part, response)
      },
      (err: Error) => {
        const timedOut = err instanceof RequestError && err.kind === 'timeout'
        // Not answered in time, or never to be: the session closed, or the PDU was not sent.
        this.options.observer.submitAnswered(timedOut ? 'timeout' : 'error', secondsSince(sentAt))
        if (timedOut) this.options.unanswered.timedOut(link)
        this.finishSent(part, submitErrorFromRequest(err, part))
      },
    )
  }

  private changeOutstanding(by: number): void {
    this.outstanding += by
    this.options.observer.windowInUse(this.outstanding)
  }

  private onResponse(part: QueuedPart, response: PDU): void {
    this.options.unanswered.answered()
    const status = response.command_status
    const label = partLabel(part)
    if (status === 0 && response.command !== 'submit_sm_resp') {
      this.finishSent(part, new SmppSubmitError('temporary', `${label}: ${response.command}`))
      return
    }
    if (status === 0) {
      const id = typeof response.message_id === 'string' ? response.message_id : ''
      if (id === '') this.options.logger.warn('smpp submit_sm_resp without message_id')
      this.options.pace.accepted()
      this.finishSent(part, id)
      return
    }
    const kind = classifySubmitStatus(status)
    if (kind === 'throttled') {
      this.options.pace.throttled(status)
      if (part.throttled < this.options.throttleRequeues && this.options.boundLink() !== null) {
        // Throttling is the carrier's flow control, not a failure: the part goes back to the
        // head of the queue and leaves at the lowered pace.
        part.throttled++
        this.changeOutstanding(-1)
        part.job.queued++
        this.queue.unshift(part)
        this.pump()
        return
      }
    }
    const refusal = response.command === 'generic_nack' ? 'generic_nack' : 'refused'
    const error = new SmppSubmitError(
      // Only status 0 is 'ok', and it was handled above.
      kind === 'ok' ? 'temporary' : kind,
      `${label} ${refusal}: ${describeStatus(status)}`,
      { status },
    )
    this.finishSent(part, error)
  }

  private finishSent(part: QueuedPart, outcome: string | SmppSubmitError): void {
    this.changeOutstanding(-1)
    const { job } = part
    // A part refused for good leaves the others deliverable; any other failure means trouble at
    // the SMSC or on the link: the rest of this SMS waits for the worker's retry.
    if (typeof outcome !== 'string' && outcome.kind !== 'permanent' && job.queued > 0) {
      this.dropQueued((queued) => queued.job === job, 'an earlier part was not taken')
    }
    recordOutcome(part, outcome)
    if (this.outstanding === 0) for (const wake of this.drainWaiters) wake()
    this.pump()
  }

  private dropQueued(match: (part: QueuedPart) => boolean, reason: string): void {
    for (const part of this.queue.remove(match)) {
      part.job.queued--
      recordOutcome(
        part,
        new SmppSubmitError('disconnected', `${partLabel(part)} not sent: ${reason}`),
      )
    }
  }
}

function submitErrorFromRequest(err: Error, part: QueuedPart): SmppSubmitError {
  const label = partLabel(part)
  if (err instanceof RequestError) return new SmppSubmitError(err.kind, `${label}: ${err.message}`)
  // The package could not serialise the PDU: the same message would fail the same way.
  return new SmppSubmitError('permanent', `${label} not encodable: ${err.message}`)
}
