import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { createAccount } from '../../lib/db/accounts'
import { openDb, type Db } from '../../lib/db/connection'
import { insertEmails } from '../../lib/db/outbound'
import { SmppTransport } from '../../lib/worker/transport'
import { SmsWorker } from '../../lib/worker/worker'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { SmscSimulator } from '../support/smsc/simulator'
import { proxyMysqlUrl, type TcpProxy } from '../support/tcp-proxy'
import { eventually, testSmppConfig, testWorkerConfig } from './harness'

const count = (lines: string[], re: RegExp) => lines.filter((l) => re.test(l)).length

// MySQL only: a link that stops answering is a network fault; SQLite is a local file.
describe('worker: database link that stops answering (mysql)', function () {
  this.timeout(90_000)
  let t: TestDatabase
  let proxy: TcpProxy
  let workerDb: Db
  let smsc: SmscSimulator
  let worker: SmsWorker | undefined
  let accountId: number
  let n = 0

  before(async () => {
    t = await createTestDatabase('mysql')
    accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })).id
    const proxied = await proxyMysqlUrl(t.config.url as string)
    proxy = proxied.proxy
    workerDb = openDb({ ...t.config, url: proxied.url, queryTimeoutMs: 1000 })
    smsc = await SmscSimulator.start({ systemId: 'mail2sms', password: 'secret' })
  })

  after(async () => {
    await worker?.stop(1000)
    await workerDb?.destroy()
    await proxy?.close()
    await smsc?.close()
    await t?.drop()
  })

  /** Queues SMS straight into the database (not through the frozen link), one number each. */
  async function queue(howMany: number): Promise<void> {
    const emails = Array.from({ length: howMany }, () => {
      const recipient = `+3361200${String(++n).padStart(4, '0')}`
      return [
        {
          accountId,
          senderId: null,
          senderEmail: 'alice@acme.example',
          recipient,
          body: `SMS ${n}`,
          encoding: 'gsm7' as const,
          segments: 1,
          sourceMessageId: null,
          dedupeKey: crypto.randomUUID(),
          mxTransaction: crypto.randomUUID(),
          timeZone: 'UTC',
        },
      ]
    })
    await insertEmails(t.db, emails)
  }

  const statuses = async () =>
    (await t.db('outbound_sms').select('status')).map((r) => String(r.status))

  it('logs the outage once, keeps the results it could not write, and sends each SMS once', async () => {
    const lines: string[] = []
    worker = new SmsWorker({
      db: workerDb,
      transport: new SmppTransport(testSmppConfig(smsc.port), {
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      }),
      // A lease far longer than the outage: nothing may come back to be sent again.
      config: testWorkerConfig({ leaseMs: 60_000 }),
      receipts: 'per_part',
      defaultSource: '',
      log: (line) => lines.push(line),
    })
    worker.start()
    await queue(3)
    await eventually(statuses, (s) => s.length === 3 && s.every((x) => x !== 'queued'))
    await eventually(statuses, (s) => s.every((x) => x === 'sent' || x === 'delivered'))

    // Three SMS reach the carrier, whose answers arrive only once the database link is frozen:
    // their results cannot be written then.
    smsc.holdResponses()
    await queue(3)
    await eventually(
      async () => smsc.received.length,
      (k) => k === 6,
    )
    proxy.freeze()
    smsc.releaseResponses()
    await queue(3)
    await eventually(
      async () => lines,
      (l) =>
        count(l, /^WARN cannot claim SMS/) > 0 && count(l, /^WARN cannot record SMS results/) > 0,
    )
    // Several polls fail meanwhile; each kind of failure is logged once.
    await new Promise((r) => setTimeout(r, 2500))
    proxy.thaw()

    await eventually(
      statuses,
      (s) => s.length === 9 && s.every((x) => x === 'sent' || x === 'delivered'),
      30_000,
    )
    const numbers = smsc.received.map((r) => r.destAddr)
    assert.equal(numbers.length, 9, `submits: ${numbers.join(' ')}`)
    assert.equal(new Set(numbers).size, 9, 'an SMS was sent twice')
    assert.equal(count(lines, /^WARN cannot claim SMS/), 1, lines.join('\n'))
    assert.equal(count(lines, /^WARN cannot record SMS results/), 1, lines.join('\n'))
    await eventually(
      async () => lines,
      (l) =>
        count(l, /^WARN claim SMS: working again after/) === 1 &&
        count(l, /^WARN record SMS results .*: working again after/) === 1,
    )
  })
})
