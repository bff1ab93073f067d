import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig } from '../../lib/config'
import { EXIT_CONFIG } from '../../lib/process/supervisor'
import { waitForPort } from '../support/wait-for-port'
import { makeHarakaDir } from '../support/haraka-dir'
import { freePort } from '../support/mx'

const ROOT = path.resolve(__dirname, '..', '..')
const UNITS_DIR = path.join(ROOT, 'deploy', 'systemd')
/** Where docs/production.md installs the project; the units name it. */
const INSTALL_DIR = '/opt/mail2sms'
const SERVICES = ['mx', 'worker', 'admin'] as const

type Unit = Map<string, string[]>

/** A unit file's settings by key (a key may repeat), sections flattened: enough for these checks. */
function readUnit(name: string): Unit {
  const unit: Unit = new Map()
  for (const raw of fs.readFileSync(path.join(UNITS_DIR, name), 'utf8').split('\n')) {
    const line = raw.trim()
    const eq = line.indexOf('=')
    if (!line || line.startsWith('#') || line.startsWith('[') || eq === -1) continue
    const key = line.slice(0, eq)
    unit.set(key, [...(unit.get(key) ?? []), line.slice(eq + 1)])
  }
  return unit
}

function one(unit: Unit, key: string): string {
  const values = unit.get(key) ?? []
  assert.equal(values.length, 1, `${key} set once`)
  return values[0]
}

/** The unit's ExecStart as it runs from this checkout instead of /opt/mail2sms. */
function command(unit: Unit): { file: string; args: string[] } {
  const [node, ...args] = one(unit, 'ExecStart').split(/\s+/)
  assert.equal(node, '/usr/bin/node', 'Debian/NodeSource install node there')
  return {
    file: process.execPath,
    args: args.map((a) => a.replace(INSTALL_DIR, ROOT)),
  }
}

function systemdAnalyzeAvailable(): boolean {
  return spawnSync('systemd-analyze', ['--version']).status === 0
}

/** A running unit command, in its own process group like the unit's control group. */
interface Running {
  child: ChildProcess
  output(): string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

function run(unit: Unit, env: NodeJS.ProcessEnv): Running {
  const { file, args } = command(unit)
  const child = spawn(file, args, { cwd: ROOT, env, detached: true, stdio: 'pipe' })
  let output = ''
  child.stdout?.on('data', (c) => (output += c))
  child.stderr?.on('data', (c) => (output += c))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, output: () => output, exited }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('deploy/systemd: the units', function () {
  this.timeout(120_000)

  it('pass systemd-analyze verify without a warning', function () {
    if (!systemdAnalyzeAvailable()) {
      // .ci/run installs systemd; a developer machine without it says so instead of passing.
      if (process.env.CI === 'true') assert.fail('systemd-analyze is missing (package systemd)')
      this.skip()
    }
    const files = fs.readdirSync(UNITS_DIR).filter((f) => /\.(service|target)$/.test(f))
    assert.deepEqual(files.sort(), [
      'mail2sms-admin.service',
      'mail2sms-migrate.service',
      'mail2sms-mx.service',
      'mail2sms-worker.service',
      'mail2sms.target',
    ])
    const result = spawnSync('systemd-analyze', ['verify', ...files], {
      cwd: UNITS_DIR,
      encoding: 'utf8',
    })
    // verify exits 0 on keys it does not know or cannot parse: its warnings count as failures.
    assert.equal(result.status, 0, result.stderr)
    assert.equal(result.stderr.trim(), '', 'no warnings')
  })

  it('stop each service the way it stops, within the time the supervisor allows', () => {
    const config = loadConfig(path.join(ROOT, 'config', 'mail2sms.ini'))
    // The worker finishes what is in flight (lib/process/supervisor.ts gives every service this).
    const workerStopS =
      (config.worker.shutdownGraceMs + 2 * config.smpp.requestTimeoutMs + 5000) / 1000
    const units = Object.fromEntries(SERVICES.map((s) => [s, readUnit(`mail2sms-${s}.service`)]))
    assert.equal(one(units.mx, 'KillSignal'), 'SIGINT', 'Haraka stops on SIGINT')
    assert.equal(one(units.worker, 'KillSignal'), 'SIGTERM')
    assert.equal(one(units.admin, 'KillSignal'), 'SIGTERM')
    for (const s of ['mx', 'worker'] as const) {
      assert.ok(Number(one(units[s], 'TimeoutStopSec')) > workerStopS, `${s}: > ${workerStopS} s`)
    }
    for (const name of [
      ...SERVICES.map((s) => `mail2sms-${s}.service`),
      'mail2sms-migrate.service',
    ]) {
      const unit = readUnit(name)
      assert.equal(one(unit, 'RestartPreventExitStatus'), String(EXIT_CONFIG), name)
      assert.equal(one(unit, 'Restart'), 'on-failure', name)
      assert.equal(one(unit, 'User'), 'mail2sms', name)
      assert.equal(one(unit, 'ProtectSystem'), 'strict', name)
      assert.equal(one(unit, 'NoNewPrivileges'), 'yes', name)
      assert.ok(one(unit, 'ReadWritePaths').split(' ').includes(`${INSTALL_DIR}/data`), name)
      if (name !== 'mail2sms-migrate.service') {
        assert.equal(one(unit, 'KillMode'), 'control-group', name)
        assert.match(one(unit, 'ExecStart'), / --no-migrate$/, `${name}: the migrate unit migrates`)
      }
    }
    assert.ok(one(units.mx, 'ReadWritePaths').split(' ').includes(`${INSTALL_DIR}/queue`))
    assert.equal(one(units.mx, 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE')
  })

  describe('their commands, started and stopped as systemd does', () => {
    let dir: string
    let env: NodeJS.ProcessEnv
    let harakaPort: number
    let adminPort: number
    const started: Running[] = []

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-units-'))
      harakaPort = await freePort()
      adminPort = await freePort()
      makeHarakaDir(path.join(dir, 'haraka'), harakaPort)
      const shipped = fs.readFileSync(path.join(ROOT, 'config', 'mail2sms.ini'), 'utf8')
      const ini = [
        '[database]',
        `sqlite_file=${path.join(dir, 'mail2sms.sqlite')}`,
        '[mx]',
        'domains=sms.example.test',
        '[worker]',
        'transport=console',
        '[admin]',
        'host=127.0.0.1',
        `port=${adminPort}`,
        `session_secret=${'s'.repeat(40)}`,
        '[mailer]',
        'transport=file',
        `directory=${path.join(dir, 'mail')}`,
        // The ops listeners have fixed default ports: off here, so runs in parallel cannot clash.
        ...(/^\[ops\]/m.test(shipped)
          ? ['[ops]', 'mx_listen=', 'worker_listen=', 'admin_listen=']
          : []),
      ]
      fs.writeFileSync(path.join(dir, 'mail2sms.ini'), ini.join('\n') + '\n')
      env = {
        ...process.env,
        MAIL2SMS_CONFIG: path.join(dir, 'mail2sms.ini'),
        MAIL2SMS_HARAKA_DIR: path.join(dir, 'haraka'),
        DATABASE_URL: '',
      }
      // The units set NODE_ENV=production, which runs dist/: here the sources are under test.
      delete env.NODE_ENV
    })

    after(async () => {
      for (const r of started)
        if (r.child.pid && groupAlive(r.child.pid)) process.kill(-r.child.pid, 'SIGKILL')
      if (dir) fs.rmSync(dir, { recursive: true, force: true })
    })

    it('mail2sms-migrate applies the migrations and exits 0', async () => {
      const r = run(readUnit('mail2sms-migrate.service'), env)
      started.push(r)
      const { code } = await r.exited
      assert.equal(code, 0, r.output())
      assert.match(r.output(), /applied \d{14}_/)
    })

    for (const service of SERVICES) {
      it(`mail2sms-${service} starts, and its KillSignal to the whole group stops it cleanly`, async () => {
        const unit = readUnit(`mail2sms-${service}.service`)
        const r = run(unit, env)
        started.push(r)
        if (service === 'mx') await waitForPort('127.0.0.1', harakaPort, 60_000, r.child)
        else if (service === 'admin') await waitForPort('127.0.0.1', adminPort, 60_000, r.child)
        else await until('the worker to start', () => /transport=console/.test(r.output()), 60_000)

        const pgid = r.child.pid as number
        const signal = one(unit, 'KillSignal') as NodeJS.Signals
        const limitMs = Number(one(unit, 'TimeoutStopSec')) * 1000
        const since = Date.now()
        // KillMode=control-group: every process of the unit gets the signal, not only the main one.
        process.kill(-pgid, signal)
        const result = await Promise.race([
          r.exited,
          new Promise<null>((resolve) => setTimeout(() => resolve(null), limitMs)),
        ])
        assert.ok(result, `${service} still running after TimeoutStopSec\n${r.output()}`)
        // systemd counts exit 0, and death by SIGINT or SIGTERM, as a clean stop (no restart).
        assert.ok(
          result.code === 0 || result.signal === signal,
          `${JSON.stringify(result)}\n${r.output()}`,
        )
        await until('every process of the group to end', () => !groupAlive(pgid), 5000)
        console.log(`      ${service}: stopped in ${Date.now() - since} ms`)
      })
    }

    it('a setting the services refuse ends them with 78, the status the units never restart', async () => {
      const bad = path.join(dir, 'bad.ini')
      fs.writeFileSync(bad, '[mx]\nno_such_key=1\n')
      await Promise.all(
        SERVICES.map(async (service) => {
          const r = run(readUnit(`mail2sms-${service}.service`), { ...env, MAIL2SMS_CONFIG: bad })
          started.push(r)
          const { code } = await r.exited
          assert.equal(code, 78, `${service}: ${r.output()}`)
          assert.match(r.output(), /no_such_key/)
        }),
      )
    })
  })
})
