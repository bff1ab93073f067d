import crypto from 'node:crypto'
import type { ParsedMail } from 'mailparser'
import { detectAutomaticMail } from '../mail/automatic'
import { emailToSmsText } from '../text/sms-text'
import { analyseSms, type SmsAnalysis } from '../sms/segments'
import { foldToGsm7 } from '../sms/gsm-fold'
import type { Account } from '../db/accounts'
import { legacyDedupeKeyFor, timeOrderedKey, type NewSms } from '../db/outbound'
import { parseDateHeader } from '../mail/date-header'
import { accept, type Decision } from './decision'
import { answer } from './replies'
import { parseEmail, UnreadableMessageError } from '../mail/parse'
import type { CounterDelta } from '../db/usage-counters'
import type { SpendGuard } from './spend-guard'
import type { PlannedRecipient } from './recipient-policy'

export interface SmsDraft {
  recipient: PlannedRecipient
  text: string
  analysis: SmsAnalysis
}

function codePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
}

function describeSize(a: SmsAnalysis): string {
  const unit = a.encoding === 'gsm7' ? 'GSM-7 characters' : 'UCS-2 characters'
  // Named by code point: an SMTP reply without SMTPUTF8 must stay ASCII.
  const why = a.nonGsmCharacter
    ? `; the character ${codePoint(a.nonGsmCharacter)} forces UCS-2, 70 characters per SMS instead of 160`
    : ''
  return `${a.units} ${unit}${why}`
}

/**
 * Header text quoted in an SMTP reply: printable ASCII only, because a reply without SMTPUTF8
 * must be ASCII and a control character (a CR, a NUL) would garble the reply line.
 */
function quotedInReply(text: string): string {
  return text.replace(/[^ -~]/g, '?')
}

/** Reads the raw message; one the parser will never read whole is a definite no. */
export async function readMessage(
  raw: Buffer,
): Promise<{ mail: ParsedMail } | { decision: Decision }> {
  try {
    return { mail: await parseEmail(raw) }
  } catch (err) {
    if (err instanceof UnreadableMessageError)
      return { decision: answer('unreadableMessage', { reason: err.message }) }
    throw err
  }
}

/**
 * The SMS text of an account and what it costs. An account that stays in GSM 03.38 has its text
 * folded first, so that the segment cap, the quotas and the row all count what is sent.
 */
function accountSmsText(
  mail: ParsedMail,
  account: Account,
): { text: string; analysis: SmsAnalysis } {
  const { text: written } = emailToSmsText(mail, { signatureMarker: account.signatureMarker })
  if (!account.gsmOnly) return { text: written, analysis: analyseSms(written) }
  const fold = foldToGsm7(written)
  const analysis = analyseSms(fold.text)
  // What keeps such an SMS in UCS-2 is a character without a GSM equivalent (an emoji), not the
  // ê the text still has: that is the one a refusal names.
  const culprit = fold.unfoldable[0] ?? analysis.nonGsmCharacter
  return { text: fold.text, analysis: { ...analysis, nonGsmCharacter: culprit } }
}

/** The DATA rows of the decision table: no automatic mail, some text, within each account's cap. */
export function draftSms(
  mail: ParsedMail,
  recipients: PlannedRecipient[],
): { decision: Decision; drafts: SmsDraft[] } {
  const automatic = detectAutomaticMail(mail)
  if (automatic) {
    return {
      decision: answer('automaticMail', { reason: quotedInReply(automatic) }),
      drafts: [],
    }
  }
  const byAccount = new Map<number, { text: string; analysis: SmsAnalysis }>()
  const drafts: SmsDraft[] = []
  for (const recipient of recipients) {
    const account = recipient.membership.account
    let prepared = byAccount.get(account.id)
    if (!prepared) {
      const { text, analysis } = accountSmsText(mail, account)
      if (!text) {
        return { decision: answer('noText', {}), drafts: [] }
      }
      if (analysis.segments > account.segmentCap) {
        return {
          decision: answer('tooLong', {
            segments: analysis.segments,
            size: describeSize(analysis),
            account: account.ref,
            cap: account.segmentCap,
          }),
          drafts: [],
        }
      }
      prepared = { text, analysis }
      byAccount.set(account.id, prepared)
    }
    drafts.push({ recipient, ...prepared })
  }
  return { decision: accept(), drafts }
}

/**
 * The Date header as the sender wrote it. Not the parsed value: mailparser replaces a Date it
 * cannot read with the current time, which would give every retry a new digest.
 */
function dateHeader(mail: ParsedMail): string {
  const line = mail.headerLines.find((h) => h.key === 'date')?.line
  if (line !== undefined) return line.slice(line.indexOf(':') + 1).trim()
  const value = mail.headers.get('date')
  return value instanceof Date ? value.toISOString() : String(value)
}

export interface RetryIdentity {
  messageId: string | null
  /** What the dedupe key is a digest of. */
  source: string
  /**
   * When the email was written, from its Date header, which every retry repeats: the dedupe
   * key's time prefix. Null when it has none that can be read.
   */
  writtenAt: number | null
  /** False for mail no retry can be told from (keyed on its SMTP transaction). */
  retriable: boolean
}

/**
 * What makes a retry of this email recognisable. The Message-ID when there is one. Without
 * it, a digest of sender, Date, Subject and text, which the sending MTA reproduces on every
 * retry, but only when there is a Date: a script that sends the same alert twice without
 * either header means two SMS, so such mail is keyed on its SMTP transaction (no retry check).
 */
export function retryIdentity(
  mail: ParsedMail,
  sender: string,
  mxTransaction: string,
): RetryIdentity {
  const messageId = mail.messageId?.trim() || null
  const hasDate = mail.headers.has('date')
  const writtenAt = hasDate ? parseDateHeader(dateHeader(mail)) : null
  if (messageId)
    return { messageId, source: `mid:${sender}:${messageId}`, writtenAt, retriable: true }
  if (!hasDate) {
    return { messageId: null, source: `txn:${mxTransaction}`, writtenAt, retriable: false }
  }
  const digest = crypto
    .createHash('sha256')
    .update(sender)
    .update('\0')
    .update(dateHeader(mail))
    .update('\0')
    .update(mail.subject ?? '')
    .update('\0')
    .update(mail.text || mail.html || '')
    .digest('hex')
  return { messageId: null, source: `digest:${digest}`, writtenAt, retriable: true }
}

export function toOutboundRows(
  drafts: SmsDraft[],
  mail: ParsedMail,
  sender: string,
  mxTransaction: string,
): NewSms[] {
  const { messageId, source, writtenAt, retriable } = retryIdentity(mail, sender, mxTransaction)
  return drafts.map((d) => {
    const legacyKey = legacyDedupeKeyFor(source, d.recipient.e164)
    return {
      accountId: d.recipient.membership.account.id,
      senderId: d.recipient.membership.senderId,
      senderEmail: sender,
      recipient: d.recipient.e164,
      body: d.text,
      encoding: d.analysis.encoding,
      segments: d.analysis.segments,
      sourceMessageId: messageId,
      dedupeKey: timeOrderedKey(legacyKey, writtenAt),
      // Mail stored before the keys were time-ordered has this one (see lib/db/outbound/dedupe-key.ts).
      legacyDedupeKey: retriable ? legacyKey : undefined,
      mxTransaction,
      timeZone: d.recipient.membership.account.timeZone,
    }
  })
}

export interface PreparedMessage {
  decision: Decision
  mail: ParsedMail | null
  rows: NewSms[]
  usage: CounterDelta[]
}

/**
 * The whole DATA step: read the MIME, refuse automatic, empty or over-long mail, then check the
 * spend limits. On accept, `rows` are what to commit and `usage` the counters they move.
 */
export async function prepareMessage(input: {
  raw: Buffer
  recipients: PlannedRecipient[]
  sender: string
  mxTransaction: string
  spend: Pick<SpendGuard, 'check'>
}): Promise<PreparedMessage> {
  const refused = (decision: Decision, mail: ParsedMail | null): PreparedMessage => ({
    decision,
    mail,
    rows: [],
    usage: [],
  })
  const read = await readMessage(input.raw)
  if ('decision' in read) return refused(read.decision, null)
  const { mail } = read
  const drafted = draftSms(mail, input.recipients)
  if (drafted.decision.action !== 'accept') return refused(drafted.decision, mail)
  const rows = toOutboundRows(drafted.drafts, mail, input.sender, input.mxTransaction)
  const plan = await input.spend.check(drafted.drafts, rows)
  if (plan.decision.action !== 'accept') return refused(plan.decision, mail)
  return { decision: plan.decision, mail, rows, usage: plan.deltas }
}
