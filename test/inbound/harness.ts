import type { SmppConfig } from '../../lib/config'
import type { Db } from '../../lib/db/connection'
import { bumpCacheVersion } from '../../lib/db/versions'
import { InboundMailDispatcher } from '../../lib/inbound/dispatcher'
import { MoReceiver } from '../../lib/inbound/receiver'
import { createMailer } from '../../lib/mail/mailer'
import { SmppTransport } from '../../lib/worker/transport'
import { SmsWorker } from '../../lib/worker/worker'
import { SMS_DOMAIN } from '../support/mx'
import type { SmtpSink } from '../support/smtp-sink'
import { testWorkerConfig } from '../worker/harness'

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined }

export interface InboundWorker {
  worker: SmsWorker
  receiver: MoReceiver
  dispatcher: InboundMailDispatcher
  log: string[]
  stop(): Promise<void>
}

/**
 * The worker process's parts wired as worker/main.ts wires them (SMS out, MO in, mails out),
 * with quick polls and retries, mailing through the sink.
 */
export function startInboundWorker(
  db: Db,
  smpp: SmppConfig,
  sink: SmtpSink,
  options: { moAckTimeoutMs?: number } = {},
): InboundWorker {
  const log: string[] = []
  const record = (line: string) => log.push(line)
  const transport = new SmppTransport(smpp, quiet, options)
  const mailer = createMailer(sink.mailerConfig())
  const worker = new SmsWorker({
    db,
    transport,
    config: testWorkerConfig(),
    receipts: smpp.receipts,
    defaultSource: smpp.defaultSource,
    log: () => undefined,
  })
  const receiver = new MoReceiver({ db, log: record, defaultAlphabet: smpp.defaultAlphabet })
  transport.on('mo', receiver.receive)
  const dispatcher = new InboundMailDispatcher({
    db,
    mailer,
    smsDomain: SMS_DOMAIN,
    directReplyWindowHours: 72,
    pollMs: 20,
    retryInitialMs: 100,
    retryMaxMs: 400,
    log: record,
  })
  receiver.start()
  worker.start()
  dispatcher.start()
  return {
    worker,
    receiver,
    dispatcher,
    log,
    stop: async () => {
      // As worker/main.ts: stores under way are answered while the link is still up.
      await receiver.stop(1000)
      await worker.stop(1000)
      await dispatcher.stop()
      await mailer.close()
    },
  }
}

/** What the admin's "Réception en cours" page saves, written directly. */
export async function setReceiving(
  db: Db,
  accountId: number,
  settings: { forwardAddresses?: string[]; directReply?: boolean },
): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('accounts')
      .where({ id: accountId })
      .update({
        forward_addresses: settings.forwardAddresses?.join(',') ?? null,
        direct_reply: settings.directReply ?? false,
      })
    await bumpCacheVersion(trx, 'directory')
  })
}
