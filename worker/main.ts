import type { Mail2SmsConfig } from '../lib/config'
import { openDb } from '../lib/db/connection'
import { ConsoleTransport, SmppTransport, type SmsTransport } from '../lib/worker/transport'
import { SmsWorker } from '../lib/worker/worker'

const STATS_EVERY_MS = 10_000

function log(line: string): void {
  console.log(`${new Date().toISOString()} [worker] ${line}`)
}

function makeTransport(config: Mail2SmsConfig): SmsTransport {
  if (config.worker.transport === 'console') return new ConsoleTransport((l) => log(l))
  return new SmppTransport(config.smpp, {
    info: (m) => log(`smpp ${m}`),
    warn: (m) => log(`smpp WARN ${m}`),
    error: (m) => log(`smpp ERROR ${m}`),
  })
}

/**
 * The SMS worker as a process: runs until SIGTERM or SIGINT, then stops claiming, waits for
 * the answers to what is in flight (worker.shutdown_grace_ms), records them and unbinds.
 */
export function runWorker(config: Mail2SmsConfig): Promise<number> {
  const db = openDb(config.database)
  const transport = makeTransport(config)
  const worker = new SmsWorker({
    db,
    transport,
    config: config.worker,
    receipts: config.smpp.receipts,
    defaultSource: config.smpp.defaultSource,
    log,
  })
  log(`owner=${worker.owner} transport=${transport.name} batch=${config.worker.batchSize}`)
  worker.start()
  let last = { ...worker.stats }
  const stats = setInterval(() => {
    const s = worker.stats
    if (JSON.stringify(s) === JSON.stringify(last)) return
    log(
      Object.entries(s)
        .map(([k, v]) => `${k}=${v - last[k as keyof typeof s]}`)
        .join(' ') + ' (last 10 s)',
    )
    last = { ...s }
  }, STATS_EVERY_MS)
  stats.unref()
  return new Promise((resolve) => {
    // Ctrl-C under `npm start` reaches the worker and the supervisor, which then sends SIGTERM:
    // both signals lead to the one shutdown.
    let stopping = false
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      log(`${sig}: stopping`)
      clearInterval(stats)
      worker
        .stop()
        .then(async (unwritten) => {
          await db.destroy()
          resolve(unwritten === 0 ? 0 : 1)
        })
        .catch((err) => {
          log(`stop failed: ${(err as Error).message}`)
          resolve(1)
        })
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}
