import { readChaosSettings, type ChaosSettings } from '../chaos/settings'

export interface ClusterSettings {
  chaos: ChaosSettings
  /** The node to kill (0-based), or null for one picked by the seed. */
  killNode: number | null
}

/**
 * One database node killed mid-load, under the chaos suite's load and workers. CLUSTER_SEED
 * replays a run, CLUSTER_KILL_NODE=1..3 picks the node, CLUSTER_LOAD_S the load's length.
 */
export function readClusterSettings(env: NodeJS.ProcessEnv = process.env): ClusterSettings {
  const base = readChaosSettings({ CHAOS_SEED: env.CLUSTER_SEED, CHAOS_FAULTS: 'dbkill' })
  const loadSeconds = env.CLUSTER_LOAD_S ? Number(env.CLUSTER_LOAD_S) : 60
  if (!Number.isInteger(loadSeconds) || loadSeconds < 20)
    throw new Error('CLUSTER_LOAD_S must be a whole number of seconds, at least 20')
  const node = env.CLUSTER_KILL_NODE ? Number(env.CLUSTER_KILL_NODE) : null
  if (node !== null && ![1, 2, 3].includes(node))
    throw new Error('CLUSTER_KILL_NODE must be 1, 2 or 3')
  return {
    chaos: {
      ...base,
      loadMs: loadSeconds * 1000,
      // Down long enough for the others to evict it (evs.suspect_timeout is 5 s).
      downMs: [3000, 8000],
    },
    killNode: node === null ? null : node - 1,
  }
}
