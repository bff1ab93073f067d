import type { OutgoingMail } from '../mail/mailer'
import { failureReason, type FailedStatus } from './failure-reason'
import type { PartsReport } from './part-outcomes'

/** A failed SMS, with what its notice needs (columns of outbound_sms). */
export interface FailedSms {
  id: number
  senderEmail: string
  /** E.164, as the SMS was sent. */
  recipient: string
  body: string
  status: FailedStatus
  errorCode: number | null
  lastError: string | null
  /** Message-ID of the email the SMS came from, to thread the notice under it. */
  sourceMessageId: string | null
  /** When the gateway took the email. */
  createdAt: number
  /** When the SMS failed for good. */
  finalAt: number | null
  /** For a partly delivered SMS: what became of each of its parts. */
  parts?: PartsReport
}

export interface NoticeOptions {
  /** The SMS domain the number was written at: the DSN's Final-Recipient and Reporting-MTA. */
  smsDomain: string
  /** Defaults to the mailer's configured From. */
  from?: string
}

export const DETAILS_FILENAME = 'details.txt'

const pad = (n: number): string => String(n).padStart(2, '0')
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

// The sender's time zone is unknown: every time is UTC, and says so.
function frenchTime(ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} à ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
}

function englishTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`
}

/** RFC 5322 date-time, as DSN fields are written. */
function mailDate(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000')
}

/** The text quoted line by line, so that it reads as what was sent and not as our words. */
function quoted(text: string): string {
  return text
    .split(/\r\n|[\r\n]/)
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n')
}

/** A Message-ID as header text: mailparser keeps the brackets, but a bare id is tolerated. */
function messageIdHeader(id: string | null): string | undefined {
  const trimmed = id?.trim()
  if (!trimmed) return undefined
  return trimmed.startsWith('<') ? trimmed : `<${trimmed}>`
}

/** DSN fields may not hold line breaks; the carrier's words could. */
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ').trim()

/**
 * The per-message and per-recipient fields of RFC 3464, for mail systems and people who read
 * bounces. Diagnostic-Code uses the type "smpp": the carrier's words, not an SMTP reply.
 */
export function deliveryStatusFields(sms: FailedSms, options: NoticeOptions): string {
  const reason = failureReason(sms)
  const failedAt = sms.finalAt ?? sms.createdAt
  const message = [
    `Reporting-MTA: dns; ${options.smsDomain}`,
    `Arrival-Date: ${mailDate(sms.createdAt)}`,
  ]
  const original = messageIdHeader(sms.sourceMessageId)
  if (original) message.push(`X-Original-Message-ID: ${oneLine(original)}`)
  const recipient = [
    `Final-Recipient: rfc822; ${sms.recipient}@${options.smsDomain}`,
    'Action: failed',
    `Status: ${reason.status}`,
    `Diagnostic-Code: smpp; ${oneLine(reason.diagnostic)}`,
    `Last-Attempt-Date: ${mailDate(failedAt)}`,
  ]
  // An extension field (RFC 3464 §7) for programs that read which parts arrived.
  if (reason.parts) {
    const { delivered, count } = reason.parts.summary
    recipient.push(`X-SMS-Parts-Delivered: ${delivered.join(',') || 'none'} of ${count}`)
  }
  return `${message.join('\r\n')}\r\n\r\n${recipient.join('\r\n')}\r\n`
}

/**
 * The mail that tells a sender their SMS failed: French first, then English (the gateway does
 * not know the sender's language), threaded under the email they sent, with the DSN fields
 * attached. It is a plain message with a text attachment rather than a multipart/report: the
 * mailer builds multipart/mixed only, and the SMS failed after the gateway had accepted the
 * email, so the sender's mail system has no delivery of its own to reconcile.
 */
export function composeFailureNotice(sms: FailedSms, options: NoticeOptions): OutgoingMail {
  const reason = failureReason(sms)
  const failedAt = sms.finalAt ?? sms.createdAt
  const partial = sms.status === 'partial'
  const french = [
    partial ? "Votre SMS n'a été remis qu'en partie." : "Votre SMS n'a pas pu être remis.",
    '',
    `Numéro : ${sms.recipient}`,
    `Envoyé le : ${frenchTime(sms.createdAt)}`,
    `Échec le : ${frenchTime(failedAt)}`,
    `Raison : ${reason.fr}`,
    ...(reason.parts?.fr ?? []),
    `Détail technique : ${oneLine(reason.diagnostic)}`,
    '',
    'Texte du SMS :',
    quoted(sms.body),
    '',
    'Ce message est automatique, merci de ne pas y répondre.',
  ]
  const english = [
    partial ? 'Your SMS was only partly delivered.' : 'Your SMS could not be delivered.',
    '',
    `Number: ${sms.recipient}`,
    `Sent: ${englishTime(sms.createdAt)}`,
    `Failed: ${englishTime(failedAt)}`,
    `Reason: ${reason.en}`,
    ...(reason.parts?.en ?? []),
    `Technical detail: ${oneLine(reason.diagnostic)}`,
    '',
    'SMS text:',
    quoted(sms.body),
    '',
    'This message is automatic, please do not reply to it.',
  ]
  const original = messageIdHeader(sms.sourceMessageId)
  return {
    from: options.from,
    to: sms.senderEmail,
    subject: partial
      ? `SMS remis en partie : ${sms.recipient} (SMS partly delivered)`
      : `SMS non remis : ${sms.recipient} (SMS not delivered)`,
    text: [...french, '', '-'.repeat(40), '', ...english, ''].join('\n'),
    inReplyTo: original,
    references: original,
    // Asks Exchange and Outlook not to answer the notice with an out-of-office reply.
    headers: { 'X-Auto-Response-Suppress': 'All' },
    attachments: [
      {
        filename: DETAILS_FILENAME,
        content: deliveryStatusFields(sms, options),
        contentType: 'text/plain; charset=utf-8',
      },
    ],
  }
}
