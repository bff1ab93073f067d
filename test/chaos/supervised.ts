import { spawn } from 'node:child_process'
import path from 'node:path'

/** One run of a process: how to tell it ended, how to kill it, what it said. */
export interface Incarnation {
  exited: Promise<void>
  /** SIGKILL, resolving once the process is gone. */
  kill(): Promise<void>
  logs(): string
}

export interface UnplannedExit {
  service: string
  at: number
  logTail: string
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A process kept running the way systemd's Restart=always would: whatever ends it (our SIGKILL
 * or its own exit), it is started again after a delay. Exits the harness did not cause are
 * recorded, as they are findings in themselves.
 */
export class SupervisedService {
  readonly unplannedExits: UnplannedExit[] = []
  starts = 0
  private current: Incarnation | null = null
  private killing = false
  private stopped = false
  private restarting: Promise<void> | null = null

  constructor(
    readonly name: string,
    private readonly launch: () => Promise<Incarnation>,
    private readonly restartDelayMs: number,
  ) {}

  async start(): Promise<void> {
    for (;;) {
      try {
        const run = await this.launch()
        this.starts++
        this.current = run
        void run.exited.then(() => this.onExit(run))
        return
      } catch (err) {
        this.unplannedExits.push({
          service: this.name,
          at: Date.now(),
          logTail: `did not start: ${(err as Error).message.slice(-1500)}`,
        })
        if (this.stopped) throw err
        await sleep(this.restartDelayMs)
      }
    }
  }

  /** SIGKILLs the process; resolves once the supervisor has it running again. */
  async kill(): Promise<void> {
    const run = this.current
    if (!run) return
    this.killing = true
    await run.kill()
    // Whichever of this and the exit listener runs first schedules the restart; the other is a no-op.
    this.onExit(run)
    await this.restarting
  }

  logs(): string {
    return this.current?.logs() ?? ''
  }

  async stop(): Promise<void> {
    this.stopped = true
    await this.restarting?.catch(() => undefined)
    await this.current?.kill()
  }

  private onExit(run: Incarnation): void {
    if (this.current !== run || this.stopped) return
    if (!this.killing) {
      this.unplannedExits.push({
        service: this.name,
        at: Date.now(),
        logTail: run.logs().slice(-1500),
      })
    }
    this.killing = false
    this.current = null
    this.restarting = sleep(this.restartDelayMs).then(() =>
      this.stopped ? undefined : this.start(),
    )
  }
}

const ROOT = path.resolve(__dirname, '..', '..')
const LOG_KEEP = 200_000

/** `mail2sms worker --no-migrate` as its own process, with a config file of its own. */
export function launchWorkerProcess(configFile: string): Promise<Incarnation> {
  const env: NodeJS.ProcessEnv = { ...process.env, MAIL2SMS_CONFIG: configFile }
  delete env.DATABASE_URL
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'mail2sms.js'), 'worker', '--no-migrate'],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-LOG_KEEP)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return Promise.resolve({
    exited,
    logs: () => output,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  })
}
