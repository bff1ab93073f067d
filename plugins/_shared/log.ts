import type { Logger } from '../../lib/log'

let mxLogger: Logger | null = null

/** Set by log.sms_format once it has read `[log]`: the logger every MX line ends up in. */
export function setMxLogger(logger: Logger): void {
  mxLogger = logger
}

/**
 * The MX's own logger, when log.sms_format runs: a plugin's line written here skips Haraka's
 * logger, which would build the record as JSON only for log.sms_format to read it back.
 * Null without that plugin (a bare test server): then log through Haraka.
 */
export function directLogger(): Logger | null {
  return mxLogger
}
