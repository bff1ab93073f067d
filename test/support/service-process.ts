import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { DatabaseConfig } from '../../lib/config'

const ROOT = path.resolve(__dirname, '..', '..')

/** `[database]` lines for a test database. */
export function databaseIni(db: DatabaseConfig): string[] {
  return [
    '[database]',
    `url=${db.url ?? ''}`,
    `sqlite_file=${db.sqliteFile}`,
    `pool_max=${db.poolMax}`,
  ]
}

export interface ServiceProcess {
  logs(): string
  exited: Promise<number | null>
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>
}

/** `node bin/mail2sms.js <args>` with its own ini file, as an operator runs it. */
export function startService(configFile: string, lines: string[], args: string[]): ServiceProcess {
  fs.writeFileSync(configFile, lines.join('\n') + '\n')
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'mail2sms.js'), ...args],
    {
      env: { ...process.env, MAIL2SMS_CONFIG: configFile, DATABASE_URL: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (c) => (output += c))
  child.stderr?.on('data', (c) => (output += c))
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  return {
    logs: () => output,
    exited,
    stop: async (graceMs = 10_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
