/**
 * The SMTP clients of `npm run bench:mx-memory`, in a process of their own (forked by the
 * bench, driven over IPC) so that their sockets count against this process's descriptors, not
 * the bench's, and their memory never mixes with what is measured. Loopback only.
 *
 * Each connection reads the banner and says EHLO (`idle`), or goes on to MAIL, RCPT and DATA
 * and sends a few lines of the message without the final dot (`data`); then it waits, open,
 * until the bench says close.
 */
import net from 'node:net'

export type HoldMode = 'idle' | 'data'

export type ClientRequest =
  | {
      type: 'open'
      port: number
      count: number
      mode: HoldMode
      localAddress: string
      sender: string
      recipient: string
      /** Connections being set up at a time: Haraka listens with a short backlog. */
      concurrency: number
    }
  | { type: 'close' }

export type ClientReply =
  | { type: 'opened'; open: number; failed: number; firstError: string | null; ms: number }
  | { type: 'closed'; ms: number }

const STEP_TIMEOUT_MS = 30_000

/** The head and first lines of a message, as a client mid-DATA has sent them. */
function partialMessage(sender: string, recipient: string, n: number): string {
  return [
    `From: <${sender}>`,
    `To: <${recipient}>`,
    'Subject: bench mx-memory',
    `Message-ID: <mem${process.pid}.${n}@bench.example>`,
    'Date: Fri, 27 Nov 2026 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'A message held open in DATA by the memory bench: these lines are all the MX gets',
    'until the client closes the connection; the final dot never comes.',
    '',
  ].join('\r\n')
}

/** Sends `line` (unless null) and waits for a whole reply with the expected code. */
function exchange(socket: net.Socket, line: string | null, expected: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const done = (err: Error | null): void => {
      clearTimeout(timer)
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.off('error', done)
      if (err) reject(err)
      else resolve()
    }
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('latin1')
      // A reply ends with a line whose code is followed by a space, not a hyphen.
      const last = buffer.split('\r\n').find((l) => /^\d{3} /.test(l))
      if (last === undefined) return
      const code = Number(last.slice(0, 3))
      done(code === expected ? null : new Error(`${line ?? 'banner'}: ${last}`))
    }
    const onClose = (): void => done(new Error(`closed waiting for ${expected}`))
    const timer = setTimeout(
      () => done(new Error(`no ${expected} reply to ${line ?? 'banner'}`)),
      STEP_TIMEOUT_MS,
    )
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('error', done)
    if (line !== null) socket.write(`${line}\r\n`)
  })
}

async function openOne(
  req: Extract<ClientRequest, { type: 'open' }>,
  n: number,
): Promise<net.Socket> {
  const socket = net.connect({ port: req.port, host: '127.0.0.1', localAddress: req.localAddress })
  // Errors after set-up (a reset at close) are expected and must not crash the process.
  socket.on('error', () => undefined)
  try {
    await exchange(socket, null, 220)
    await exchange(socket, 'EHLO bench-memory.example', 250)
    if (req.mode === 'data') {
      await exchange(socket, `MAIL FROM:<${req.sender}>`, 250)
      await exchange(socket, `RCPT TO:<${req.recipient}>`, 250)
      await exchange(socket, 'DATA', 354)
      socket.write(partialMessage(req.sender, req.recipient, n))
    }
    return socket
  } catch (err) {
    socket.destroy()
    throw err
  }
}

const open = new Set<net.Socket>()

async function openMany(req: Extract<ClientRequest, { type: 'open' }>): Promise<ClientReply> {
  const started = Date.now()
  let next = 0
  let opened = 0
  let failed = 0
  let firstError: string | null = null
  const lane = async (): Promise<void> => {
    while (next < req.count) {
      const n = next++
      try {
        const socket = await openOne(req, n)
        open.add(socket)
        socket.once('close', () => open.delete(socket))
        opened++
      } catch (err) {
        failed++
        firstError ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(req.concurrency, req.count) }, lane))
  return { type: 'opened', open: opened, failed, firstError, ms: Date.now() - started }
}

async function closeAll(): Promise<ClientReply> {
  const started = Date.now()
  const closing = [...open].map(
    (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
  )
  for (const socket of open) socket.destroy()
  await Promise.all(closing)
  return { type: 'closed', ms: Date.now() - started }
}

process.on('message', (msg: ClientRequest) => {
  const work = msg.type === 'open' ? openMany(msg) : closeAll()
  void work.then((reply) => process.send?.(reply))
})
// The bench going away ends this process too: no orphan holding thousands of sockets.
process.on('disconnect', () => process.exit(0))
