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
