import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import knex from 'knex'
import { freePort } from '../support/mx'
import type { DatabaseServers, ServerKill } from '../chaos/database-servers'
import { PrivateMariaDb } from '../chaos/private-mariadb'

const PROVIDER = process.env.CLUSTER_GALERA_PROVIDER ?? '/usr/lib/galera/libgalera_smm.so'
/** State transfers of a test-sized database take seconds; a loaded machine, more. */
const SYNC_TIMEOUT_MS = 180_000

interface NodePorts {
  sql: number
  /** Galera's group communication, incremental and full state transfer. */
  gmcast: number
  ist: number
  sst: number
}

/** What a node said about itself the last time it was asked. */
export interface NodeState {
  state: string
  clusterSize: number
  ready: boolean
}

/** One Galera node: a private MariaDB with the wsrep settings of its place in the cluster. */
export class GaleraNode {
  /** When the node last went down, and how long its last rejoin took (start to Synced). */
  lastRejoinMs: number | null = null
  lastTransfer: 'IST' | 'SST' | 'unknown' | null = null

  constructor(
    readonly name: string,
    readonly server: PrivateMariaDb,
    readonly ports: NodePorts,
  ) {}

  get serverUrl(): string {
    return this.server.serverUrl
  }

  get running(): boolean {
    return this.server.running
  }

  /** SIGKILL, by the node's PID: a database host that dies. */
  kill(): Promise<void> {
    return this.server.kill()
  }

  /**
   * Starts the node on its folder and waits until it is Synced: after a crash it rejoins the
   * others by an incremental state transfer (IST) when their cache still holds what it
   * missed, by a full copy (SST, mariabackup) otherwise.
   */
  async rejoin(): Promise<void> {
    const started = Date.now()
    const logSize = this.errorLogSize()
    const position = await this.recoverPosition()
    await this.server.start(position ? [`--wsrep-start-position=${position}`] : [], SYNC_TIMEOUT_MS)
    await this.waitSynced(SYNC_TIMEOUT_MS)
    this.lastRejoinMs = Date.now() - started
    this.lastTransfer = this.transferSince(logSize)
  }

  /**
   * The last write set this node committed, read from InnoDB by `mariadbd --wsrep-recover` (as
   * the galera_recovery script of the systemd unit does): a node killed with SIGKILL leaves
   * seqno -1 in grastate.dat, and without its position it would need a full copy (SST).
   */
  private async recoverPosition(): Promise<string | null> {
    const offset = this.errorLogSize()
    await this.server.runOnce(['--wsrep-recover'])
    const text = fs.readFileSync(this.errorLogFile()).subarray(offset).toString('utf8')
    const found = /WSREP: Recovered position: ([0-9a-f-]{36}:-?\d+)/.exec(text)
    return found && !found[1].endsWith(':-1') ? found[1] : null
  }

  async state(): Promise<NodeState> {
    const conn = knex({
      client: 'mysql2',
      connection: { uri: this.serverUrl, connectTimeout: 2000 } as never,
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: 2000,
    })
    try {
      const [rows] = (await conn.raw(
        `SHOW STATUS WHERE Variable_name IN
           ('wsrep_local_state_comment', 'wsrep_cluster_size', 'wsrep_ready')`,
      )) as [Array<{ Variable_name: string; Value: string }>]
      const get = (name: string) => rows.find((r) => r.Variable_name === name)?.Value ?? ''
      return {
        state: get('wsrep_local_state_comment'),
        clusterSize: Number(get('wsrep_cluster_size')),
        ready: get('wsrep_ready') === 'ON',
      }
    } finally {
      await conn.destroy()
    }
  }

  async waitSynced(timeoutMs: number, clusterSize = 0): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      let last: string
      if (!this.running) throw new Error(`${this.name} exited\n${this.server.errorLogTail()}`)
      try {
        const s = await this.state()
        last = `${s.state}, cluster of ${s.clusterSize}`
        if (s.state === 'Synced' && s.ready && s.clusterSize >= clusterSize) return
      } catch (err) {
        last = (err as Error).message
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name} not Synced after ${timeoutMs} ms (${last})`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  private errorLogFile(): string {
    return path.join(this.server.dir, 'error.log')
  }

  private errorLogSize(): number {
    try {
      return fs.statSync(this.errorLogFile()).size
    } catch {
      return 0
    }
  }

  /** How the last join got its data, from what the server logged since `offset`. */
  private transferSince(offset: number): 'IST' | 'SST' | 'unknown' {
    let text: string
    try {
      text = fs.readFileSync(this.errorLogFile()).subarray(offset).toString('utf8')
    } catch {
      return 'unknown'
    }
    // mariabackup's script runs in both cases, and says which one it did.
    if (/Running IST|IST completed on joiner/.test(text)) return 'IST'
    if (/SST completed on joiner|SST succeeded/.test(text)) return 'SST'
    return 'unknown'
  }

  errorLogTail(): string {
    return this.server.errorLogTail()
  }
}

/**
 * A node's option file: what makes it a member of this cluster, as an operator would write it
 * in /etc/mysql/mariadb.conf.d/60-galera.cnf (docs/galera.md).
 */
function galeraOptions(
  name: string,
  clusterName: string,
  own: NodePorts,
  all: NodePorts[],
): (dir: string) => string {
  const members = all.map((p) => `127.0.0.1:${p.gmcast}`).join(',')
  const provider = [
    `gmcast.listen_addr=tcp://127.0.0.1:${own.gmcast}`,
    `ist.recv_addr=127.0.0.1:${own.ist}`,
    // Enough write sets for a node down a minute under the test's load to catch up by IST.
    'gcache.size=256M',
  ].join(';')
  return (dir) =>
    [
      '[mysqld]',
      'wsrep_on=ON',
      `wsrep_provider=${PROVIDER}`,
      `wsrep_cluster_name=${clusterName}`,
      `wsrep_cluster_address=gcomm://${members}`,
      `wsrep_node_name=${name}`,
      'wsrep_node_address=127.0.0.1',
      `wsrep_provider_options="${provider}"`,
      `wsrep_sst_receive_address=127.0.0.1:${own.sst}`,
      'wsrep_sst_method=mariabackup',
      'wsrep_sst_auth=root:',
      'binlog_format=ROW',
      'default_storage_engine=InnoDB',
      'innodb_autoinc_lock_mode=2',
      '[sst]',
      // The state transfer script keeps its logs in /tmp/sst_log_archive unless told otherwise.
      'sst-log-archive=0',
      `tmpdir=${path.join(dir, 'tmp')}`,
      '',
    ].join('\n')
}

/** A three-node (or n-node) Galera cluster on loopback, each node with its own everything. */
export class GaleraCluster {
  private constructor(readonly nodes: GaleraNode[]) {}

  /**
   * Makes every node's folder, bootstraps the first node (--wsrep-new-cluster) and joins the
   * others to it one at a time (each by a full state transfer). On failure, whatever started
   * is stopped and removed.
   */
  static async start(size = 3, log: (line: string) => void = () => undefined) {
    const clusterName = `m2s-${crypto.randomBytes(4).toString('hex')}`
    const ports: NodePorts[] = []
    for (let i = 0; i < size; i++) {
      ports.push({
        sql: 0,
        gmcast: await freePort(),
        ist: await freePort(),
        sst: await freePort(),
      })
    }
    const nodes: GaleraNode[] = []
    const cluster = new GaleraCluster(nodes)
    try {
      for (let i = 0; i < size; i++) {
        const name = `node${i + 1}`
        const server = await PrivateMariaDb.create({
          optionFile: galeraOptions(name, clusterName, ports[i], ports),
          defaultBufferPool: true,
          start: false,
        })
        ports[i].sql = server.port
        nodes.push(new GaleraNode(name, server, ports[i]))
      }
      const started = Date.now()
      await nodes[0].server.start(['--wsrep-new-cluster'], SYNC_TIMEOUT_MS)
      await nodes[0].waitSynced(SYNC_TIMEOUT_MS)
      for (let i = 1; i < size; i++) {
        await nodes[i].server.start([], SYNC_TIMEOUT_MS)
        await nodes[i].waitSynced(SYNC_TIMEOUT_MS, i + 1)
      }
      log(`galera: ${size} nodes Synced in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      return cluster
    } catch (err) {
      const tails = nodes.map((n) => `--- ${n.name}\n${n.errorLogTail()}`).join('\n')
      await cluster.destroy()
      throw new Error(`${(err as Error).message}\n${tails}`, { cause: err })
    }
  }

  /** Every node killed by its PID, every folder removed. */
  async destroy(): Promise<void> {
    for (const node of this.nodes) await node.server.destroy().catch(() => undefined)
  }
}

/** Which node each process uses: the two MX and the two workers spread over three nodes. */
export const PLACEMENT = { mx: [0, 1], workers: [2, 0] }

/**
 * The Galera cluster as the chaos harness's database: each MX and worker on a node of its
 * own (PLACEMENT), a database kill being one node's SIGKILL and its rejoin.
 */
export class GaleraServers implements DatabaseServers {
  /** Nodes down or rejoining, which the harness's own statements avoid. */
  private readonly away = new Set<GaleraNode>()
  readonly kills: Array<{ node: string; rejoinMs: number | null; transfer: string | null }> = []

  constructor(
    readonly cluster: GaleraCluster,
    /** The node to kill (0-based); by default one picked at random for each kill. */
    private readonly killNode: number | null = null,
  ) {}

  serverFor(role: 'mx' | 'worker', i: number): string {
    const placement = role === 'mx' ? PLACEMENT.mx : PLACEMENT.workers
    return this.cluster.nodes[placement[i]].serverUrl
  }

  liveServer(): string {
    const node = this.cluster.nodes.find((n) => n.running && !this.away.has(n))
    if (!node) throw new Error('no Galera node is up')
    return node.serverUrl
  }

  migrationServers(): string[] {
    return this.cluster.nodes.map((n) => n.serverUrl)
  }

  /** Who is on node i, for the report. */
  private usersOf(i: number): string[] {
    return [
      ...PLACEMENT.mx.flatMap((n, k) => (n === i ? [`mx${k + 1}`] : [])),
      ...PLACEMENT.workers.flatMap((n, k) => (n === i ? [`worker${k + 1}`] : [])),
    ]
  }

  async killAndRestart(downMs: number, random: () => number): Promise<ServerKill> {
    const nodes = this.cluster.nodes
    const i = this.killNode ?? Math.floor(random() * nodes.length)
    const node = nodes[i]
    const users = this.usersOf(i)
    const kill = {
      node: node.name,
      rejoinMs: null as number | null,
      transfer: null as string | null,
    }
    this.kills.push(kill)
    this.away.add(node)
    await node.kill()
    await new Promise((r) => setTimeout(r, downMs))
    await node.rejoin()
    this.away.delete(node)
    kill.rejoinMs = node.lastRejoinMs
    kill.transfer = node.lastTransfer
    return {
      target: `${node.name} (${users.join(', ') || 'no process'})`,
      detail:
        `down ${downMs} ms, then rejoined by ${node.lastTransfer} in ` +
        `${((node.lastRejoinMs ?? 0) / 1000).toFixed(1)} s`,
      workersCut: PLACEMENT.workers.filter((n) => n === i).length,
    }
  }

  async restore(): Promise<void> {
    for (const node of this.cluster.nodes) {
      if (node.running && !this.away.has(node)) continue
      await node.kill()
      await node.rejoin()
      this.away.delete(node)
    }
  }

  destroy(): Promise<void> {
    return this.cluster.destroy()
  }
}
