import crypto from 'node:crypto'

export const FAULT_KINDS = ['dbkill', 'workerkill', 'mxkill', 'smscdrop', 'dbfreeze'] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface ChaosSettings {
  scale: 'short' | 'long'
  seed: number
  faults: FaultKind[]
  /** How long the steady load lasts, and its rate. */
  loadMs: number
  emailsPerSecond: number
  /** Faults injected during the load: with `short`, each enabled kind once. */
  faultCount: number
  /** After the load: how long unsettled emails keep being retried, then rows may drain. */
  settleMs: number
  drainMs: number
  /** A killed database or SMSC stays down this long (ms, picked in the range). */
  downMs: [number, number]
  /** A frozen database connection stays frozen this long. */
  freezeMs: [number, number]
  /** What a service manager waits before restarting a process that ended. */
  restartDelayMs: number
  /** The worker settings written to its ini file; the duplicate bounds are read from them. */
  worker: { batchSize: number; leaseMs: number; window: number }
}

function readFaults(value: string | undefined): FaultKind[] {
  if (!value) return [...FAULT_KINDS]
  const kinds = value
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean)
  for (const k of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(k))
      throw new Error(`CHAOS_FAULTS: unknown fault "${k}"; known: ${FAULT_KINDS.join(',')}`)
  }
  return kinds as FaultKind[]
}

/** Settings from CHAOS_SCALE (short|long), CHAOS_SEED and CHAOS_FAULTS. */
export function readChaosSettings(env: NodeJS.ProcessEnv = process.env): ChaosSettings {
  const scale = env.CHAOS_SCALE === 'long' ? 'long' : 'short'
  if (env.CHAOS_SCALE && env.CHAOS_SCALE !== scale)
    throw new Error(`CHAOS_SCALE must be short or long, got "${env.CHAOS_SCALE}"`)
  const seed = env.CHAOS_SEED ? Number(env.CHAOS_SEED) : crypto.randomInt(2 ** 31)
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`CHAOS_SEED must be an integer`)
  const faults = readFaults(env.CHAOS_FAULTS)
  const common = {
    seed,
    faults,
    restartDelayMs: 1000,
    worker: { batchSize: 20, leaseMs: 3000, window: 10 },
  }
  if (scale === 'long') {
    return {
      ...common,
      scale,
      loadMs: 600_000,
      emailsPerSecond: 15,
      faultCount: 40,
      settleMs: 90_000,
      drainMs: 120_000,
      downMs: [1000, 8000],
      freezeMs: [2000, 20_000],
    }
  }
  return {
    ...common,
    scale,
    loadMs: 45_000,
    emailsPerSecond: 8,
    faultCount: faults.length,
    settleMs: 60_000,
    drainMs: 60_000,
    downMs: [1000, 3000],
    freezeMs: [2000, 6000],
  }
}

export function pickInRange(random: () => number, [low, high]: [number, number]): number {
  return Math.round(low + random() * (high - low))
}
