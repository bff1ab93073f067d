import type { Mail2SmsConfig, SmppConfig, WorkerConfig } from '../../lib/config'
import type { Db } from '../../lib/db/connection'
import { SmppTransport } from '../../lib/worker/transport'
import { SmsWorker } from '../../lib/worker/worker'
import { smppLogger } from '../../worker/main'
import { lineLogger } from '../../lib/log'

/** Worker settings for tests: quick polls and retries, short leases. */
export function testWorkerConfig(overrides: Partial<WorkerConfig> = {}): WorkerConfig {
  return {
    transport: 'smpp',
    batchSize: 50,
    pollMs: 20,
    leaseMs: 5000,
    retryInitialMs: 100,
    retryMaxMs: 1000,
    maxAgeMs: 600_000,
    shutdownGraceMs: 2000,
    receiptTimeoutMs: 259_200_000,
    ...overrides,
  }
}

export function testSmppConfig(port: number, overrides: Partial<SmppConfig> = {}): SmppConfig {
  return {
    host: '127.0.0.1',
    port,
    systemId: 'mail2sms',
    password: 'secret',
    systemType: '',
    window: 10,
    requestTimeoutMs: 2000,
    enquireLinkMs: 30_000,
    reconnectInitialMs: 50,
    reconnectMaxMs: 500,
    longSms: 'udh',
    throughputPerSecond: 0,
    receipts: 'per_part',
    receiptPartWaitMs: 600_000,
    receiptIdFormat: 'auto',
    defaultAlphabet: 'gsm',
    adaptiveRate: true,
    defaultSource: '',
    ...overrides,
  }
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

/**
 * The worker process's log as worker/main.ts reports it, before formatting: the worker's own
 * events (`event key=value…`) and the SMPP client's lines, each with its level when it is not
 * info.
 */
export class CapturedLog {
  readonly lines: string[] = []
  /** The SmsWorker's `log` option. */
  readonly log = lineLogger((line: string): void => {
    this.lines.push(`[worker] ${line}`)
  })
  /** The SmppTransport's logger, leveled as in production. */
  readonly smpp = smppLogger(this.log)

  /** Lines that match, from line `from` on. */
  matching(pattern: RegExp, from = 0): string[] {
    return this.lines.slice(from).filter((l) => pattern.test(l))
  }

  /** Lines logged as a warning or an error, from line `from` on. */
  warningsAndErrors(from = 0): string[] {
    return this.matching(/^\[worker\] (WARN|ERROR) /, from)
  }
}

export interface TestWorkerOptions {
  /** Where the worker's and the SMPP client's lines go; silenced when not given. */
  log?: CapturedLog
}

export function startTestWorker(
  db: Db,
  smpp: SmppConfig,
  worker: WorkerConfig = testWorkerConfig(),
  options: TestWorkerOptions = {},
): SmsWorker {
  const w = new SmsWorker({
    db,
    transport: new SmppTransport(smpp, options.log?.smpp ?? quiet),
    config: worker,
    receipts: smpp.receipts,
    receiptIdFormat: smpp.receiptIdFormat,
    receiptPartWaitMs: smpp.receiptPartWaitMs,
    receiptUpkeepMs: 100,
    defaultSource: smpp.defaultSource,
    log: options.log?.log ?? (() => undefined),
  })
  w.start()
  return w
}

/** Polls until `check` holds, failing after timeoutMs with the last value seen. */
export async function eventually<T>(
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!check(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met in ${timeoutMs} ms; last: ${JSON.stringify(value)}`)
    await new Promise((r) => setTimeout(r, 25))
    value = await read()
  }
  return value
}

export type { Mail2SmsConfig }
