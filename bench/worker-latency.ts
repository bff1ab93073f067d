/**
 * The steady load of `bench:worker`'s latency phase: emails sent through the MX at a fixed
 * rate, each on the first free of a few open SMTP sessions, one recipient each, with the time of
 * each 250 as the client saw it.
 */
import { buildMessage, SmtpSession } from '../test/support/smtp-client'

export interface PacedOptions {
  port: number
  from: string
  /** One email per address, in order. */
  recipients: string[]
  perSecond: number
  sessions: number
  body: (i: number) => string
}

export interface PacedEmail {
  recipient: string
  /** When the schedule said to start this email, and when it started (Date.now()). */
  dueAt: number
  startedAt: number
  /** When the client read the reply to the end of DATA. */
  repliedAt: number
  code: number
  text: string
  /** The id in "250 … SMS <id>", when accepted. */
  smsId: number | null
}

export interface PacedResult {
  emails: PacedEmail[]
  seconds: number
  /** Largest delay of a start behind its schedule, ms: the load was steady if this is small. */
  maxLateMs: number
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)))

async function transaction(
  s: SmtpSession,
  from: string,
  to: string,
  body: string,
): Promise<{ code: number; text: string }> {
  const mail = await s.command(`MAIL FROM:<${from}>`)
  if (mail.code !== 250) return mail
  const rcpt = await s.command(`RCPT TO:<${to}>`)
  if (rcpt.code !== 250) {
    await s.command('RSET')
    return rcpt
  }
  return s.data(buildMessage({ from, to, body }))
}

/** Sends every email on schedule: email i starts at start + i / perSecond, or as soon as a session is free. */
export async function sendPaced(o: PacedOptions): Promise<PacedResult> {
  const sessions = await Promise.all(
    Array.from({ length: o.sessions }, () => SmtpSession.open(o.port)),
  )
  const emails: PacedEmail[] = []
  const interval = 1000 / o.perSecond
  let next = 0
  const start = Date.now() + 50
  try {
    await Promise.all(sessions.map((s) => s.ehlo('bench.example')))
    await Promise.all(
      sessions.map(async (s) => {
        for (let i = next++; i < o.recipients.length; i = next++) {
          const dueAt = start + Math.round(i * interval)
          await sleep(dueAt - Date.now())
          const startedAt = Date.now()
          const reply = await transaction(s, o.from, o.recipients[i], o.body(i))
          const repliedAt = Date.now()
          const id = reply.code === 250 ? /SMS (\d+)/.exec(reply.text) : null
          emails[i] = {
            recipient: o.recipients[i],
            dueAt,
            startedAt,
            repliedAt,
            code: reply.code,
            text: reply.text,
            smsId: id ? Number(id[1]) : null,
          }
        }
      }),
    )
  } finally {
    await Promise.all(sessions.map((s) => s.quit()))
  }
  const last = emails.reduce((t, e) => Math.max(t, e.repliedAt), start)
  return {
    emails,
    seconds: (last - start) / 1000,
    maxLateMs: emails.reduce((m, e) => Math.max(m, e.startedAt - e.dueAt), 0),
  }
}

export interface Percentiles {
  count: number
  min: number
  p50: number
  p90: number
  p99: number
  max: number
  mean: number
}

/** Nearest-rank percentiles, in the values' unit. */
export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  return {
    count: sorted.length,
    min: sorted[0] ?? NaN,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[sorted.length - 1] ?? NaN,
    mean: sorted.reduce((a, b) => a + b, 0) / (sorted.length || 1),
  }
}
