import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Db } from '../lib/db/connection'
import { MYSQL_SERVER_URL } from '../test/support/databases'

/** Where the benches write their summaries, profiles and logs. */
export const RESULTS_DIR = path.join(__dirname, 'results')

/** This run's mark in the names of the files it writes, so runs never overwrite each other. */
export const RUN_STAMP = new Date().toISOString().replace(/[:.]/g, '-')

export interface MachineFacts {
  cpus: number
  cpuModel: string
  node: string
  /** MariaDB's version and address, without credentials. */
  database: string
}

/** What a result depends on besides the code: the machine, Node and the database server. */
export async function machineFacts(db: Db): Promise<MachineFacts> {
  const [rows] = (await db.raw('SELECT VERSION() AS v')) as [Array<{ v: string }>]
  const version = rows[0]?.v ?? 'unknown'
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    database: `${version} at ${MYSQL_SERVER_URL.replace(/\/\/[^@]*@/, '//')}`,
  }
}

/** Writes a bench's summary as results/<bench>-<stamp>.json and returns the file's path. */
export function writeResults(bench: string, summary: object): string {
  fs.mkdirSync(RESULTS_DIR, { recursive: true })
  const file = path.join(RESULTS_DIR, `${bench}-${RUN_STAMP}.json`)
  fs.writeFileSync(file, JSON.stringify(summary, null, 2) + '\n')
  return file
}

/** The most a run can reach if its processes had every CPU to themselves, and no waiting. */
export interface CpuCeiling {
  /** CPU per unit (ms) of every process the run needs: client, database, peer. */
  cpuMs: number
  /** cpus × 1000 / cpuMs: the rate at which that CPU fills the machine. */
  rate: number
  /** rate over the baseline's measured rate. */
  ratio: number
  /** The CPU per unit (ms) at which the ceiling would reach the target ratio. */
  cpuMsForTarget: number
}

/**
 * Tells a slow run that waits from one that has run out of CPU: when the measured ratio is
 * close to the ceiling, only less CPU per unit can raise it, not more concurrency or tuning.
 */
export function cpuCeiling(
  cpus: number,
  cpuMs: number,
  baselineRate: number,
  targetRatio: number,
): CpuCeiling {
  const rate = (cpus * 1000) / cpuMs
  return {
    cpuMs,
    rate,
    ratio: rate / baselineRate,
    cpuMsForTarget: (cpus * 1000) / (targetRatio * baselineRate),
  }
}

/** One summary line for cpuCeiling(); `what` names the processes counted. */
export function describeCeiling(c: CpuCeiling, cpus: number, what: string, target: number): string {
  if (!Number.isFinite(c.rate)) return 'ceiling    ? (CPU not measured)'
  return (
    `ceiling    ${cpus} CPUs all busy at ${c.cpuMs.toFixed(3)} ms CPU per SMS (${what}) = ` +
    `${c.rate.toFixed(0)} SMS/s, ${c.ratio.toFixed(2)} of raw; ${target} of raw needs <= ` +
    `${c.cpuMsForTarget.toFixed(3)} ms`
  )
}
