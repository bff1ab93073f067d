import type { Mail2SmsConfig } from '../lib/config'
import { openDb, type Db } from '../lib/db/connection'
import { waitForDatabaseOrStop } from '../lib/db/readiness'
import { InboundMailDispatcher } from '../lib/inbound/dispatcher'
import { MoReceiver } from '../lib/inbound/receiver'
import { createMailer } from '../lib/mail/mailer'
import { NoticeSender } from '../lib/notices/notice-sender'
import { QuotaAlertSender } from '../lib/limits/quota-alert-sender'
import { RetentionPurgeJob } from '../lib/retention/purge-job'
import { DailyRollupJob } from '../lib/worker/daily-rollup-job'
import type { SmppLogger } from '../lib/smpp/client'
import { createLogger, errorText, lineSink, type Logger } from '../lib/log'
import { ConsoleTransport, SmppTransport, type SmsTransport } from '../lib/worker/transport'
import { SmsWorker } from '../lib/worker/worker'
import { startServiceOps, type ServiceOps } from '../lib/ops/service'
import { stateCheck, transportCheck } from '../lib/ops/readiness'
import { workerMetrics, type WorkerMetrics } from '../lib/ops/worker-metrics'
import { claimMetrics, loopMetrics, purgeMetrics, smppMetrics } from '../lib/ops/metrics'
import type { SmppObserver } from '../lib/ops/observers'

const STATS_EVERY_MS = 10_000
/** How long a stopping worker waits for inbound SMS still being stored (then acknowledged). */
const INBOUND_STORE_GRACE_MS = 2000

/**
 * The SMPP client's lines as the worker writes them. They are free text that names its subject
 * first ("smpp bound host=…"): the logger reads the event and fields from it, at their level.
 */
export function smppLogger(logger: Logger): SmppLogger {
  return {
    info: (m) => logger.line('info', m),
    warn: (m) => logger.line('warn', m),
    error: (m) => logger.line('error', m),
  }
}

function makeTransport(
  config: Mail2SmsConfig,
  logger: Logger,
  observer?: SmppObserver,
): SmsTransport {
  if (config.worker.transport === 'console') return new ConsoleTransport(logger)
  return new SmppTransport(config.smpp, smppLogger(logger), { observer })
}

export interface RunWorkerOptions {
  /** Apply pending migrations first (else wait until another process has). */
  migrate?: boolean
}

/**
 * The SMS worker as a process. Waits (no claims, no SMPP session) until the database answers
 * with its schema current, migrating it first unless told not to; then sends queued SMS, stores the SMS phones send back (MO) and
 * emails them. Runs until SIGTERM or SIGINT, then refuses new MO (the SMSC redelivers them) and
 * finishes storing and acknowledging those under way, stops claiming, waits for the answers to
 * what is in flight (worker.shutdown_grace_ms), records them and unbinds; then finishes the
 * mails under way and closes the mailer and the database.
 */
export async function runWorker(
  config: Mail2SmsConfig,
  options: RunWorkerOptions = {},
): Promise<number> {
  const logger = createLogger({ service: 'worker', ...config.log })
  const db = openDb(config.database)
  // Up before the wait for the database, so that /readyz says what the worker waits for.
  const ops = await startServiceOps({ listen: config.ops.worker, db, log: lineSink(logger) })
  ops.setCheck(
    stateCheck('smsc', () => ({ ok: false, detail: 'not started: waiting for the database' })),
  )
  let ready: boolean
  try {
    ready = await waitForDatabaseOrStop(db, config.database, {
      migrate: options.migrate !== false,
      log: lineSink(logger),
    })
  } catch (err) {
    await ops.close()
    await db.destroy()
    throw err
  }
  if (!ready) {
    await ops.close()
    await db.destroy()
    return 0
  }
  return serve(config, db, logger, ops)
}

function serve(config: Mail2SmsConfig, db: Db, logger: Logger, ops: ServiceOps): Promise<number> {
  const log = lineSink(logger)
  const mailer = createMailer(config.mailer, { info: log })
  // Counted once, at the one place each happens: SMPP answers, poll rounds, lease claims.
  const observers = ops.registry
    ? { loop: loopMetrics(ops.registry), claim: claimMetrics(ops.registry) }
    : {}
  const transport = makeTransport(
    config,
    logger,
    ops.registry ? smppMetrics(ops.registry) : undefined,
  )
  let metrics: WorkerMetrics | null = null
  const worker = new SmsWorker({
    db,
    transport,
    config: config.worker,
    receipts: config.smpp.receipts,
    receiptIdFormat: config.smpp.receiptIdFormat,
    receiptPartWaitMs: config.smpp.receiptPartWaitMs,
    defaultSource: config.smpp.defaultSource,
    log: logger,
    observers,
    onSettled: (settled, now) => metrics?.settled(settled, now),
  })
  const moReceiver = new MoReceiver({
    db,
    log,
    defaultAlphabet: config.smpp.defaultAlphabet,
  })
  transport.on('mo', moReceiver.receive)
  const dispatcher = new InboundMailDispatcher({
    db,
    mailer,
    smsDomain: config.mx.domains[0],
    directReplyWindowHours: config.inbound.directReplyWindowHours,
    log: logger,
    observers,
  })
  const notices = new NoticeSender({
    db,
    mailer,
    smsDomain: config.mx.domains[0],
    log: logger,
    observers,
  })
  const quotaAlerts = new QuotaAlertSender({ db, mailer, log, observers })
  ops.setCheck(transportCheck(transport, `${config.smpp.host}:${config.smpp.port}`))
  if (ops.registry) {
    metrics = workerMetrics(ops.registry, {
      db,
      totals: {
        sms: () => worker.stats,
        inbound: () => moReceiver.stats,
        inboundMail: () => dispatcher.stats,
        notices: () => notices.stats,
      },
    })
  }
  logger.info('worker.started', {
    owner: worker.owner,
    transport: transport.name,
    batch: config.worker.batchSize,
    held_at_most: worker.maxHeld,
  })
  const retention = new RetentionPurgeJob({
    db,
    policy: config.retention,
    intervalMs: config.retention.purgeIntervalMinutes * 60_000,
    batchSize: config.retention.purgeBatchSize,
    pauseMs: config.retention.purgePauseMs,
    log: logger,
    observers,
    purgeObserver: ops.registry ? purgeMetrics(ops.registry) : undefined,
  })
  // The SMS counts of the admin's chart and usage figures (lib/db/outbound/daily-rollup.ts).
  const rollup = new DailyRollupJob({ db, log: logger, observers })
  moReceiver.start()
  worker.start()
  dispatcher.start()
  notices.start()
  quotaAlerts.start()
  retention.start()
  rollup.start()
  let last = { ...worker.stats }
  const stats = setInterval(() => {
    const s = worker.stats
    if (JSON.stringify(s) === JSON.stringify(last)) return
    const counts = Object.fromEntries(
      Object.entries(s).map(([k, v]) => [k, v - last[k as keyof typeof s]]),
    )
    logger.info('worker.stats', { ...counts, seconds: STATS_EVERY_MS / 1000 })
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
      logger.info('worker.stopping', { signal: sig })
      clearInterval(stats)
      ops.setCheck(stateCheck('stopping', () => ({ ok: false, detail: `on ${sig}` })))
      // Each step runs even when one before it failed: a stuck mailer or receiver must not keep
      // the database open and the process alive until it is killed.
      const shutdown = async (): Promise<number> => {
        let failed = false
        const step = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
          try {
            return await run()
          } catch (err) {
            failed = true
            logger.error('worker.stop_failed', { step: name, error: errorText(err) })
            return undefined
          }
        }
        // The receiver first, while the session is up to carry its acknowledgements.
        await step('inbound receiver', () => moReceiver.stop(INBOUND_STORE_GRACE_MS))
        const unwritten = await step('sms worker', () => worker.stop())
        await step('mail dispatcher', () => dispatcher.stop())
        await step('failure notices', () => notices.stop())
        await step('quota alerts', () => quotaAlerts.stop())
        await step('retention purge', () => retention.stop())
        await step('count fold', () => rollup.stop())
        await step('mailer', () => mailer.close())
        await step('database', () => db.destroy())
        await step('ops listener', () => ops.close())
        return !failed && unwritten === 0 ? 0 : 1
      }
      shutdown().then(
        (code) => {
          logger.info('worker.stopped', { code })
          resolve(code)
        },
        (err) => {
          logger.error('worker.stop_failed', { error: errorText(err) })
          resolve(1)
        },
      )
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}
