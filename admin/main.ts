import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { serve, type ServerType } from '@hono/node-server'
import { ConfigError, PROJECT_ROOT, type Mail2SmsConfig } from '../lib/config'
import { openDb, describeDb } from '../lib/db/connection'
import { waitForDatabaseOrStop } from '../lib/db/readiness'
import { createMailer, type Mailer } from '../lib/mail/mailer'
import { createLogger, errorText, lineSink, type Logger } from '../lib/log'
import { createApp } from './app'
import { BackgroundTasks } from './background'
import { requestMetrics } from './metrics'
import { startServiceOps } from '../lib/ops/service'

const SESSION_SECRET_FILE = path.join(PROJECT_ROOT, 'data', 'session.secret')

const MIN_SECRET_LENGTH = 32

/** The secret kept in the file; null when there is no file yet. */
function readSecretFile(file: string, logger: Logger): string | null {
  let kept: string
  try {
    kept = fs.readFileSync(file, 'utf8').trim()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  // Someone wrote this file: replacing it would silently log everybody out, so say so instead.
  if (kept.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `admin: ${file} holds no usable session secret (at least ${MIN_SECRET_LENGTH} characters); delete it to have a new one made`,
    )
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) {
    logger.warn('admin.secret_readable', {
      file,
      msg: 'readable by others than its owner; chmod 600 it',
    })
  }
  return kept
}

/**
 * The configured secret, else the one kept in data/session.secret, else a new one written
 * there (readable by the owner only), so sessions survive a restart.
 */
export function sessionSecret(
  configured: string,
  file = SESSION_SECRET_FILE,
  logger: Logger = createLogger({ service: 'admin' }),
): string {
  if (configured) return configured
  const kept = readSecretFile(file, logger)
  if (kept !== null) return kept
  const secret = crypto.randomBytes(48).toString('hex')
  fs.mkdirSync(path.dirname(file), { recursive: true })
  // Written whole to a file of our own, then linked into place: link() fails if the name
  // exists, so of two admin processes starting together one wins and the other reads the
  // winner's complete file (never a half-written one).
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`
  fs.writeFileSync(temporary, `${secret}\n`, { mode: 0o600, flag: 'wx' })
  try {
    fs.linkSync(temporary, file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return sessionSecret('', file, logger)
  } finally {
    fs.rmSync(temporary, { force: true })
  }
  logger.info('admin.secret_created', { file })
  return secret
}

export interface RunAdminOptions {
  /** Apply pending migrations first; false waits until another process (the supervisor) has. */
  migrate?: boolean
  /** Tests pass a file of their own. */
  secretFile?: string
  /** Called once listening, with the port (useful with port 0). */
  onListening?: (port: number) => void
}

/** The admin as a process: serves until SIGTERM or SIGINT, then closes server, mailer and DB. */
export async function runAdmin(
  config: Mail2SmsConfig,
  options: RunAdminOptions = {},
): Promise<number> {
  const logger = createLogger({ service: 'admin', ...config.log })
  const log = lineSink(logger)
  const db = openDb(config.database)
  // Up before the wait for the database, so that /readyz says what the admin waits for.
  const ops = await startServiceOps({ listen: config.ops.admin, db, log })
  let mailer: Mailer | null = null
  const background = new BackgroundTasks(log)
  let server: ServerType
  try {
    // Nothing is served until the database answers; a signal meanwhile stops the wait.
    const ready = await waitForDatabaseOrStop(db, config.database, {
      migrate: options.migrate !== false,
      log,
    })
    if (!ready) {
      await ops.close()
      await db.destroy()
      return 0
    }
    const secret = sessionSecret(config.admin.sessionSecret, options.secretFile, logger)
    mailer = createMailer(config.mailer, { info: log })
    const app = createApp({
      db,
      mailer,
      clock: Date.now,
      config: { ...config.admin, sessionSecret: secret },
      smsDomains: config.mx.domains,
      inbound: config.inbound,
      limits: config.limits,
      allowlist: config.allowlist,
      log,
      background,
      observeRequests: ops.registry ? requestMetrics(ops.registry) : undefined,
    })
    server = await new Promise((resolve, reject) => {
      const s = serve(
        { fetch: app.fetch, hostname: config.admin.host, port: config.admin.port },
        (info) => {
          logger.info('admin.listening', {
            url: `http://${config.admin.host}:${info.port}`,
            base_url: config.admin.baseUrl,
            database: describeDb(config.database),
          })
          options.onListening?.(info.port)
          resolve(s)
        },
      )
      s.once('error', reject)
    })
  } catch (err) {
    // Nothing may keep the process alive after a failed start: the caller reports and exits.
    await mailer?.close()
    await ops.close()
    await db.destroy()
    throw err
  }
  const openMailer: Mailer = mailer
  return new Promise((resolve) => {
    let stopping = false
    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      logger.info('admin.stopping', { signal: sig })
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      // Requests in progress finish; idle keep-alive connections are closed at once.
      server.close(() => {
        // Mails the last requests started (a reset link) leave before the mailer closes.
        background
          .settled()
          .then(() => Promise.all([openMailer.close(), ops.close(), db.destroy()]))
          .then(
            () => {
              logger.info('admin.stopped')
              resolve(0)
            },
            (err) => {
              logger.error('admin.stop_failed', { error: errorText(err) })
              resolve(1)
            },
          )
      })
      if ('closeIdleConnections' in server) server.closeIdleConnections()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}
