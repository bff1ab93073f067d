import net from 'node:net'

export interface SmtpReply {
  code: number
  text: string
}

/**
 * A plain SMTP client that shows every reply, so a test can assert the code and text of each
 * phase (MAIL, each RCPT, end of DATA) rather than only the outcome.
 */
export class SmtpSession {
  private buffer = ''
  private lines: string[] = []
  private waiter: (() => void) | null = null
  private closed = false

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.setNoDelay(true)
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let i
      while ((i = this.buffer.indexOf('\r\n')) !== -1) {
        this.lines.push(this.buffer.slice(0, i))
        this.buffer = this.buffer.slice(i + 2)
      }
      this.waiter?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.waiter?.()
    })
  }

  static async open(
    port: number,
    options: { host?: string; localAddress?: string } = {},
  ): Promise<SmtpSession> {
    const socket = net.connect({
      port,
      host: options.host ?? '127.0.0.1',
      localAddress: options.localAddress,
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const session = new SmtpSession(socket)
    const greeting = await session.read()
    if (greeting.code !== 220) throw new Error(`greeting: ${greeting.code} ${greeting.text}`)
    return session
  }

  /** Reads one (possibly multi-line) reply. */
  async read(timeoutMs = 20_000): Promise<SmtpReply> {
    const deadline = Date.now() + timeoutMs
    const texts: string[] = []
    for (;;) {
      while (this.lines.length) {
        const line = this.lines.shift() as string
        texts.push(line.slice(4))
        if (line[3] !== '-') return { code: Number(line.slice(0, 3)), text: texts.join('\n') }
      }
      if (this.closed) throw new Error('connection closed while waiting for a reply')
      if (Date.now() > deadline) throw new Error('timed out waiting for a reply')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.waiter = () => {
          clearTimeout(t)
          this.waiter = null
          resolve()
        }
      })
    }
  }

  async command(line: string): Promise<SmtpReply> {
    this.socket.write(`${line}\r\n`)
    return this.read()
  }

  async ehlo(name = 'client.example.net'): Promise<SmtpReply> {
    return this.command(`EHLO ${name}`)
  }

  /** Sends DATA and the message (dot-stuffed), returning the reply to the end of data. */
  async data(message: string): Promise<SmtpReply> {
    const go = await this.command('DATA')
    if (go.code !== 354) return go
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')
    this.socket.write(body.endsWith('\r\n') ? `${body}.\r\n` : `${body}\r\n.\r\n`)
    return this.read()
  }

  /**
   * DATA with the message as bytes, for real mail in legacy charsets that a string would
   * re-encode. Line ends become CRLF (Haraka refuses a bare LF) and lines are dot-stuffed.
   */
  async dataBytes(message: Buffer): Promise<SmtpReply> {
    const go = await this.command('DATA')
    if (go.code !== 354) return go
    const body = message.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..')
    const end = body === '' || body.endsWith('\r\n') ? '.\r\n' : '\r\n.\r\n'
    this.socket.write(Buffer.from(body + end, 'latin1'))
    return this.read()
  }

  async quit(): Promise<void> {
    if (!this.closed) {
      try {
        await this.command('QUIT')
      } catch {
        // already gone
      }
    }
    this.socket.destroy()
  }
}

export interface Envelope {
  from: string
  to: string[]
  message: string
  localAddress?: string
  helo?: string
}

export interface Transcript {
  mail: SmtpReply
  rcpts: SmtpReply[]
  data: SmtpReply | null
}

/** One whole transaction; stops at the first phase that refuses, like a real MTA would. */
export async function sendMail(port: number, env: Envelope): Promise<Transcript> {
  const s = await SmtpSession.open(port, { localAddress: env.localAddress })
  try {
    await s.ehlo(env.helo)
    const mail = await s.command(`MAIL FROM:<${env.from}>`)
    const rcpts: SmtpReply[] = []
    if (mail.code !== 250) return { mail, rcpts, data: null }
    for (const to of env.to) rcpts.push(await s.command(`RCPT TO:<${to}>`))
    if (!rcpts.some((r) => r.code === 250)) return { mail, rcpts, data: null }
    return { mail, rcpts, data: await s.data(env.message) }
  } finally {
    await s.quit()
  }
}

let counter = 0
export function buildMessage(opts: {
  from: string
  to: string
  body: string
  subject?: string
  messageId?: string | null
  /** null leaves the Date header out. */
  date?: string | null
  headers?: Record<string, string>
}): string {
  const id =
    opts.messageId === undefined
      ? `<t${Date.now()}.${++counter}@client.example.net>`
      : opts.messageId
  const head = [
    `From: ${opts.from}`,
    `To: ${opts.to}`,
    `Subject: ${opts.subject ?? 'SMS'}`,
    ...(opts.date === null ? [] : [`Date: ${opts.date ?? 'Fri, 27 Nov 2026 10:00:00 +0000'}`]),
    ...(id ? [`Message-ID: ${id}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    ...Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
  ]
  return `${head.join('\r\n')}\r\n\r\n${opts.body}\r\n`
}
