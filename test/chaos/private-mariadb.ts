import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { waitForPort } from '../../lib/process/haraka'
import { freePort } from '../support/mx'

const MARIADBD = process.env.CHAOS_MARIADBD ?? '/usr/sbin/mariadbd'
const INSTALL_DB = process.env.CHAOS_MARIADB_INSTALL_DB ?? 'mariadb-install-db'

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
  ) {}

  /** Makes a fresh data folder (root, empty password, over TCP) and starts the server. */
  static async create(): Promise<PrivateMariaDb> {
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
    const server = new PrivateMariaDb(dir, await freePort())
    await server.start()
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

  async start(): Promise<void> {
    if (this.running) return
    const args = [
      '--no-defaults',
      `--datadir=${path.join(this.dir, 'data')}`,
      `--port=${this.port}`,
      '--bind-address=127.0.0.1',
      `--socket=${path.join(this.dir, 'mysqld.sock')}`,
      `--pid-file=${path.join(this.dir, 'mysqld.pid')}`,
      `--tmpdir=${path.join(this.dir, 'tmp')}`,
      `--log-error=${path.join(this.dir, 'error.log')}`,
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=64M',
      '--max-connections=500',
      ...(process.getuid?.() === 0 ? ['--user=root'] : []),
    ]
    const child = spawn(MARIADBD, args, { stdio: 'ignore' })
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    // The port opens once crash recovery is over and the server takes queries.
    await waitForPort('127.0.0.1', this.port, 60_000, child).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.errorLogTail()}`, { cause: err })
    })
  }

  /** SIGKILL, by the server's own PID: the crash the suite recovers from. */
  async kill(): Promise<void> {
    if (!this.running) return
    this.child!.kill('SIGKILL')
    await this.exited
  }

  async destroy(): Promise<void> {
    await this.kill()
    fs.rmSync(this.dir, { recursive: true, force: true })
  }

  errorLogTail(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'error.log'), 'utf8').slice(-2000)
    } catch {
      return '(no error log)'
    }
  }
}
