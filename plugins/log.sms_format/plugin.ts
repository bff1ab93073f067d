import constants from 'haraka-constants'
import type { Connection, Next, Plugin } from 'haraka'
import { loadConfig, type LogConfig } from '../../lib/config'
import { createLogger, type Logger } from '../../lib/log'
import {
  harakaLevelFor,
  isAcceptedStepNotice,
  writeHarakaItem,
  type HarakaLogItem,
} from '../../lib/log/haraka-lines'
import { configFile } from '../_shared/haraka'
import { setMxLogger } from '../_shared/log'

/** The parts of Haraka's logger this plugin sets. */
interface HarakaLogger {
  set_format(format: string): void
  set_loglevel(level: string): void
}

let logger: Logger = createLogger({ service: 'mx' })

/**
 * Writes Haraka's log lines, its own and our plugins', as every Mail2SMS process writes them:
 * `[log] format` and `level` of mail2sms.ini, service=mx, and the transaction id as `trace`.
 */
export function register(this: Plugin): void {
  let config: LogConfig = { format: 'logfmt', level: 'info' }
  try {
    config = loadConfig(configFile()).log
  } catch {
    // Bad settings stop the MX in connect.sms_allowlist, naming the key; until then, defaults.
  }
  logger = createLogger({ service: 'mx', ...config })
  setMxLogger(logger)
  this.register_hook('log', 'write_line')
  // Below debug, Haraka's notices of a message's accepted steps are dropped (haraka-lines.ts):
  // each connection skips building them at all.
  if (!logger.enabled('debug')) this.register_hook('connect_init', 'skip_accepted_step_notices')
  const haraka = this.haraka_require('logger') as HarakaLogger
  // write_line reads Haraka's records as JSON; it lets through what our level asks for.
  haraka.set_format('JSON')
  haraka.set_loglevel(harakaLevelFor(config.level))
}

export function write_line(this: Plugin, next: Next, _logger: unknown, item: HarakaLogItem): void {
  try {
    writeHarakaItem(logger, item)
  } catch {
    // A line that cannot be read is printed by Haraka as it is: never lost, never fatal.
    return next()
  }
  // OK stops the hook: Haraka's own output would print the line a second time.
  next(constants.ok)
}

/**
 * Haraka logs a notice for each step an accepted message passes (MAIL, RCPT, end of DATA), which
 * write_line would only drop at our level: this connection's lognotice returns before Haraka
 * builds the record. Every other notice, refusals included, goes through as before.
 */
export function skip_accepted_step_notices(this: Plugin, next: Next, connection: Connection): void {
  const lognotice = connection.lognotice
  connection.lognotice = function (this: Connection, ...args: unknown[]) {
    if (isAcceptedStepNotice(args[0], args[1])) return
    return (lognotice as (...a: unknown[]) => void).apply(this, args)
  }
  next()
}
