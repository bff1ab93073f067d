/**
 * A test SMS sent from the admin: the MX's own checks and writes, without the email. The number
 * is read with the account's default country, the destination, opt-out, segment cap and spend
 * limits apply as they do to mail, and the row goes through the same insert and counters, so a
 * test is sent, logged, billed and limited like any other SMS.
 */
import crypto from 'node:crypto'
import type { LimitsConfig } from '../config'
import type { Account } from '../db/accounts'
import type { Db } from '../db/connection'
import { isOptedOut } from '../db/opt-outs'
import { dedupeKeyFor, insertEmails, legacyDedupeKeyFor, type NewSms } from '../db/outbound'
import { addToCounters } from '../db/usage-counters'
import { effectiveDestinations, refusedDestination } from '../limits/destinations'
import { parseSmsNumber } from '../phone'
import { foldToGsm7 } from '../sms/gsm-fold'
import { analyseSms, type SmsAnalysis } from '../sms/segments'
import type { SmsDraft } from './message'
import { SpendGuard } from './spend-guard'

/** Longest text the form takes: far above any segment cap, well below the form's body limit. */
export const MAX_TEST_TEXT = 3000

export type TestSmsProblem =
  /** The operator switched the account off: the MX refuses its mail, so this page does too. */
  | { kind: 'accountInactive' }
  | { kind: 'noText' }
  | { kind: 'textTooLong'; max: number }
  | { kind: 'invalidNumber'; reason: 'invalid' | 'not_mobile' }
  | { kind: 'destinationNotAllowed'; e164: string; allowed: string }
  | { kind: 'optedOut'; e164: string }
  | { kind: 'tooManySegments'; segments: number; cap: number }
  /** A spend limit, named by its reply in the MX's catalogue (quotaSpent, accountRateLimited…). */
  | { kind: 'spendLimit'; reason: string; detail: string }

export type TestSmsOutcome =
  | { ok: true; id: number; e164: string; analysis: SmsAnalysis; duplicate: boolean }
  | { ok: false; problem: TestSmsProblem }

export interface TestSmsRequest {
  account: Account
  /** Who asked: the admin's login, shown in the log as the SMS's sender. */
  senderEmail: string
  number: string
  text: string
  /**
   * Unique per form shown: the same form sent twice (a double click, a reload) queues one SMS,
   * as a retried email does.
   */
  formId: string
  limits: LimitsConfig
  now: number
  /** Where a counter that could not be raised is reported. */
  log?: (line: string) => void
}

/** The text as it will be sent: folded to GSM 03.38 for an account that stays in it. */
function preparedText(text: string, account: Account): { text: string; analysis: SmsAnalysis } {
  if (!account.gsmOnly) return { text, analysis: analyseSms(text) }
  const folded = foldToGsm7(text).text
  return { text: folded, analysis: analyseSms(folded) }
}

export async function queueTestSms(db: Db, req: TestSmsRequest): Promise<TestSmsOutcome> {
  const { account } = req
  if (!account.isActive) return { ok: false, problem: { kind: 'accountInactive' } }
  const raw = req.text.replace(/\r\n?/g, '\n').trim()
  if (!raw) return { ok: false, problem: { kind: 'noText' } }
  if (raw.length > MAX_TEST_TEXT) {
    return { ok: false, problem: { kind: 'textTooLong', max: MAX_TEST_TEXT } }
  }
  const parsed = parseSmsNumber(req.number.trim(), account.defaultCountry)
  if (!parsed.ok) return { ok: false, problem: { kind: 'invalidNumber', reason: parsed.reason } }
  const allowed = effectiveDestinations(
    account.defaultCountry,
    account.limits.allowedDestinations ?? req.limits.allowedDestinations,
  )
  if (refusedDestination(parsed, allowed)) {
    return {
      ok: false,
      problem: { kind: 'destinationNotAllowed', e164: parsed.e164, allowed: allowed.join(', ') },
    }
  }
  if (await isOptedOut(db, account.id, parsed.e164)) {
    return { ok: false, problem: { kind: 'optedOut', e164: parsed.e164 } }
  }
  const { text, analysis } = preparedText(raw, account)
  if (analysis.segments > account.segmentCap) {
    return {
      ok: false,
      problem: { kind: 'tooManySegments', segments: analysis.segments, cap: account.segmentCap },
    }
  }

  const source = `admin-test:${account.id}:${req.formId}`
  const row: NewSms = {
    accountId: account.id,
    senderId: null,
    senderEmail: req.senderEmail,
    recipient: parsed.e164,
    body: text,
    encoding: analysis.encoding,
    segments: analysis.segments,
    sourceMessageId: null,
    // Undated (no time prefix): the form's second sending may come a minute later, and a test
    // SMS is too rare to need the index's order.
    dedupeKey: dedupeKeyFor(source, parsed.e164, null),
    legacyDedupeKey: legacyDedupeKeyFor(source, parsed.e164),
    mxTransaction: null,
    timeZone: account.timeZone,
  }
  const draft: SmsDraft = {
    recipient: {
      address: parsed.e164,
      e164: parsed.e164,
      membership: {
        senderId: 0,
        email: req.senderEmail,
        status: 'accepted',
        isDefault: false,
        account,
      },
    },
    text,
    analysis,
  }
  const plan = await new SpendGuard(db, req.limits, () => req.now).check([draft], [row])
  if (plan.decision.action !== 'accept') {
    return {
      ok: false,
      problem: {
        kind: 'spendLimit',
        reason: plan.decision.reason ?? 'spendLimit',
        detail: plan.decision.message ?? '',
      },
    }
  }
  // A new transaction id per attempt: it is how the insert tells a repeat from a new row.
  const attempt = `admin-${crypto.randomUUID()}`
  const [result] = await insertEmails(db, [[{ ...row, mxTransaction: attempt }]], req.now)
  const duplicate = result.duplicates > 0
  // After the commit, as the MX's OutboxWriter does, and like it never failing the SMS that is
  // queued: a counter that could not be raised is reported and the SMS stands.
  if (!duplicate && plan.deltas.length > 0) {
    try {
      await addToCounters(db, plan.deltas)
    } catch (err) {
      req.log?.(`test SMS ${result.ids[0]}: spend counters not raised: ${(err as Error).message}`)
    }
  }
  return { ok: true, id: result.ids[0], e164: parsed.e164, analysis, duplicate }
}
