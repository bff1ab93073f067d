import fs from 'node:fs'
import { spawnSync } from 'node:child_process'

/**
 * CPU accounting from Linux's /proc, so that a round can say where its CPU went (Haraka,
 * MariaDB, the whole machine) and not only how long it took. Elsewhere these read as null.
 */

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100

function readArgv(pid: string): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  } catch {
    return []
  }
}

function pids(): string[] {
  try {
    return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))
  } catch {
    return []
  }
}

/** The Haraka started with `-c dir`; RunningMx does not expose its child process. */
export function findHarakaPid(dir: string): number | null {
  for (const pid of pids()) {
    const argv = readArgv(pid)
    const i = argv.indexOf('-c')
    if (i >= 0 && argv[i + 1] === dir) return Number(pid)
  }
  return null
}

/** The port of the server the benches use: MAIL2SMS_TEST_MYSQL_URL's, else 3306. */
function databasePort(): number {
  try {
    return Number(new URL(process.env.MAIL2SMS_TEST_MYSQL_URL ?? '').port) || 3306
  } catch {
    return 3306
  }
}

/** The port on a server's command line (`--port=N` or `--port N`), if it names one. */
function portArgument(argv: string[]): number | null {
  for (const [i, arg] of argv.entries()) {
    if (arg.startsWith('--port=')) return Number(arg.slice('--port='.length))
    if (arg === '--port') return Number(argv[i + 1])
  }
  return null
}

/**
 * The local MariaDB or MySQL server the benches talk to, if it runs on this machine: the one
 * started with that port, else one started without a port (its configuration's, 3306 here).
 * A private server of a test or another bench (its own `--port`) is not the one measured.
 */
export function findDatabasePid(port = databasePort()): number | null {
  let unnamed: number | null = null
  for (const pid of pids()) {
    try {
      const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()
      if (comm !== 'mariadbd' && comm !== 'mysqld') continue
    } catch {
      // The process ended while we looked.
      continue
    }
    const named = portArgument(readArgv(pid))
    if (named === port) return Number(pid)
    if (named === null) unnamed ??= Number(pid)
  }
  return unnamed
}

/** User plus system CPU seconds the process has used so far. */
export function processCpuSeconds(pid: number | null): number | null {
  if (pid === null) return null
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS
  } catch {
    return null
  }
}

export interface MachineTimes {
  busy: number
  total: number
}

export function machineTimes(): MachineTimes | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = v[3] + (v[4] ?? 0)
    const total = v.reduce((a, b) => a + b, 0)
    return { busy: total - idle, total }
  } catch {
    return null
  }
}

/** Share of all CPUs that were busy between two readings, 0 to 1. */
export function busyShare(a: MachineTimes | null, b: MachineTimes | null): number | null {
  if (!a || !b || b.total === a.total) return null
  return (b.busy - a.busy) / (b.total - a.total)
}
