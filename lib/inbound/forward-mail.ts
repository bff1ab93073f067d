/**
 * The email an inbound SMS becomes. It comes from `<number>+<account ref>@<SMS domain>`, the
 * address the MX reads as "an SMS to <number> from this account": replying to it texts the
 * person back. The text is French, like the guide the product follows.
 */

import type { OutgoingMail } from '../mail/mailer'
import type { InboundSms } from '../db/inbound'
import { MISSING_PART_MARK } from './assembly'

/** The address whose replies go back as SMS to `number` from the account `ref`. */
export function replyAddress(number: string, ref: string, smsDomain: string): string {
  return `${number}+${ref}@${smsDomain}`
}

/** "vendredi 27 novembre 2026 à 15:44 UTC (2026-11-27T15:44:27Z)" */
export function describeTime(at: number): string {
  const readable = new Intl.DateTimeFormat('fr-FR', {
    timeZone: 'UTC',
    dateStyle: 'full',
    timeStyle: 'short',
  }).format(new Date(at))
  return `${readable} UTC (${new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')})`
}

/** The SMS this one answers, for direct reply: its sender and their email's Message-ID. */
export interface RepliedSms {
  id: number
  senderEmail: string
  body: string
  sourceMessageId: string | null
  createdAt: number
  /** The MX transaction that queued the SMS answered, for the log. */
  trace?: string | null
}

export interface ForwardMailInput {
  sms: InboundSms
  accountRef: string
  smsDomain: string
  to: string[]
  /** Set for a direct reply: the mail then threads under the sender's original email. */
  replied?: RepliedSms | null
}

function bracketed(messageId: string): string {
  const id = messageId.trim()
  return id.startsWith('<') ? id : `<${id}>`
}

function notes(sms: InboundSms): string[] {
  const lines: string[] = []
  if (sms.missingParts > 0) {
    const total = sms.parts + sms.missingParts
    lines.push(
      `Attention : ce SMS est incomplet (${sms.parts} parties reçues sur ${total}) ; « ${MISSING_PART_MARK} » marque ce qui manque.`,
    )
  }
  if (sms.encoding === 'binary') {
    lines.push('Ce SMS contient des données binaires, reproduites ici en hexadécimal.')
  }
  return lines
}

/**
 * Only an E.164 number can be texted back. A name ("Ma Banque") or a short code cannot, and is
 * no valid local part either: its quotes, spaces or brackets could even forge another From.
 */
export function canBeRepliedTo(fromNumber: string): boolean {
  return /^\+\d{7,15}$/.test(fromNumber)
}

export function composeForwardMail(input: ForwardMailInput): OutgoingMail {
  const { sms, replied } = input
  const from = sms.fromNumber
  const replyable = canBeRepliedTo(from)
  const lines = [
    `SMS reçu de ${from} sur votre numéro ${sms.toNumber}`,
    `Reçu le ${describeTime(sms.receivedAt)}`,
    ...notes(sms),
    '',
    sms.body,
    '',
    '--',
  ]
  if (replied) {
    const excerpt = replied.body.length > 160 ? `${replied.body.slice(0, 159)}…` : replied.body
    lines.push(`En réponse à votre SMS du ${describeTime(replied.createdAt)} :`, `« ${excerpt} »`)
    lines.push('')
  }
  lines.push(
    replyable
      ? `Répondez à cet e-mail pour envoyer un SMS à ${from}.`
      : `Cet expéditeur (« ${from} ») ne peut pas recevoir de SMS : il est impossible de lui répondre.`,
  )
  const mail: OutgoingMail = {
    // Not replyable: the gateway's own From, whose replies the MX refuses.
    ...(replyable
      ? { from: `"${from}" <${replyAddress(from, input.accountRef, input.smsDomain)}>` }
      : {}),
    to: input.to,
    subject: `SMS de ${from}`,
    text: lines.join('\n') + '\n',
    headers: { 'X-Mail2SMS-Inbound-Id': String(sms.id) },
  }
  if (replied?.sourceMessageId) {
    mail.inReplyTo = bracketed(replied.sourceMessageId)
    mail.references = bracketed(replied.sourceMessageId)
  }
  return mail
}
