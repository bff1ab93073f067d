import { SMS_DOMAIN } from '../support/mx'
import { buildMessage, sendMail, type SmtpReply, type Transcript } from '../support/smtp-client'
import { SENDERS } from './cluster'

/** One try of one email: the reply that settled it, or null for a lost or failed connection. */
export interface Attempt {
  at: number
  mx: number
  reply: SmtpReply | null
  error?: string
}

export interface SentEmail {
  index: number
  from: string
  /** The local part sent, a French mobile number unique to this email. */
  number: string
  /** The same number as the SMSC sees it. */
  international: string
  /** Unique in the SMS text, so each SMS can be traced to its email. */
  token: string
  attempts: Attempt[]
  acceptedAt: number | null
  /** A 5xx reply: the email will never be retried. */
  refused: SmtpReply | null
}

export interface LoadOptions {
  seed: number
  mxPorts: number[]
  emailsPerSecond: number
  durationMs: number
  /** Emails not settled by then are given up. */
  giveUpAt: () => number
  retryDelayMs: number
}

/** The reply that decided the transaction: the first refusal, else the end of DATA. */
function decidingReply(t: Transcript): SmtpReply {
  if (t.mail.code !== 250) return t.mail
  const refused = t.rcpts.find((r) => r.code !== 250)
  if (refused || !t.data) return refused ?? t.rcpts[0]
  return t.data
}

const FIRST_NUMBER = 610_000_000

function newEmail(index: number, seed: number): SentEmail {
  const n = FIRST_NUMBER + index
  return {
    index,
    from: SENDERS[index % SENDERS.length],
    number: `0${n}`,
    international: `33${n}`,
    token: `chaos-${seed}-${index}`,
    attempts: [],
    acceptedAt: null,
    refused: null,
  }
}

/**
 * Sends one email as a sending MTA would: a 4xx or a lost connection is retried, with the same
 * Message-ID, after a delay and on the other MX, until it gets 250 or 5xx (or the run gives up).
 */
async function deliver(
  email: SentEmail,
  o: Pick<LoadOptions, 'mxPorts' | 'giveUpAt' | 'retryDelayMs'>,
  messageId: string,
  firstMx = email.index % o.mxPorts.length,
): Promise<void> {
  const message = buildMessage({
    from: email.from,
    to: `${email.number}@${SMS_DOMAIN}`,
    body: `Test ${email.token} ok`,
    messageId,
  })
  for (let attempt = 0; ; attempt++) {
    const mx = (firstMx + attempt) % o.mxPorts.length
    const at = Date.now()
    try {
      const transcript = await sendMail(o.mxPorts[mx], {
        from: email.from,
        to: [`${email.number}@${SMS_DOMAIN}`],
        message,
      })
      const reply = decidingReply(transcript)
      email.attempts.push({ at, mx, reply })
      if (reply.code === 250) {
        email.acceptedAt = Date.now()
        return
      }
      if (reply.code >= 500) {
        email.refused = reply
        return
      }
    } catch (err) {
      email.attempts.push({ at, mx, reply: null, error: (err as Error).message })
    }
    if (Date.now() + o.retryDelayMs > o.giveUpAt()) return
    await new Promise((r) => setTimeout(r, o.retryDelayMs))
  }
}

/**
 * One email to one MX, not retried: after the faults, every MX must take mail at the first try.
 * Its index follows the load's, so it is reconciled like the others.
 */
export async function sendProbe(
  index: number,
  seed: number,
  mxPorts: number[],
  mx: number,
): Promise<SentEmail> {
  const email = newEmail(index, seed)
  const messageId = `<probe.${seed}.${index}.${Date.now()}@client.example.net>`
  await deliver(email, { mxPorts, giveUpAt: () => 0, retryDelayMs: 0 }, messageId, mx)
  return email
}

/** A steady stream of emails, each to its own number; resolves when every one is settled. */
export async function runLoad(o: LoadOptions): Promise<SentEmail[]> {
  const emails: SentEmail[] = []
  const deliveries: Array<Promise<void>> = []
  const start = Date.now()
  const total = Math.round((o.durationMs / 1000) * o.emailsPerSecond)
  const runId = `${o.seed}.${start}`
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / o.emailsPerSecond
    const wait = due - Date.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    const email = newEmail(i, o.seed)
    emails.push(email)
    deliveries.push(deliver(email, o, `<${runId}.${i}@client.example.net>`))
  }
  await Promise.all(deliveries)
  return emails
}
