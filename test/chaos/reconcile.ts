import type { ReceivedSubmit } from '../support/smsc/simulator'
import { submitText } from '../support/smsc/received'
import type { WorkerLimits } from './cluster'
import type { InjectedFault } from './faults'
import type { SentEmail } from './load'

export interface SmsRow {
  id: number
  recipient: string
  status: string
}

/** An SMS in these is still on its way: after the drain deadline, it is stuck. */
export const IN_PROGRESS = ['queued', 'sending']
/** Beyond the SMPP window, the few answers a killed worker had received and not yet written. */
export const FEW = 5

export interface FaultOutcome {
  fault: InjectedFault
  /** From the fault to the next 250 any client got, and to the next submit the SMSC took. */
  next250Ms: number | null
  nextSubmitMs: number | null
  /** Submits of an SMS already submitted, made after this fault and before the next one. */
  duplicates: number
  allowance: number
  /** Tries answered 4xx, or whose connection failed, from the fault until it was undone. */
  softRefusals: number
}

export interface Reconciliation {
  emails: number
  accepted: number
  acceptedAfterRetry: number
  /** 250 on a retry, for an email an earlier try had already queued. */
  alreadyQueued: number
  refused: SentEmail[]
  unsettled: SentEmail[]
  /** 250 given, but no row, more than one row, or no submit at the SMSC. */
  lost: Array<{ email: SentEmail; why: string }>
  stuck: SmsRow[]
  /** Numbers the SMSC took more than once, with how many times. */
  duplicates: Array<{ number: string; submits: number }>
  /** Every submit after an SMS's first: each one is the SMS reaching the phone again. */
  extraSubmits: number
  duplicateAllowance: number
  /** Extra submits before any fault: in normal operation, no SMS is sent twice. */
  duplicatesBeforeFaults: number
  /** Submits whose text does not carry their email's token. */
  wrongText: number
  /** Rows for emails that never got 250 (the client gave up or was refused). */
  rowsWithout250: number
  /** SMS rows, and of them those the SMSC took once, and more than once. */
  rows: number
  submittedOnce: number
  submittedMore: number
  /** SMS rows by final status. */
  finalStates: Record<string, number>
  faults: FaultOutcome[]
}

const digits = (s: string) => s.replace(/\D/g, '')

/** What a fault may send twice, by the bounds the README documents. */
export function duplicateAllowance(fault: InjectedFault, limits: WorkerLimits, workers: number) {
  switch (fault.kind) {
    case 'workerkill':
      return limits.window + FEW
    case 'smscdrop':
      // Submits the SMSC took but whose answer was lost with the link are sent again.
      return limits.window * workers
    case 'dbkill':
      return limits.batchSize * (fault.workersCut ?? workers)
    case 'dbfreeze':
      return fault.target.startsWith('worker') ? limits.batchSize : 0
    case 'mxkill':
      return 0
  }
}

function firstAfter(times: number[], t: number): number | null {
  let best: number | null = null
  for (const x of times) if (x >= t && (best === null || x < best)) best = x
  return best === null ? null : best - t
}

export function reconcile(input: {
  emails: SentEmail[]
  rows: SmsRow[]
  submits: ReceivedSubmit[]
  faults: InjectedFault[]
  limits: WorkerLimits
  workers: number
}): Reconciliation {
  const { emails, rows, submits, faults, limits, workers } = input
  const rowsByNumber = new Map<string, SmsRow[]>()
  for (const row of rows) {
    const key = digits(row.recipient)
    rowsByNumber.set(key, [...(rowsByNumber.get(key) ?? []), row])
  }
  const submitsByNumber = new Map<string, ReceivedSubmit[]>()
  for (const submit of submits) {
    const key = digits(submit.destAddr)
    submitsByNumber.set(key, [...(submitsByNumber.get(key) ?? []), submit])
  }
  const accepted = emails.filter((e) => e.acceptedAt !== null)
  const lost: Reconciliation['lost'] = []
  let wrongText = 0
  for (const email of accepted) {
    const own = rowsByNumber.get(email.international) ?? []
    const taken = submitsByNumber.get(email.international) ?? []
    if (own.length !== 1) lost.push({ email, why: `${own.length} SMS rows` })
    else if (taken.length === 0) lost.push({ email, why: `never submitted (${own[0].status})` })
    wrongText += taken.filter((t) => !submitText(t).includes(email.token)).length
  }
  const acceptedNumbers = new Set(accepted.map((e) => e.international))
  const duplicates = [...submitsByNumber.entries()]
    .filter(([, taken]) => taken.length > 1)
    .map(([number, taken]) => ({
      number,
      submits: taken.length,
      againAt: taken.slice(1).map((t) => t.at),
    }))
  const extraAt = duplicates.flatMap((d) => d.againAt)
  const attempts = emails.flatMap((e) => e.attempts)
  const faultOutcomes = faults.map((fault, i) => {
    const until = faults[i + 1]?.at ?? Infinity
    const undone = fault.restoredAt ?? until
    return {
      fault,
      next250Ms: firstAfter(
        accepted.map((e) => e.acceptedAt as number),
        fault.at,
      ),
      nextSubmitMs: firstAfter(
        submits.map((t) => t.at),
        fault.at,
      ),
      duplicates: extraAt.filter((at) => at >= fault.at && at < until).length,
      allowance: duplicateAllowance(fault, limits, workers),
      softRefusals: attempts.filter(
        (a) =>
          a.at >= fault.at &&
          a.at <= undone &&
          (a.reply === null || (a.reply.code >= 400 && a.reply.code < 500)),
      ).length,
    }
  })
  const finalStates: Record<string, number> = {}
  for (const row of rows) finalStates[row.status] = (finalStates[row.status] ?? 0) + 1
  const submitCounts = rows.map((r) => submitsByNumber.get(digits(r.recipient))?.length ?? 0)
  return {
    emails: emails.length,
    accepted: accepted.length,
    acceptedAfterRetry: accepted.filter((e) => e.attempts.length > 1).length,
    alreadyQueued: accepted.filter((e) =>
      /already queued/i.test(e.attempts[e.attempts.length - 1].reply?.text ?? ''),
    ).length,
    refused: emails.filter((e) => e.refused !== null),
    unsettled: emails.filter((e) => e.acceptedAt === null && e.refused === null),
    lost,
    stuck: rows.filter((r) => IN_PROGRESS.includes(r.status)),
    duplicates: duplicates.map(({ number, submits: n }) => ({ number, submits: n })),
    extraSubmits: extraAt.length,
    duplicateAllowance: faultOutcomes.reduce((sum, f) => sum + f.allowance, 0),
    duplicatesBeforeFaults: extraAt.filter((at) => at < (faults[0]?.at ?? Infinity)).length,
    wrongText,
    rowsWithout250: rows.filter((r) => !acceptedNumbers.has(digits(r.recipient))).length,
    rows: rows.length,
    submittedOnce: submitCounts.filter((n) => n === 1).length,
    submittedMore: submitCounts.filter((n) => n > 1).length,
    finalStates,
    faults: faultOutcomes,
  }
}
