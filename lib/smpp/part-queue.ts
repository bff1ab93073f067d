/**
 * The parts waiting for a place in the window, and the bookkeeping of the SMS they belong to:
 * an SMS's promise settles once each of its parts tried has an outcome.
 */

import { SmppSubmitError } from './errors'
import type { PartOutcome, PartsResult } from './submit-result'
import type { SubmitPlan } from './submit'

export interface MessageJob {
  plan: SubmitPlan
  /** By part index; undefined for a part skipped or not answered yet. */
  outcomes: (PartOutcome | undefined)[]
  /** Parts queued or in flight. */
  unfinished: number
  /** Parts still in the queue. */
  queued: number
  resolve: (result: PartsResult) => void
}

export interface QueuedPart {
  job: MessageJob
  index: number
  /** Throttling answers this part got so far on this try. */
  throttled: number
}

/** `part 2/3`, as log lines and errors name a part. */
export function partLabel(part: QueuedPart): string {
  return `part ${part.index + 1}/${part.job.plan.pdus.length}`
}

/** Records the outcome of one part and settles its SMS when it was the last one unfinished. */
export function recordOutcome(part: QueuedPart, outcome: string | SmppSubmitError): void {
  const { job } = part
  const no = part.index + 1
  job.outcomes[part.index] =
    typeof outcome === 'string' ? { part: no, messageId: outcome } : { part: no, error: outcome }
  job.unfinished--
  settleIfDone(job)
}

export function settleIfDone(job: MessageJob): void {
  if (job.unfinished > 0) return
  job.resolve({
    outcomes: job.outcomes.filter((o): o is PartOutcome => o !== undefined),
    parts: job.plan.pdus.length,
    segments: job.plan.segments,
    encoding: job.plan.encoding,
  })
}

/** A FIFO that does not copy the array on every shift. */
export class PartQueue {
  private items: QueuedPart[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(part: QueuedPart): void {
    this.items.push(part)
  }

  /** Puts a part back at the head: a throttled part goes before those that never tried. */
  unshift(part: QueuedPart): void {
    if (this.head > 0) this.items[--this.head] = part
    else this.items.unshift(part)
  }

  shift(): QueuedPart | undefined {
    if (this.head >= this.items.length) return undefined
    const part = this.items[this.head++]
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return part
  }

  /** Removes and returns the parts that match, keeping the order of the others. */
  remove(match: (part: QueuedPart) => boolean): QueuedPart[] {
    const live = this.items.slice(this.head)
    this.items = live.filter((part) => !match(part))
    this.head = 0
    return live.filter(match)
  }
}
