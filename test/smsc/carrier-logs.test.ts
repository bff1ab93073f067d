import assert from 'node:assert/strict'
import type { SmppConfig, WorkerConfig } from '../../lib/config'
import { dedupeKeyFor, insertEmails } from '../../lib/db/outbound'
import type { SmsWorker } from '../../lib/worker/worker'
import { seedSendingAccount, type SendingAccount } from '../support/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { CarrierSmsc, type CarrierQuirks } from '../support/smsc/carrier'
import {
  CapturedLog,
  eventually,
  startTestWorker,
  testSmppConfig,
  testWorkerConfig,
} from '../worker/harness'

/** The rule of lib/smpp/adaptive-rate.ts: an episode ends after this long without an answer. */
const THROTTLING_CALM_MS = 10_000

/**
 * Moves performance.now(), the clock AdaptiveRate reads by default, `ms` ahead until the
 * returned function is called: ten seconds of calm without waiting ten seconds.
 */
function skipPerformanceClock(ms: number): () => void {
  const real = performance.now.bind(performance)
  performance.now = () => real() + ms
  return () => {
    // The instance property hides the prototype's method; deleting it brings that back.
    delete (performance as { now?: unknown }).now
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

for (const kind of databaseKinds()) {
  describe(`worker log lines against the carrier-like SMSC (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let sending: SendingAccount
    let smsc: CarrierSmsc | null = null
    let worker: SmsWorker | null = null
    let log = new CapturedLog()
    let tests = 0
    let smsCount = 0

    before(async () => {
      t = await createTestDatabase(kind)
      sending = await seedSendingAccount(t.db, { ref: `logs-${kind}` }, ['ops@logs.example'])
    })

    afterEach(async function () {
      await worker?.stop(500)
      worker = null
      await smsc?.close()
      smsc = null
      // Whatever the test was about, no line names its subsystem twice.
      assert.deepEqual(log.matching(/smpp smpp/), [])
    })

    after(() => t?.drop())

    /** A carrier SMSC and a worker logging into a fresh CapturedLog, once bound. */
    async function start(
      quirks: Partial<CarrierQuirks> = {},
      smpp: Partial<SmppConfig> = {},
      config: Partial<WorkerConfig> = {},
    ): Promise<CarrierSmsc> {
      // Each test's SMSC numbers messages in a range of its own: SMS of earlier tests stay in
      // the database and must not match this test's receipts.
      const firstMessageId = 4_000_000_000 + ++tests * 1_000_000
      const carrier = await CarrierSmsc.start({ quirks, firstMessageId })
      smsc = carrier
      log = new CapturedLog()
      worker = startTestWorker(t.db, testSmppConfig(carrier.port, smpp), testWorkerConfig(config), {
        log,
      })
      await eventually(
        async () => log.matching(/smpp bound/).length,
        (n) => n === 1,
      )
      return carrier
    }

    /** Queues `count` one-part SMS to distinct phones; returns their ids. */
    async function queue(count: number): Promise<number[]> {
      const emails = Array.from({ length: count }, () => {
        const n = ++smsCount
        const recipient = `+3361${kind === 'sqlite' ? 1 : 2}${String(n).padStart(6, '0')}`
        const body = `Log test SMS ${n}: your parcel is on its way.`
        return [
          {
            accountId: sending.account.id,
            senderId: sending.senders[0].id,
            senderEmail: sending.senders[0].email,
            recipient,
            body,
            encoding: 'gsm7' as const,
            segments: 1,
            sourceMessageId: null,
            dedupeKey: dedupeKeyFor(body, recipient, null),
            mxTransaction: `logs.${kind}.${n}`,
            timeZone: 'UTC',
          },
        ]
      })
      const results = await insertEmails(t.db, emails)
      return results.flatMap((r) => r.ids)
    }

    const statuses = async (ids: number[]): Promise<string[]> =>
      (await t.db('outbound_sms').whereIn('id', ids).select('status')).map((r) => r.status)

    const allDelivered = (ids: number[]) =>
      eventually(
        () => statuses(ids),
        (list) => list.length === ids.length && list.every((s) => s === 'delivered'),
      )

    it('a dropped session: one line says it closed and why, one reconnecting, one bound', async () => {
      const carrier = await start()
      const from = log.lines.length
      carrier.dropSessions()
      await eventually(
        async () => log.matching(/smpp bound/, from).length,
        (n) => n === 1,
      )
      await sleep(100)
      assert.deepEqual(
        log.matching(/connection closed/, from).map((l) => l.replace(/:\d+ /, ':PORT ')),
        ['[worker] WARN smpp connection closed host=127.0.0.1:PORT reason="closed by SMSC"'],
      )
      assert.equal(
        log.matching(/^\[worker\] smpp reconnecting in_ms=\d+ attempt=1$/, from).length,
        1,
      )
      assert.equal(log.matching(/reconnecting/, from).length, 1)
      assert.equal(
        log.matching(/^\[worker\] smpp bound host=\S+ system_id=mail2sms$/, from).length,
        1,
      )
    })

    it('the SMSC unbinding us: one line says so, and the close gives it as the reason', async () => {
      const carrier = await start()
      const from = log.lines.length
      await carrier.unbindSessions()
      await eventually(
        async () => log.matching(/smpp bound/, from).length,
        (n) => n === 1,
      )
      await sleep(100)
      assert.deepEqual(log.matching(/unbind/, from), ['[worker] smpp unbind received from=SMSC'])
      assert.deepEqual(
        log.matching(/connection closed/, from).map((l) => l.replace(/:\d+ /, ':PORT ')),
        ['[worker] WARN smpp connection closed host=127.0.0.1:PORT reason="unbound by SMSC"'],
      )
      assert.equal(log.matching(/reconnecting/, from).length, 1)
    })

    it('a throttling episode: one line when it starts, one with the answer count when it ends', async () => {
      const carrier = await start({ maxSubmitsPerSecond: 20 }, { window: 10 })
      const ids = await queue(60)
      await allDelivered(ids)
      const throttled = carrier.submits.filter((s) => s.outcome === 'throttled').length
      assert.ok(throttled > 0, 'the SMSC pushed back')
      // The rate is 90% of what the SMSC took in the second before its first refusal: 18/s
      // when the first 20 went out at once.
      const started = log.matching(/throttl/)
      assert.equal(started.length, 1, started.join(' | '))
      assert.match(
        started[0],
        /^\[worker\] WARN smpp throttling started: the SMSC asks us to slow down rate=\d+(\.\d)?\/s$/,
      )
      const restore = skipPerformanceClock(THROTTLING_CALM_MS)
      try {
        // The client looks at the pace once a second even with nothing to send.
        await eventually(
          async () => log.matching(/throttling ended/).length,
          (n) => n > 0,
          3000,
        )
      } finally {
        restore()
      }
      const ended = log.matching(/throttling ended/)
      assert.equal(ended.length, 1)
      assert.match(
        ended[0],
        /^\[worker\] smpp throttling ended answers=(\d+) duration_ms=\d+ rate=\d+(\.\d)?\/s$/,
      )
      assert.equal(ended[0].match(/answers=(\d+)/)?.[1], String(throttled))
      assert.equal(log.matching(/throttl/).length, 2, 'two lines in all, not one per answer')
    })

    it('a silent application: one line when timeouts start, one per window, one when they end', async () => {
      const carrier = await start({ silentApplication: true }, { requestTimeoutMs: 300, window: 3 })
      const ids = await queue(6)
      await eventually(
        async () => log.matching(/no answer to/).length,
        (n) => n >= 2,
      )
      carrier.setQuirks({ silentApplication: false })
      await allDelivered(ids)
      await eventually(
        async () => log.matching(/timeouts ended/).length,
        (n) => n > 0,
      )
      // Submits cut off with their session are not counted: only those that timed out.
      const unanswered = carrier.submits.filter((s) => s.outcome === 'unanswered').length
      assert.ok(unanswered >= 6, `${unanswered} submits unanswered`)
      assert.deepEqual(
        log.matching(/connection closed/).map((l) => l.replace(/:\d+ /, ':PORT ')),
        [
          '[worker] smpp connection closed host=127.0.0.1:PORT reason="3 submit_sm unanswered"',
          '[worker] smpp connection closed host=127.0.0.1:PORT reason="6 submit_sm unanswered"',
        ],
      )
      // (The SMS's own lines, sms.part and sms.retry, say why each one waits: not counted here.)
      assert.deepEqual(
        log.matching(/^(?!.*connection closed)(?!\[worker\] sms\.).*(submit_sm|timeout)/),
        [
          '[worker] WARN smpp submit_sm unanswered timeout_ms=300: timeouts started',
          "[worker] WARN smpp no answer to 3 submit_sm in a row while the link is up (the SMSC's application may be stuck): reconnecting",
          "[worker] WARN smpp no answer to 6 submit_sm in a row while the link is up (the SMSC's application may be stuck): reconnecting",
          log.matching(/timeouts ended/)[0],
        ],
      )
      assert.match(
        log.matching(/timeouts ended/)[0],
        /^\[worker\] smpp submit_sm answered again: timeouts ended count=6 duration_ms=\d+$/,
      )
      // A line per SMS retried (info), but no warning or error per SMS: those stay a handful.
      assert.deepEqual(log.matching(/^\[worker\] (WARN|ERROR) .*sms=/), [], 'no warning per SMS')
    })

    it('a receipt for an id no SMS holds: exactly one line', async () => {
      const carrier = await start({ receiptSource: 'national' })
      carrier.sendReceipt({ id: '987654321', dest: '33699000001', stat: 'UNDELIV' })
      await eventually(
        async () => log.matching(/receipt\.unmatched/).length,
        (n) => n > 0,
      )
      // Several rounds of the upkeep, which matches recent misses again, log nothing more.
      await sleep(500)
      assert.deepEqual(log.matching(/receipt/), [
        '[worker] receipt.unmatched message_id=987654321 handset=0699000001 state=undeliverable',
      ])
    })

    it('no line says "smpp smpp": sends, receipts, a drop and a stop', async () => {
      const carrier = await start()
      await allDelivered(await queue(2))
      carrier.sendReceipt({ id: '123', dest: '33699000002', stat: 'DELIVRD' })
      await eventually(
        async () => log.matching(/receipt\.unmatched/).length,
        (n) => n > 0,
      )
      const before = log.lines.length
      carrier.dropSessions()
      await eventually(
        async () => log.matching(/smpp bound/, before).length,
        (n) => n === 1,
      )
      await worker?.stop(500)
      worker = null
      const smppLines = log.matching(/smpp/)
      assert.ok(smppLines.length >= 6, `SMPP lines seen: ${smppLines.join(' | ')}`)
      for (const line of smppLines) assert.match(line, /^\[worker\] ((WARN|ERROR) )?smpp [a-z]/)
      assert.deepEqual(log.matching(/smpp smpp/), [])
    })

    it('a clean stop logs no warning and no error', async () => {
      await start({ receiptDelayMs: 20 })
      await allDelivered(await queue(3))
      const from = log.lines.length
      const unwritten = await worker?.stop()
      worker = null
      assert.equal(unwritten, 0)
      assert.equal(log.matching(/smpp stopped/, from).length, 1)
      assert.equal(log.matching(/connection closed .*reason="client stopped"/, from).length, 1)
      assert.deepEqual(log.warningsAndErrors(), [])
    })
  })
}
