import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { waitForPort } from '../support/wait-for-port'
import { freePort } from '../support/mx'

const MARIADBD = process.env.CHAOS_MARIADBD ?? '/usr/sbin/mariadbd'
const INSTALL_DB = process.env.CHAOS_MARIADB_INSTALL_DB ?? 'mariadb-install-db'

export interface PrivateMariaDbOptions {
  /**
   * An option file of the server's own (a Galera node's settings), given the server's folder.
   * Without one the server reads none (--no-defaults); with one, it and the tools it starts
   * (a state transfer's) read it and nothing from /etc/mysql.
   */
  optionFile?: (dir: string) => string
  /**
   * Leave the buffer pool at the server's default: mariabackup, which a Galera donor runs with
   * the server's own command line, refuses --innodb-buffer-pool-size there.
   */
  defaultBufferPool?: boolean
  /** Start it at once (the default), or leave that to the caller (a Galera joiner). */
  start?: boolean
}

/** Servers not yet destroyed: a test process that ends early must not leave one running. */
const live = new Set<PrivateMariaDb>()
process.once('exit', () => {
  for (const server of live) server.destroyNow()
})

/**
 * A MariaDB server of the test's own: its own data folder, port, socket, pid file and tmpdir,
 * so that killing it with SIGKILL never touches the shared server on 3306. Restarts reuse the
 * same data folder and port, as a server restarted by its service manager would.
 */
export class PrivateMariaDb {
  private child: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly options: PrivateMariaDbOptions,
  ) {}

  /** Makes a fresh data folder (root, empty password, over TCP) and starts the server. */
  static async create(options: PrivateMariaDbOptions = {}): Promise<PrivateMariaDb> {
    if (!fs.existsSync(MARIADBD)) throw new Error(`${MARIADBD} not found: install mariadb-server`)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-chaos-db-'))
    fs.mkdirSync(path.join(dir, 'tmp'))
    const install = spawnSync(
      INSTALL_DB,
      [
        '--no-defaults',
        '--auth-root-authentication-method=normal',
        `--datadir=${path.join(dir, 'data')}`,
        '--skip-test-db',
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ],
      { encoding: 'utf8' },
    )
    if (install.status !== 0) {
      fs.rmSync(dir, { recursive: true, force: true })
      throw new Error(`${INSTALL_DB} failed: ${install.error?.message ?? install.stderr}`)
    }
    if (options.optionFile) fs.writeFileSync(path.join(dir, 'my.cnf'), options.optionFile(dir))
    const server = new PrivateMariaDb(dir, await freePort(), options)
    live.add(server)
    if (options.start !== false) {
      await server.start().catch(async (err: unknown) => {
        await server.destroy()
        throw err
      })
    }
    return server
  }

  get serverUrl(): string {
    return `mysql://root@127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null
  }

  get pid(): number | null {
    return this.running ? (this.child?.pid ?? null) : null
  }

  /** Starts the server on its folder; `extraArgs` for this start only (--wsrep-new-cluster). */
  async start(extraArgs: string[] = [], timeoutMs = 60_000): Promise<void> {
    if (this.running) return
    const args = this.serverArgs(extraArgs)
    // A process group of its own: a Galera node's state transfer runs helpers (mariabackup,
    // socat) that must end with it.
    const child = spawn(MARIADBD, args, { stdio: 'ignore', detached: true })
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    // The port opens once crash recovery is over and the server takes queries.
    await waitForPort('127.0.0.1', this.port, timeoutMs, child).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.errorLogTail()}`, { cause: err })
    })
  }

  /**
   * Runs the server binary once with the server's options and `extraArgs` (--wsrep-recover),
   * for what it writes to its error log; resolves when it exits.
   */
  async runOnce(extraArgs: string[]): Promise<void> {
    if (this.running) throw new Error('the server is running')
    const child = spawn(MARIADBD, this.serverArgs(extraArgs), { stdio: 'ignore' })
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', () => resolve())
    })
  }

  private serverArgs(extraArgs: string[]): string[] {
    const optionFile = path.join(this.dir, 'my.cnf')
    return [
      this.options.optionFile ? `--defaults-file=${optionFile}` : '--no-defaults',
      `--datadir=${path.join(this.dir, 'data')}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${path.join(this.dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
      `--tmpdir=${path.join(this.dir, 'tmp')}`,
      `--log-error=${path.join(this.dir, 'error.log')}`,
      '--skip-name-resolve',
      '--skip-log-bin',
      ...(this.options.defaultBufferPool ? [] : ['--innodb-buffer-pool-size=64M']),
      '--max-connections=500',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ...extraArgs,
    ]
  }

  /** SIGKILL, by the server's own PID: the crash the suite recovers from. */
  async kill(): Promise<void> {
    if (!this.running) return
    this.killGroup()
    await this.exited
  }

  /** The server and whatever it started, by the group the server leads. */
  private killGroup(): void {
    const pid = this.child?.pid
    if (pid === undefined) return
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // Nothing left in the group.
    }
  }

  async destroy(): Promise<void> {
    await this.kill()
    this.destroyNow()
  }

  /**
   * Without waiting, for a process on its way out (a mocha run that timed out and exits): the
   * server's group is killed, also taking the helpers a state transfer may have left behind.
   */
  destroyNow(): void {
    // Once only: later, the group's id may belong to some other process.
    if (!live.has(this)) return
    this.killGroup()
    fs.rmSync(this.dir, { recursive: true, force: true })
    live.delete(this)
  }

  errorLogTail(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8').slice(-2000)
    } catch {
      return '(no error log)'
    }
  }
}
