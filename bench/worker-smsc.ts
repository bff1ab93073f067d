import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'

export const SMSC_SYSTEM_ID = 'bench'
export const SMSC_PASSWORD = 'bench'

export type SmscChildRequest = { type: 'report' } | { type: 'stop' }

export interface SmscChildReport {
  type: 'report'
  /** Every submit_sm since the last report: destination, arrival time (Date.now()), status. */
  submits: Array<[dest: string, at: number, status: number]>
  /** Receipts written to a session, and those the ESME acknowledged with status 0. */
  receipts: number
  receiptAcks: number
  /** Most submit_sm unanswered at once since the last report. */
  maxOutstanding: number
  /** Successful binds since start. */
  binds: number
}

type SmscChildMessage = SmscChildReport | { type: 'ready'; port: number }

export interface SmscChild {
  port: number
  pid: number
  /** What the simulator received since the last report (the first: since it started). */
  report(): Promise<SmscChildReport>
  stop(): Promise<void>
}

const ROOT = path.resolve(__dirname, '..')
const START_TIMEOUT_MS = 30_000
const REPORT_TIMEOUT_MS = 30_000

function nextMessage(child: ChildProcess, timeoutMs: number): Promise<SmscChildMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (m: SmscChildMessage): void => done(null, m)
    const onExit = (code: number | null): void => done(new Error(`exited with code ${code}`))
    const done = (err: Error | null, m?: SmscChildMessage): void => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
      if (err) reject(new Error(`SMSC simulator: ${err.message}`))
      else resolve(m as SmscChildMessage)
    }
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

/** Starts the in-repo SmscSimulator in a child process on 127.0.0.1 and a free port. */
export async function startSmscChild(receiptDelayMs: number): Promise<SmscChild> {
  const child = fork(
    path.join(ROOT, 'bin', 'run-ts.js'),
    [path.join(__dirname, 'worker-smsc-child.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_SMSC_SYSTEM_ID: SMSC_SYSTEM_ID,
        BENCH_SMSC_PASSWORD: SMSC_PASSWORD,
        BENCH_SMSC_RECEIPT_DELAY_MS: String(receiptDelayMs),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  let ready: SmscChildMessage
  try {
    ready = await nextMessage(child, START_TIMEOUT_MS)
  } catch (err) {
    child.kill('SIGKILL')
    throw err
  }
  if (ready.type !== 'ready') throw new Error(`SMSC simulator: unexpected ${ready.type}`)
  // One request at a time: answers come back in order.
  let queue: Promise<unknown> = Promise.resolve()
  return {
    port: ready.port,
    pid: child.pid ?? 0,
    report: () => {
      const asked = queue.then(async () => {
        const answer = nextMessage(child, REPORT_TIMEOUT_MS)
        child.send({ type: 'report' } satisfies SmscChildRequest)
        const m = await answer
        if (m.type !== 'report') throw new Error(`SMSC simulator: unexpected ${m.type}`)
        return m
      })
      queue = asked.catch(() => undefined)
      return asked
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      if (child.connected) child.send({ type: 'stop' } satisfies SmscChildRequest)
      else child.kill('SIGTERM')
      await exited
      clearTimeout(timer)
    },
  }
}
