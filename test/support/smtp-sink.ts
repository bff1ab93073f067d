import { SMTPServer, type SMTPServerAddress } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'
import type { AddressInfo } from 'node:net'
import type { MailerConfig } from '../../lib/config'

/** One message the sink accepted, with its envelope and parsed content. */
export interface CaughtMail {
  envelopeFrom: string
  envelopeTo: string[]
  raw: Buffer
  parsed: ParsedMail
  /** Header value by lower-cased name, as text ('' when absent). */
  header(name: string): string
}

/**
 * A real SMTP server on loopback that keeps what it receives: the relay the gateway's mailer
 * talks to in tests. No TLS, no auth; it accepts every message unless told to refuse the next.
 */
export class SmtpSink {
  readonly mails: CaughtMail[] = []
  private refuseNext = 0
  private waiters: Array<() => void> = []
  private server: SMTPServer

  constructor() {
    this.server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => chunks.push(chunk))
        stream.on('end', () => {
          if (this.refuseNext > 0) {
            this.refuseNext -= 1
            const err = new Error('sink told to refuse this message') as Error & {
              responseCode: number
            }
            err.responseCode = 451
            callback(err)
            return
          }
          const raw = Buffer.concat(chunks)
          simpleParser(raw).then(
            (parsed) => {
              this.mails.push({
                envelopeFrom: addressOf(session.envelope.mailFrom),
                envelopeTo: session.envelope.rcptTo.map(addressOf),
                raw,
                parsed,
                header: (name) => headerText(parsed, name),
              })
              callback()
              for (const wake of this.waiters.splice(0)) wake()
            },
            (err: Error) => callback(err),
          )
        })
      },
    })
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(0, '127.0.0.1', () => resolve())
    })
    return this.port
  }

  get port(): number {
    return (this.server.server.address() as AddressInfo).port
  }

  /** Mailer settings that send to this sink. */
  mailerConfig(from = 'Mail2SMS <mail2sms@sms.example.test>'): MailerConfig {
    return {
      transport: 'smtp',
      smtpUrl: `smtp://127.0.0.1:${this.port}`,
      from,
      directory: '',
    }
  }

  /** Answers 451 to the next n messages, as a relay that is briefly unavailable. */
  refuse(n = 1): void {
    this.refuseNext += n
  }

  /** Mails sent to this address (envelope), in arrival order. */
  mailsTo(address: string): CaughtMail[] {
    const wanted = address.toLowerCase()
    return this.mails.filter((m) => m.envelopeTo.some((to) => to.toLowerCase() === wanted))
  }

  /** Waits until the predicate holds over the caught mails, or fails after timeoutMs. */
  async until(predicate: (mails: CaughtMail[]) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this.mails)) {
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new Error(
          `smtp sink: condition not met after ${timeoutMs} ms (${this.mails.length} mails)`,
        )
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200))
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

function addressOf(address: SMTPServerAddress | false): string {
  return address ? address.address : ''
}

function headerText(parsed: ParsedMail, name: string): string {
  const value = parsed.headers.get(name.toLowerCase())
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(String).join(', ')
  if (typeof value === 'object' && 'text' in value) return String((value as { text: string }).text)
  if (typeof value === 'object' && 'value' in value)
    return String((value as { value: unknown }).value)
  return String(value)
}
