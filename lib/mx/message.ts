import crypto from 'node:crypto'
import type { ParsedMail } from 'mailparser'
import { detectAutomaticMail } from '../mail/automatic'
import { emailToSmsText } from '../text/sms-text'
import { analyseSms, type SmsAnalysis } from '../sms/segments'
import { dedupeKeyFor, type NewSms } from '../db/outbound'
import { accept, deny, type Decision } from './decision'
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

/** The DATA rows of the decision table: no automatic mail, some text, within each account's cap. */
export async function draftSms(
  mail: ParsedMail,
  recipients: PlannedRecipient[],
): Promise<{ decision: Decision; drafts: SmsDraft[] }> {
  const automatic = detectAutomaticMail(mail)
  if (automatic) {
    return {
      decision: deny(
        '5.7.1',
        `automatic mail (${quotedInReply(automatic.slice(0, 80))}) is not sent as SMS, so that no mail loop can start`,
      ),
      drafts: [],
    }
  }
  const byAccount = new Map<number, { text: string; analysis: SmsAnalysis }>()
  const drafts: SmsDraft[] = []
  for (const recipient of recipients) {
    const account = recipient.membership.account
    let prepared = byAccount.get(account.id)
    if (!prepared) {
      const { text } = await emailToSmsText(mail, { signatureMarker: account.signatureMarker })
      if (!text) {
        return {
          decision: deny(
            '5.6.0',
            'the message has no text to send: write the SMS in the body of the email',
          ),
          drafts: [],
        }
      }
      const analysis = analyseSms(text)
      if (analysis.segments > account.segmentCap) {
        return {
          decision: deny(
            '5.3.4',
            `the text needs ${analysis.segments} SMS (${describeSize(analysis)}) and account "${account.ref}" allows at most ${account.segmentCap}: shorten it`,
          ),
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
): { messageId: string | null; source: string } {
  const messageId = mail.messageId?.trim() || null
  if (messageId) return { messageId, source: `mid:${sender}:${messageId}` }
  if (!mail.headers.has('date')) return { messageId: null, source: `txn:${mxTransaction}` }
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
  return { messageId: null, source: `digest:${digest}` }
}

export function toOutboundRows(
  drafts: SmsDraft[],
  mail: ParsedMail,
  sender: string,
  mxTransaction: string,
): NewSms[] {
  const { messageId, source } = retryIdentity(mail, sender, mxTransaction)
  return drafts.map((d) => ({
    accountId: d.recipient.membership.account.id,
    senderId: d.recipient.membership.senderId,
    senderEmail: sender,
    recipient: d.recipient.e164,
    body: d.text,
    encoding: d.analysis.encoding,
    segments: d.analysis.segments,
    sourceMessageId: messageId,
    dedupeKey: dedupeKeyFor(source, d.recipient.e164),
    mxTransaction,
  }))
}
