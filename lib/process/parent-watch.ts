import net from 'node:net'
import type { StdioOptions } from 'node:child_process'

/**
 * Children of the supervisor die with it, however it dies (SIGKILL, OOM killer, a crash): Node
 * has no PR_SET_PDEATHSIG, so each child gets one end of a socket pair on this descriptor and
 * the supervisor keeps the other. The kernel closes the supervisor's end when its process
 * ends, and the child reads end-of-file. Without this, an orphaned MX keeps port 25 and the
 * next start fails on EADDRINUSE.
 */
const PARENT_PIPE_FD = 3
/** Names the descriptor; absent when the process was started by hand, without a supervisor. */
const PIPE_FD_ENV = 'MAIL2SMS_PARENT_PIPE_FD'
/** How long a child orphaned this way may take to stop before it exits anyway. */
const GRACE_ENV = 'MAIL2SMS_STOP_GRACE_MS'
const DEFAULT_GRACE_MS = 15_000

/** Spawn options that give a child the watched pipe: stdio for fds 0-3 and the environment. */
export function parentPipeSpawnOptions(
  stdio: 'inherit' | 'pipe' | 'ignore',
  graceMs: number,
): { stdio: StdioOptions; env: NodeJS.ProcessEnv } {
  return {
    stdio: [stdio, stdio, stdio, 'pipe'],
    env: { [PIPE_FD_ENV]: String(PARENT_PIPE_FD), [GRACE_ENV]: String(graceMs) },
  }
}

export interface ParentWatchOptions {
  /** What this process stops gracefully on: Haraka listens to SIGINT, our services to SIGTERM. */
  signal: NodeJS.Signals
  log?: (line: string) => void
  env?: NodeJS.ProcessEnv
}

/**
 * When the supervisor's end of the pipe closes, sends this process its own stop signal, and
 * exits after the grace period if it is still running then. Does nothing in a process that
 * was not given the pipe. Returns whether it watches.
 */
export function watchParent(opts: ParentWatchOptions): boolean {
  const env = opts.env ?? process.env
  const fd = Number(env[PIPE_FD_ENV])
  const graceMs = Number(env[GRACE_ENV]) || DEFAULT_GRACE_MS
  // Processes this one starts (Haraka's cluster workers) must not take their fd 3 for ours.
  delete env[PIPE_FD_ENV]
  delete env[GRACE_ENV]
  if (!Number.isInteger(fd) || fd < PARENT_PIPE_FD) return false
  const log = opts.log ?? ((line: string) => console.error(`[mail2sms] ${line}`))
  let pipe: net.Socket
  try {
    pipe = new net.Socket({ fd, readable: true, writable: false })
  } catch (err) {
    log(`cannot watch the supervisor (fd ${fd}): ${(err as Error).message}`)
    return false
  }
  let fired = false
  const parentGone = (): void => {
    if (fired) return
    fired = true
    log(`supervisor gone: stopping (${opts.signal}; exit in ${graceMs} ms at the latest)`)
    setTimeout(() => process.exit(1), graceMs).unref()
    process.kill(process.pid, opts.signal)
  }
  pipe.on('end', parentGone)
  pipe.on('close', parentGone)
  // A reset counts as the end too: either way nobody holds the other end any more.
  pipe.on('error', parentGone)
  // The supervisor never writes; reading is only how the end of file is seen.
  pipe.on('data', () => undefined)
  pipe.unref()
  return true
}
