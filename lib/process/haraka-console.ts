/**
 * Loaded into Haraka's process with `node -r`, before Haraka: what its libraries print with
 * console.* comes out as our log lines (service=mx), in the format of mail2sms.ini's [log].
 */
import path from 'node:path'
import { loadConfig, type LogConfig } from '../config'
import { createLogger } from '../log'
import { routeConsole } from '../log/console-lines'

function logConfig(): LogConfig {
  const file =
    process.env.MAIL2SMS_CONFIG ??
    path.join(process.env.HARAKA ?? process.cwd(), 'config', 'mail2sms.ini')
  try {
    return loadConfig(file).log
  } catch {
    // Bad settings stop the MX once its plugins load, naming the key; until then, defaults.
    return { format: 'logfmt', level: 'info' }
  }
}

routeConsole(createLogger({ service: 'mx', ...logConfig() }))
