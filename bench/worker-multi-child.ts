/**
 * One worker process of `bench:worker -- --workers N`: started by bench/worker-multi.ts over an
 * IPC channel, it waits for `drain`, then runs an SmsWorker wired as bench/worker-drain.ts wires
 * it (production logger and metrics, its own pool, its session bound first) and reports its
 * progress until `stop`, when it stops the worker and reports its counters. It stays up between
 * drains (warm code, like a long-running worker) and exits on `exit` or when the parent goes.
 */
import type { DatabaseConfig, SmppConfig, WorkerConfig } from '../lib/config'
import { startBenchWorker, type RunningWorker } from './worker-drain'

export interface MultiChildConfig {
  database: DatabaseConfig
  smpp: SmppConfig
  worker: WorkerConfig
}

export type MultiChildRequest = { type: 'drain' } | { type: 'stop' } | { type: 'exit' }

export type MultiChildMessage =
  | { type: 'ready' }
  /** hrtime (ns, as a string) just before worker.start(): the same clock in every process. */
  | { type: 'started'; startedAt: string }
  | { type: 'progress'; sent: number; receipts: number }
  | {
      type: 'stopped'
      stats: Record<string, number>
      claimErrors: number
      writeErrors: number
      deadlocks: number
      /** The first lines about failed claims or writes, for the report. */
      errorLines: string[]
    }

/** How often a draining worker tells the parent its counters (only when they moved). */
const PROGRESS_MS = 5

async function main(): Promise<void> {
  const send = process.send?.bind(process)
  if (!send) throw new Error('worker-multi-child.ts runs under bench/worker-multi.ts only')
  const tell = (m: MultiChildMessage): void => void send(m)
  const config = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '') as MultiChildConfig
  let running: RunningWorker | null = null
  let progress: NodeJS.Timeout | null = null
  const exit = (): void => {
    void (running?.stop() ?? Promise.resolve()).finally(() => process.exit(0))
  }
  process.on('disconnect', exit)
  process.on('message', (request: MultiChildRequest) => {
    if (request.type === 'exit') return exit()
    if (request.type === 'drain') {
      void startBenchWorker(config.database, config.smpp, config.worker).then((r) => {
        running = r
        tell({ type: 'started', startedAt: String(r.startedAt) })
        let last = ''
        progress = setInterval(() => {
          const { sent, receipts } = r.worker.stats
          const now = `${sent}/${receipts}`
          if (now === last) return
          last = now
          tell({ type: 'progress', sent, receipts })
        }, PROGRESS_MS)
      })
      return
    }
    const r = running
    running = null
    if (progress) clearInterval(progress)
    if (!r) return
    void r.stop().then(() =>
      tell({
        type: 'stopped',
        stats: { ...r.worker.stats },
        claimErrors: r.log.filter((l) => / event=cannot\.claim /.test(l)).length,
        writeErrors: r.log.filter((l) => / event=cannot\.record/.test(l)).length,
        deadlocks: r.log.filter((l) => l.includes('Deadlock found')).length,
        errorLines: r.log.filter((l) => / event=cannot\.(claim|record)/.test(l)).slice(0, 2),
      }),
    )
  })
  tell({ type: 'ready' })
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err)
  process.exit(1)
})
