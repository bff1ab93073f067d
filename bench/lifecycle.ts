/** What a bench started and must stop, newest first, whether it ends well, badly or is killed. */
export interface BenchCleanups {
  /** Registers a stop for what was just started. */
  push(stop: () => Promise<void>): void
  /** Runs every registered stop once, newest first, ignoring their failures. */
  run(): Promise<void>
}

/**
 * Cleans up on Ctrl-C, SIGTERM and after `deadlineMs`, then exits (130, 143, 2), so that a
 * bench interrupted or stuck never leaves servers or databases behind.
 */
export function benchCleanups(deadlineMs: number, stopping = 'stopping'): BenchCleanups {
  const stops: Array<() => Promise<void>> = []
  const run = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined)
  }
  const stopNow = (code: number, why: string) => (): void => {
    console.error(why)
    void run().finally(() => process.exit(code))
  }
  process.once('SIGINT', stopNow(130, `interrupted: ${stopping}`))
  process.once('SIGTERM', stopNow(143, `terminated: ${stopping}`))
  setTimeout(
    stopNow(2, `still running after ${Math.round(deadlineMs / 1000)} s: stopping`),
    deadlineMs,
  ).unref()
  return { push: (stop) => void stops.push(stop), run }
}

/** Runs a bench's main and exits with its code; a crash prints its stack and exits 1. */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err)
      process.exit(1)
    },
  )
}
