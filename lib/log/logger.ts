import {
  formatEventLine,
  formatRecord,
  type LogFields,
  type LogFormat,
  type LogLevel,
} from './format'
import { readFreeText } from './free-text'
import { redactFields, redactText } from './redact'
import { writeStdout } from './stdout'

/**
 * Where library code reports what happened: one event (a short dotted name, `sms.submitted`)
 * and its fields per call. The process decides the format; a library never does.
 */
export interface Logger {
  debug(event: string, fields?: LogFields): void
  info(event: string, fields?: LogFields): void
  warn(event: string, fields?: LogFields): void
  error(event: string, fields?: LogFields): void
  /** A free-text line from code that names no event of its own; read as well as it can be. */
  line(level: LogLevel, text: string): void
  /** This logger with these fields on each of its lines (the SMS's trace and id, say). */
  child(fields: LogFields): Logger
  /** Whether a line at this level would be written: skip building costly fields otherwise. */
  enabled(level: LogLevel): boolean
}

/** What library options accept: a Logger, or a plain line callback (tests, older callers). */
export type LogSink = Logger | ((line: string) => void)

export interface LoggerOptions {
  /** mx, worker, admin, supervisor. */
  service: string
  format?: LogFormat
  /** Lines below it are dropped. */
  level?: LogLevel
  /** Receives each line, without its newline. Default: standard output. */
  write?: (line: string) => void
  now?: () => number
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 }

/**
 * Free text whose event names a failure is at least a warning ("cannot claim…", "database
 * unavailable…"), an error when it says so ("admin error…"): the text's author chose words,
 * not a level, and a failure hidden at info is easy to miss.
 */
function levelOfText(level: LogLevel, event: string): LogLevel {
  const words = event.split('.')
  if (words.includes('error')) return RANK[level] < RANK.error ? 'error' : level
  if (words.some((w) => /^(cannot|failed|unavailable|lost)$/.test(w)))
    return RANK[level] < RANK.warn ? 'warn' : level
  return level
}

/**
 * Builds the leveled methods on top of `emit` (events) and `text` (free-text lines, which
 * check the level themselves); child() merges bound fields first.
 */
function leveled(
  enabled: (level: LogLevel) => boolean,
  emit: (level: LogLevel, event: string, fields: LogFields) => void,
  text: (level: LogLevel, text: string, bound: LogFields) => void,
  bound: LogFields,
): Logger {
  const withBound = (fields?: LogFields): LogFields =>
    Object.keys(bound).length === 0 ? (fields ?? {}) : { ...bound, ...fields }
  const at =
    (level: LogLevel) =>
    (event: string, fields?: LogFields): void => {
      if (enabled(level)) emit(level, event, withBound(fields))
    }
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    line: (level, line) => text(level, line, bound),
    child: (fields) => leveled(enabled, emit, text, withBound(fields)),
    enabled,
  }
}

/** A process's logger: one line per event, in the configured format, with time and service. */
export function createLogger(opts: LoggerOptions): Logger {
  const format = opts.format ?? 'logfmt'
  const minimum = RANK[opts.level ?? 'info']
  const write = opts.write ?? writeStdout
  const now = opts.now ?? Date.now
  const enabled = (level: LogLevel) => RANK[level] >= minimum
  const emit = (level: LogLevel, event: string, fields: LogFields) => {
    const head = { time: new Date(now()).toISOString(), level, service: opts.service, event }
    write(formatRecord(format, head, redactFields(fields)))
  }
  const text = (level: LogLevel, line: string, bound: LogFields) => {
    const read = readFreeText(line, 'log')
    const raised = levelOfText(level, read.event)
    if (enabled(raised)) emit(raised, read.event, { ...bound, ...read.fields })
  }
  return leveled(enabled, emit, text, {})
}

/**
 * A logger over a line callback: `event key=value…`, with `WARN ` or `ERROR ` in front of
 * warnings and errors, and free-text lines as they are. Debug lines are dropped.
 */
export function lineLogger(print: (line: string) => void): Logger {
  const prefix = (level: LogLevel) =>
    level === 'warn' ? 'WARN ' : level === 'error' ? 'ERROR ' : ''
  const enabled = (level: LogLevel) => level !== 'debug'
  const emit = (level: LogLevel, event: string, fields: LogFields) =>
    print(prefix(level) + formatEventLine(event, redactFields(fields)))
  return leveled(
    enabled,
    emit,
    (level, line, bound) => {
      if (!enabled(level)) return
      if (Object.keys(bound).length === 0) print(prefix(level) + redactText(line))
      else {
        const read = readFreeText(line, 'log')
        emit(level, read.event, { ...bound, ...read.fields })
      }
    },
    {},
  )
}

export const silentLogger: Logger = leveled(
  () => false,
  () => undefined,
  () => undefined,
  {},
)

export function asLogger(sink: LogSink | undefined, fallback: () => Logger): Logger {
  if (sink === undefined) return fallback()
  return typeof sink === 'function' ? lineLogger(sink) : sink
}

/** The line callback that older library code takes, feeding this logger at `level`. */
export function lineSink(logger: Logger, level: LogLevel = 'info'): (line: string) => void {
  return (line) => logger.line(level, line)
}

/** An error as one field value: its message, never its stack (that is for debug lines). */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}
