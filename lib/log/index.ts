export {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFields,
  type LogFormat,
  type LogLevel,
  type LogValue,
} from './format'
export {
  asLogger,
  createLogger,
  errorText,
  lineLogger,
  lineSink,
  silentLogger,
  type Logger,
  type LogSink,
} from './logger'
