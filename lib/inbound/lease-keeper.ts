/**
 * Keeps a lease alive while its holder waits on something slow (a relay taking minutes to
 * answer): without it the lease runs out, another process claims the row and mails it again.
 * A crashed process stops renewing, so its rows still come back when the lease ends.
 */

export interface LeaseKeeperOptions {
  leaseMs: number
  clock: () => number
  /** Moves the lease's end to `until`; false when the row is no longer held. */
  extend: (until: number) => Promise<boolean>
  log: (line: string) => void
}

/**
 * Runs `work`, extending the lease every leaseMs / 3 until it settles. The last extension has
 * finished when this resolves, so the caller's fenced update sees the lease as it now is.
 */
export async function whileHoldingLease<T>(
  opts: LeaseKeeperOptions,
  work: () => Promise<T>,
): Promise<T> {
  let renewing: Promise<unknown> = Promise.resolve()
  const timer = setInterval(
    () => {
      renewing = renewing
        .then(() => opts.extend(opts.clock() + opts.leaseMs))
        .catch((err: Error) => opts.log(`cannot extend lease: ${err.message}`))
    },
    Math.max(10, Math.floor(opts.leaseMs / 3)),
  )
  try {
    return await work()
  } finally {
    clearInterval(timer)
    await renewing
  }
}
