import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { waitForPort } from '../support/wait-for-port'
import { freePort } from '../support/mx'
import { makeHarakaDir } from '../support/haraka-dir'

const ROOT = path.resolve(__dirname, '..', '..')

/** Gone, or a zombie nobody reaps (in a container PID 1 may not): either way it serves nothing. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

interface Supervisor {
  process: ChildProcess
  output(): string
  /** The pid of each service, from the supervisor's service.started lines. */
  pids(): Record<string, number>
}

describe('mail2sms start: children die with the supervisor', function () {
  this.timeout(120_000)
  let dir: string
  let mxPort: number
  let adminPort: number
  const started: Supervisor[] = []

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-sup-'))
    mxPort = await freePort()
    adminPort = await freePort()
    makeHarakaDir(path.join(dir, 'haraka'), mxPort)
    fs.writeFileSync(
      path.join(dir, 'mail2sms.ini'),
      [
        '[database]',
        `sqlite_file=${dir}/sup.sqlite`,
        '[mx]',
        'domains=sms.example.test',
        '[admin]',
        `port=${adminPort}`,
        `session_secret=${'s'.repeat(40)}`,
        '[mailer]',
        `directory=${dir}/mail`,
      ].join('\n') + '\n',
    )
  })

  after(async () => {
    for (const s of started) {
      if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill('SIGKILL')
      for (const pid of Object.values(s.pids())) if (isRunning(pid)) process.kill(pid, 'SIGKILL')
    }
    fs.rmSync(dir, { recursive: true, force: true })
  })

  function start(): Supervisor {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'mail2sms.js'), 'start'], {
      env: {
        ...process.env,
        MAIL2SMS_CONFIG: path.join(dir, 'mail2sms.ini'),
        MAIL2SMS_HARAKA_DIR: path.join(dir, 'haraka'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (c) => (output += c))
    child.stderr?.on('data', (c) => (output += c))
    const supervisor: Supervisor = {
      process: child,
      output: () => output,
      pids: () =>
        Object.fromEntries(
          [...output.matchAll(/event=service\.started name=(mx|worker|admin) pid=(\d+)/g)].map(
            (m) => [m[1], Number(m[2])],
          ),
        ),
    }
    started.push(supervisor)
    return supervisor
  }

  async function serving(s: Supervisor): Promise<void> {
    try {
      await waitForPort('127.0.0.1', mxPort, 60_000, s.process)
      await waitForPort('127.0.0.1', adminPort, 60_000, s.process)
      await until(() => Object.keys(s.pids()).length === 3, 10_000, 'three services started')
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${s.output().slice(-3000)}`, { cause: err })
    }
  }

  it('stops the MX, the worker and the admin when the supervisor is SIGKILLed; a new start binds the same ports', async () => {
    const first = start()
    await serving(first)
    const pids = first.pids()
    const exited = new Promise((resolve) => first.process.once('exit', resolve))
    first.process.kill('SIGKILL')
    await exited
    const killedAt = Date.now()
    for (const [name, pid] of Object.entries(pids)) {
      await until(() => !isRunning(pid), 20_000, `${name} (pid ${pid}) exiting`)
    }
    const tookMs = Date.now() - killedAt
    assert.ok(tookMs < 20_000, `children took ${tookMs} ms`)

    const second = start()
    await serving(second)
    // Every service of the second run is new and still up: none crash-looped on a taken port.
    const again = second.pids()
    for (const [name, pid] of Object.entries(again)) {
      assert.notEqual(pid, pids[name])
      assert.ok(isRunning(pid), `${name} of the second start is not running`)
    }
    assert.doesNotMatch(second.output(), /EADDRINUSE|exited \(code/)
    const stopped = new Promise<number | null>((resolve) =>
      second.process.once('exit', (code) => resolve(code)),
    )
    second.process.kill('SIGTERM')
    assert.equal(await stopped, 0)
  })
})
