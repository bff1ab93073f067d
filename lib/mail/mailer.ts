import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer'
import type { MailerConfig } from '../config'

/** One message the gateway itself sends: invitation, forwarded SMS, failure notice. */
export interface OutgoingMail {
  /** Defaults to the configured From. */
  from?: string
  to: string | string[]
  subject: string
  text: string
  html?: string
  replyTo?: string
  inReplyTo?: string
  references?: string | string[]
  /** Extra headers; Auto-Submitted is always set and cannot be overridden. */
  headers?: Record<string, string>
  /** Attached as message/rfc822-headers or text, for failure notices. */
  attachments?: Array<{ filename: string; content: string; contentType: string }>
}

export interface SentMail {
  messageId: string
  /** Where transport=file wrote it; absent for SMTP. */
  file?: string
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>
  close(): Promise<void>
}

export interface MailerLog {
  info(message: string): void
}

/**
 * Every mail the gateway sends is automatic (RFC 3834): the MX refuses automatic mail, so a
 * notice bounced or auto-answered back to the gateway can never loop into an SMS.
 */
const LOOP_HEADERS = { 'Auto-Submitted': 'auto-generated' }

function domainOf(from: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(from)
  return match ? match[1].toLowerCase() : 'localhost'
}

/** Header names are case-blind: drop any spelling of Auto-Submitted a caller passed. */
function withoutAutoSubmitted(headers: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'auto-submitted'),
  )
}

function toNodemailer(mail: OutgoingMail, defaultFrom: string): SendMailOptions {
  const from = mail.from ?? defaultFrom
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    replyTo: mail.replyTo,
    inReplyTo: mail.inReplyTo,
    references: mail.references,
    messageId: `<${crypto.randomUUID()}@${domainOf(from)}>`,
    headers: { ...withoutAutoSubmitted(mail.headers), ...LOOP_HEADERS },
    attachments: mail.attachments,
  }
}

/** Writes each message as an .eml file: the embedded default, so nothing needs a relay. */
class FileMailer implements Mailer {
  private readonly stream = nodemailer.createTransport({ streamTransport: true, buffer: true })

  constructor(
    private readonly config: MailerConfig,
    private readonly log: MailerLog,
  ) {}

  async send(mail: OutgoingMail): Promise<SentMail> {
    const options = toNodemailer(mail, this.config.from)
    const info = await this.stream.sendMail(options)
    fs.mkdirSync(this.config.directory, { recursive: true })
    const stamp = new Date().toISOString().replace(/[:.]/g, '-')
    const file = path.join(this.config.directory, `${stamp}-${crypto.randomUUID()}.eml`)
    fs.writeFileSync(file, info.message as Buffer, { mode: 0o640 })
    this.log.info(`mail written to=${[mail.to].flat().join(',')} file=${file}`)
    return { messageId: String(options.messageId), file }
  }

  async close(): Promise<void> {
    this.stream.close()
  }
}

class SmtpMailer implements Mailer {
  private readonly transport: Transporter

  constructor(
    private readonly config: MailerConfig,
    private readonly log: MailerLog,
  ) {
    // A pooled connection: forwards of a burst of inbound SMS reuse one session.
    this.transport = nodemailer.createTransport(
      `${config.smtpUrl}${config.smtpUrl.includes('?') ? '&' : '?'}pool=true`,
    )
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const options = toNodemailer(mail, this.config.from)
    const info = await this.transport.sendMail(options)
    this.log.info(
      `mail sent to=${[mail.to].flat().join(',')} id=${options.messageId} relay=${info.response}`,
    )
    return { messageId: String(options.messageId) }
  }

  async close(): Promise<void> {
    this.transport.close()
  }
}

export function createMailer(config: MailerConfig, log: MailerLog = { info: () => {} }): Mailer {
  return config.transport === 'smtp' ? new SmtpMailer(config, log) : new FileMailer(config, log)
}
