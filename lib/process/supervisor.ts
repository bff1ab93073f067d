import fs from 'node:fs'
import path from 'node:path'
import { spawn, type ChildProcess } from 'node:child_process'
import { PROJECT_ROOT, type Mail2SmsConfig } from '../config'
import { describeDb, openDb } from '../db/connection'
import { waitForDatabase } from '../db/readiness'
import { spawnHaraka } from './haraka'
import { parentPipeSpawnOptions } from './parent-watch'
import { asLogger, createLogger, errorText, lineSink, type Logger, type LogSink } from '../log'

export interface SupervisorOptions {
  only?: 'mx' | 'worker' | 'admin'
  /**
   * Apply pending migrations, in the background and retrying while the database is out of
   * reach; the services wait for the schema meanwhile (the MX answers 451).
   */
  migrate?: boolean
  log?: LogSink
}

interface Service {
  name: string
  start(): ChildProcess
  /** What asks it to stop gracefully: Haraka listens to SIGINT only. */
  stopSignal: NodeJS.Signals
}

/** A child that exits with this (EX_CONFIG) has bad settings: restarting would not help. */
export const EXIT_CONFIG = 78

const MAX_BACKOFF_MS = 30_000

function useTypescript(): boolean {
  const built = path.join(PROJECT_ROOT, 'dist', 'lib', 'config.js')
  return !(process.env.NODE_ENV === 'production' && fs.existsSync(built))
}

/**
 * How long a service may take to stop before it is killed: the worker waits for answers in
 * flight, then unbinds and writes its results, each bounded by the SMPP request timeout.
 */
function stopGraceMs(config: Mail2SmsConfig): number {
  return Math.max(15_000, config.worker.shutdownGraceMs + 2 * config.smpp.requestTimeoutMs + 5_000)
}

/**
 * One of our own commands as a child. It does not migrate: the supervisor does, beside it, and
 * the child waits until the schema is current.
 */
function spawnCommand(config: Mail2SmsConfig, command: 'worker' | 'admin'): ChildProcess {
  const watched = parentPipeSpawnOptions('inherit', stopGraceMs(config))
  return spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'bin', 'mail2sms.js'), command, '--no-migrate'],
    { env: { ...process.env, MAIL2SMS_CONFIG: config.file, ...watched.env }, stdio: watched.stdio },
  )
}

/** Haraka's folder (its config/ and plugins/): the project's, unless MAIL2SMS_HARAKA_DIR names another. */
function harakaDir(): string {
  return process.env.MAIL2SMS_HARAKA_DIR || PROJECT_ROOT
}

/**
 * Runs each service as a child process, restarts one that dies (with backoff) and stops them
 * all on SIGINT/SIGTERM. Resolves with the exit code once everything has stopped.
 */
export function runSupervisor(
  config: Mail2SmsConfig,
  opts: SupervisorOptions = {},
): Promise<number> {
  const log = asLogger(opts.log, () => createLogger({ service: 'supervisor', ...config.log }))
  const typescript = useTypescript()
  const services: Service[] = [
    {
      name: 'mx',
      start: () =>
        spawnHaraka({
          dir: harakaDir(),
          typescript,
          env: { MAIL2SMS_CONFIG: config.file },
          dieWithParentGraceMs: stopGraceMs(config),
        }),
      stopSignal: 'SIGINT',
    },
    {
      name: 'worker',
      start: () => spawnCommand(config, 'worker'),
      stopSignal: 'SIGTERM',
    },
    {
      name: 'admin',
      start: () => spawnCommand(config, 'admin'),
      stopSignal: 'SIGTERM',
    },
  ]
  log.info('supervisor.starting', {
    database: describeDb(config.database),
    sms_domains: config.mx.domains,
  })
  const running = new Map<string, ChildProcess>()
  let stopping = false
  let exitCode = 0
  const migration = new AbortController()

  return new Promise((resolve) => {
    const launch = (service: Service, backoff: number) => {
      const startedAt = Date.now()
      const child = service.start()
      running.set(service.name, child)
      log.info('service.started', { name: service.name, pid: child.pid })
      child.on('exit', (code, signal) => {
        running.delete(service.name)
        // Our end of the pipe the child watched (see parent-watch.ts): nobody reads it now.
        child.stdio[3]?.destroy()
        if (stopping) {
          if (running.size === 0) resolve(exitCode)
          return
        }
        if (code === EXIT_CONFIG) {
          log.error('service.config_error', {
            name: service.name,
            msg: 'stopped on a configuration error; fix it and start again',
          })
          exitCode = EXIT_CONFIG
          stop('SIGTERM')
          return
        }
        // A service that ran a while before dying restarts at once; one that keeps dying waits longer.
        const next = Date.now() - startedAt > 60_000 ? 1000 : Math.min(backoff * 2, MAX_BACKOFF_MS)
        log.warn('service.exited', {
          name: service.name,
          code,
          signal,
          restart_in_ms: next,
        })
        setTimeout(() => !stopping && launch(service, next), next)
      })
    }
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      migration.abort()
      log.info('supervisor.stopping', { signal: sig, services: [...running.keys()] })
      if (running.size === 0) return resolve(exitCode)
      for (const [name, child] of running) {
        child.kill(services.find((s) => s.name === name)?.stopSignal ?? 'SIGTERM')
      }
      setTimeout(() => {
        for (const child of running.values()) child.kill('SIGKILL')
      }, stopGraceMs(config)).unref()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    for (const service of services) {
      if (!opts.only || opts.only === service.name) launch(service, 500)
    }
    if (opts.migrate) {
      migrate(config, log, migration.signal).catch((err) => {
        log.error('db.migrations_failed', { error: errorText(err) })
        exitCode = 1
        stop('SIGTERM')
      })
    }
  })
}

/** The services start at once; the schema catches up as soon as the database answers. */
async function migrate(config: Mail2SmsConfig, log: Logger, signal: AbortSignal): Promise<void> {
  const db = openDb(config.database)
  try {
    if (await waitForDatabase(db, config.database, { migrate: true, signal, log: lineSink(log) })) {
      log.info('db.ready', { database: describeDb(config.database), schema: 'current' })
    }
  } finally {
    await db.destroy()
  }
}
