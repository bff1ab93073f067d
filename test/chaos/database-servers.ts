import { PrivateMariaDb } from './private-mariadb'

/** What killing a database server did, for the fault's line in the report. */
export interface ServerKill {
  target: string
  detail: string
  /** Workers whose database was the one killed: each may send its batch again. */
  workersCut: number
}

/**
 * The database the gateway's processes run on: one server, or the nodes of a cluster, each
 * process placed on one of them. URLs name a server, not a database.
 */
export interface DatabaseServers {
  /** Server URL of the server the i-th MX, or the i-th worker, connects to. */
  serverFor(role: 'mx' | 'worker', i: number): string
  /** A server that answers now, for the harness's own statements. */
  liveServer(): string
  /** Servers the schema is migrated from at once at the start (every node of a cluster). */
  migrationServers(): string[]
  /** SIGKILLs one server, starts it again after `downMs`, waits until it serves again. */
  killAndRestart(downMs: number, random: () => number): Promise<ServerKill>
  /** Every server up again, after a fault that failed half-way. */
  restore(): Promise<void>
  /** Every server stopped by its PID, every folder removed. */
  destroy(): Promise<void>
}

/** One private MariaDB that every process shares: the chaos suite's database. */
export class SingleServer implements DatabaseServers {
  private constructor(
    readonly server: PrivateMariaDb,
    private readonly workers: number,
  ) {}

  static async start(workers: number): Promise<SingleServer> {
    return new SingleServer(await PrivateMariaDb.create(), workers)
  }

  serverFor(): string {
    return this.server.serverUrl
  }

  liveServer(): string {
    return this.server.serverUrl
  }

  migrationServers(): string[] {
    return [this.server.serverUrl]
  }

  async killAndRestart(downMs: number): Promise<ServerKill> {
    await this.server.kill()
    await new Promise((r) => setTimeout(r, downMs))
    await this.server.start()
    return { target: 'mariadbd', detail: `down ${downMs} ms`, workersCut: this.workers }
  }

  async restore(): Promise<void> {
    if (!this.server.running) await this.server.start()
  }

  destroy(): Promise<void> {
    return this.server.destroy()
  }
}
