/**
 * Standard output for log lines, a write per turn of the event loop rather than per line.
 *
 * Node writes to a file or a pipe synchronously, one system call per write: with a line or two
 * per message, the MX spent more time in those calls than in formatting the lines. Lines are
 * kept until the current turn's callbacks have run (setImmediate) or 64 KiB are waiting, then
 * written together, in order. The process's exit writes what is left, synchronously, so an
 * exit or a crash that Node reports loses nothing; a process killed outright (SIGKILL) loses
 * the lines of its last turn.
 */

const FLUSH_AT_BYTES = 64 * 1024

let pending = ''
let scheduled = false
let exitHooked = false

export function flushStdout(): void {
  scheduled = false
  if (!pending) return
  const out = pending
  pending = ''
  try {
    process.stdout.write(out)
  } catch {
    // A closed standard output (EPIPE) must not take the process down with it.
  }
}

/** Queues one line (without its newline) for standard output. */
export function writeStdout(line: string): void {
  pending += `${line}\n`
  if (!exitHooked) {
    exitHooked = true
    process.on('exit', flushStdout)
  }
  if (pending.length >= FLUSH_AT_BYTES) return flushStdout()
  if (!scheduled) {
    scheduled = true
    setImmediate(flushStdout)
  }
}
