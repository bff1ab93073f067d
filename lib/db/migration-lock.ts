import crypto from 'node:crypto'
import os from 'node:os'
import type { Db } from './connection'
import { isDeadlock } from './errors'

/**
 * The migration lock of a Galera cluster. GET_LOCK is the node's own there (two nodes both get
 * it), and knex's lock row is taken only after knex has listed what to run, so a node that
 * listed before another finished runs every migration again. This lock is one row with a fixed
 * key, taken by an UPDATE that certification lets only one node commit, and held around the
 * whole of knex's run, listing included.
 */
export const CLUSTER_LOCK_TABLE = 'mail2sms_migration_lock'

export interface ClusterLockOptions {
  /** How long to wait for another node's migration. */
  timeoutMs: number
  /**
   * A holder that stops renewing (it died) loses the lock this long after its last renewal.
   * Long, because a Galera node applies no write, the renewal included, while an ALTER runs.
   */
  expireMs?: number
  /** How often the holder renews. */
  renewMs?: number
  /** Pause between tries while another node holds it. */
  pollMs?: number
}

const DEFAULT_EXPIRE_MS = 10 * 60_000

/** The server replicates with Galera (wsrep_on): MariaDB Galera Cluster, Percona XtraDB. */
export async function isGaleraNode(db: Db): Promise<boolean> {
  const [rows] = (await db.raw("SHOW VARIABLES LIKE 'wsrep_on'")) as [
    Array<{ Value: string | number }>,
  ]
  return rows.some((r) => String(r.Value).toUpperCase() === 'ON' || String(r.Value) === '1')
}

/**
 * Creates the lock's table and its one row. Both statements are idempotent; two nodes inserting
 * the row at once see one of them refused by certification, and the next try finds the row.
 */
async function ensureLockRow(db: Db): Promise<void> {
  await db.raw(
    `CREATE TABLE IF NOT EXISTS ${CLUSTER_LOCK_TABLE} (
       id INT NOT NULL PRIMARY KEY,
       holder VARCHAR(128) NULL,
       expires_at BIGINT NOT NULL DEFAULT 0
     ) DEFAULT CHARSET = utf8mb4`,
  )
  for (let attempt = 1; ; attempt++) {
    try {
      await db.raw(`INSERT IGNORE INTO ${CLUSTER_LOCK_TABLE} (id, expires_at) VALUES (1, 0)`)
      return
    } catch (err) {
      if (!isDeadlock(err) || attempt >= 5) throw err
    }
  }
}

/** One statement: the lock is ours if it was free or expired and this commit won. */
async function tryTake(db: Db, holder: string, expireMs: number): Promise<boolean> {
  const now = Date.now()
  try {
    const changed = await db(CLUSTER_LOCK_TABLE)
      .where('id', 1)
      .where((q) => q.whereNull('holder').orWhere('expires_at', '<', now))
      .update({ holder, expires_at: now + expireMs })
    return changed === 1
  } catch (err) {
    // Another node's take committed first (certification) or this one read a stale row.
    if (isDeadlock(err)) return false
    throw err
  }
}

async function release(db: Db, holder: string): Promise<void> {
  await db(CLUSTER_LOCK_TABLE).where({ id: 1, holder }).update({ holder: null, expires_at: 0 })
}

/** Runs fn while holding the cluster's migration lock; throws if it stays taken too long. */
export async function withClusterLock<T>(
  db: Db,
  options: ClusterLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const expireMs = options.expireMs ?? DEFAULT_EXPIRE_MS
  const renewMs = options.renewMs ?? Math.max(1000, Math.floor(expireMs / 10))
  const pollMs = options.pollMs ?? 500
  const holder = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`
  await ensureLockRow(db)
  const deadline = Date.now() + options.timeoutMs
  while (!(await tryTake(db, holder, expireMs))) {
    if (Date.now() > deadline) {
      throw new Error(
        `another node has been migrating this cluster for over ${Math.ceil(options.timeoutMs / 1000)}s`,
      )
    }
    await new Promise((r) => setTimeout(r, pollMs * (0.5 + Math.random())))
  }
  let renewing: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    // A renewal that fails is tried again at the next tick; the lock lasts expireMs meanwhile.
    renewing = db(CLUSTER_LOCK_TABLE)
      .where({ id: 1, holder })
      .update({ expires_at: Date.now() + expireMs })
      .catch(() => undefined)
  }, renewMs)
  try {
    return await fn()
  } finally {
    clearInterval(timer)
    await renewing
    await release(db, holder)
  }
}

/** Frees the cluster lock whoever holds it (a migration that was killed). */
export async function freeClusterLock(db: Db): Promise<void> {
  if (!(await db.schema.hasTable(CLUSTER_LOCK_TABLE))) return
  await db(CLUSTER_LOCK_TABLE).update({ holder: null, expires_at: 0 })
}
