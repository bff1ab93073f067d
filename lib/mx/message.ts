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

function describeSize(a: SmsAnalysis): string {
  const unit = a.encoding === 'gsm7' ? 'GSM-7 characters' : 'UCS-2 characters'
  const why = a.nonGsmCharacter
    ? `; the character "${a.nonGsmCharacter}" forces UCS-2, 70 characters per SMS instead of 160`
    : ''
  return `${a.units} ${unit}${why}`
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
        `automatic mail (${automatic}) is not sent as SMS, so that no mail loop can start`,
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

/** Message-ID when there is one; else a digest the sending MTA reproduces on every retry. */
export function retryIdentity(
  mail: ParsedMail,
  sender: string,
): { messageId: string | null; source: string } {
  const messageId = mail.messageId?.trim() || null
  if (messageId) return { messageId, source: `mid:${sender}:${messageId}` }
  const digest = crypto
    .createHash('sha256')
    .update(sender)
    .update('\0')
    .update(mail.date?.toISOString() ?? '')
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
  const { messageId, source } = retryIdentity(mail, sender)
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
