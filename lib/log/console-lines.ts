import util from 'node:util'
import type { LogLevel } from './format'
import type { Logger } from './logger'

/**
 * Sends what a process's libraries print with console.* through the logger, so that every line
 * of the process has the same format: Haraka's libraries print a few notes of their own
 * (encodings, public suffix lists) outside Haraka's logger.
 */
export function routeConsole(logger: Logger): void {
  const to =
    (level: LogLevel) =>
    (...args: unknown[]): void =>
      logger.line(level, util.format(...args))
  console.log = to('info')
  console.info = to('info')
  console.debug = to('debug')
  console.warn = to('warn')
  console.error = to('error')
}
