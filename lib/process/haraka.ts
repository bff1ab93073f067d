import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { parentPipeSpawnOptions } from './parent-watch'

export interface HarakaOptions {
  /** Folder holding config/ and plugins/, as `haraka -c` expects. */
  dir: string
  /** Load the plugins' TypeScript through ts-node instead of the build in dist/. */
  typescript: boolean
  env?: NodeJS.ProcessEnv
  stdio?: 'inherit' | 'pipe' | 'ignore'
  /** Stop when the process that spawned Haraka dies, then exit after this grace (ms) at the latest. */
  dieWithParentGraceMs?: number
}

export function harakaCommand(opts: HarakaOptions): { command: string; args: string[] } {
  const harakaBin = path.join(path.dirname(require.resolve('haraka/package.json')), 'bin', 'haraka')
  // Resolved here: Haraka's working folder has no node_modules of its own.
  const preload = opts.typescript ? ['-r', require.resolve('ts-node/register/transpile-only')] : []
  // Resolves to the .ts source under ts-node and to the build otherwise, like the caller.
  // haraka-console first: what the others print comes out in our log format.
  preload.push('-r', require.resolve('./haraka-console'))
  if (opts.dieWithParentGraceMs !== undefined)
    preload.push('-r', require.resolve('./haraka-parent-watch'))
  // `-c` must come first on Haraka's own command line.
  return { command: process.execPath, args: [...preload, harakaBin, '-c', opts.dir] }
}

export function spawnHaraka(opts: HarakaOptions): ChildProcess {
  const { command, args } = harakaCommand(opts)
  // ts-node looks for tsconfig.json from the working folder, which is Haraka's, not ours.
  const tsEnv = opts.typescript
    ? { TS_NODE_PROJECT: path.join(__dirname, '..', '..', 'tsconfig.json') }
    : {}
  const stdio = opts.stdio ?? 'inherit'
  const watched =
    opts.dieWithParentGraceMs === undefined
      ? { stdio, env: {} }
      : parentPipeSpawnOptions(stdio, opts.dieWithParentGraceMs)
  return spawn(command, args, {
    cwd: opts.dir,
    env: { ...process.env, ...tsEnv, ...opts.env, ...watched.env },
    stdio: watched.stdio,
  })
}
