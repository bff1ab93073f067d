import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { SmscSimulator } from '../support/smsc/simulator'
import { eventually, startTestWorker, testSmppConfig, testWorkerConfig } from './harness'

const ROOT = path.resolve(__dirname, '..', '..')

async function queueRows(t: TestDatabase, count: number, prefix: string): Promise<number[]> {
  const account = await createAccount(t.db, { ref: `a${prefix}`, name: 'A', senderName: 'Acme' })
  const now = Date.now()
  const rows = Array.from({ length: count }, (_, i) => ({
    account_id: account.id,
    sender_email: 'alice@acme.example',
    recipient: `+336${prefix}${String(i).padStart(6, '0')}`,
    body: `lifecycle ${i}`,
    encoding: 'gsm7',
    segments: 1,
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    dedupe_key: `${prefix}-${i}`,
    created_at: now,
    updated_at: now,
  }))
  await t.db('outbound_sms').insert(rows)
  return (await t.db('outbound_sms').where({ account_id: account.id }).select('id')).map((r) =>
    Number(r.id),
  )
}

describe('worker lifecycle', function () {
  this.timeout(60_000)
  let t: TestDatabase
  let smsc: SmscSimulator

  beforeEach(async () => {
    t = await createTestDatabase('sqlite')
    smsc = await SmscSimulator.start({
      systemId: 'mail2sms',
      password: 'secret',
      receiptDelayMs: 5,
    })
  })

  afterEach(async () => {
    await smsc.close()
    await t.drop()
  })

  it('expires an SMS the carrier keeps throttling past max_age_ms', async () => {
    smsc.throttleNext(1_000_000)
    const worker = startTestWorker(
      t.db,
      testSmppConfig(smsc.port),
      testWorkerConfig({ retryInitialMs: 50, retryMaxMs: 100, maxAgeMs: 3000 }),
    )
    try {
      const [id] = await queueRows(t, 1, '10')
      const row = await eventually(
        () => t.db('outbound_sms').where({ id }).first(),
        (r) => r.status === 'expired',
      )
      // Sent again and again while throttled (requeued by the client at a falling pace, then
      // retried by the worker), then given up: by the retry that would land past the age, or by
      // the claim that found it already too old.
      assert.match(String(row.last_error), /ESME_RTHROTTLED|expired before the carrier accepted it/)
      assert.ok(smsc.received.filter((r) => r.status === 0x58).length >= 3)
    } finally {
      await worker.stop(500)
    }
  })

  it('renews its leases while SMS wait behind a slow carrier, so none is sent twice', async () => {
    // Each worker sends 20 SMS a second: the first one's 40 take two seconds, twice the
    // lease, while the second, done after one, would take over whatever lease ran out.
    const workers = [0, 1].map(() =>
      startTestWorker(
        t.db,
        testSmppConfig(smsc.port, { throughputPerSecond: 20 }),
        testWorkerConfig({ batchSize: 40, leaseMs: 1000 }),
      ),
    )
    try {
      const ids = await queueRows(t, 60, '30')
      await eventually(
        () => t.db('outbound_sms').whereIn('id', ids),
        (rows) => rows.every((r) => r.status === 'delivered'),
        20_000,
      )
      const perDest = new Map<string, number>()
      for (const s of smsc.received) perDest.set(s.destAddr, (perDest.get(s.destAddr) ?? 0) + 1)
      assert.equal(perDest.size, 60)
      assert.deepEqual([...new Set(perDest.values())], [1])
    } finally {
      await Promise.all(workers.map((w) => w.stop(500)))
    }
  })

  it('under a throughput cap claims about two seconds of sending, not the whole batch', async () => {
    // 10 submits a second: a crash now delays at most 20 SMS by a lease, not batch_size (300).
    const worker = startTestWorker(
      t.db,
      testSmppConfig(smsc.port, { throughputPerSecond: 10 }),
      testWorkerConfig({ batchSize: 300 }),
    )
    try {
      assert.equal(worker.maxHeld, 20)
      const ids = await queueRows(t, 30, '40')
      let mostHeld = 0
      await eventually(
        async () => {
          const rows = await t.db('outbound_sms').whereIn('id', ids).select('status')
          const held = rows.filter((r) => r.status === 'sending').length
          mostHeld = Math.max(mostHeld, held)
          return rows
        },
        (rows) => rows.every((r) => r.status === 'delivered'),
        20_000,
      )
      assert.ok(mostHeld > 0, 'never saw a claimed SMS')
      assert.ok(mostHeld <= 20, `held ${mostHeld} SMS at once`)
      assert.equal(smsc.received.length, 30)
    } finally {
      await worker.stop(500)
    }
  })

  it('on SIGTERM stops claiming, waits for answers in flight, records them and unbinds', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-term-'))
    const ini = path.join(dir, 'mail2sms.ini')
    fs.writeFileSync(
      ini,
      `[database]\nsqlite_file=${t.config.sqliteFile}\n[worker]\ntransport=smpp\nbatch_size=5\npoll_ms=20\nshutdown_grace_ms=5000\n[smpp]\nport=${smsc.port}\nsystem_id=mail2sms\npassword=secret\n`,
    )
    const ids = await queueRows(t, 20, '20')
    smsc.holdResponses()
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'mail2sms.js'), 'worker', '--no-migrate'],
      {
        env: { ...process.env, MAIL2SMS_CONFIG: ini },
        stdio: 'ignore',
      },
    )
    try {
      await smsc.until(() => smsc.outstanding === 5)
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => resolve(code)),
      )
      child.kill('SIGTERM')
      await new Promise((r) => setTimeout(r, 300))
      // Still waiting for the five answers, and claiming nothing more meanwhile.
      assert.equal(child.exitCode, null)
      assert.equal(smsc.received.length, 5)
      smsc.releaseResponses()
      assert.equal(await exited, 0)
      const rows = await t.db('outbound_sms').whereIn('id', ids)
      assert.equal(rows.filter((r) => r.status === 'sent' || r.status === 'delivered').length, 5)
      assert.equal(rows.filter((r) => r.status === 'queued').length, 15)
      assert.equal(smsc.unbindsReceived, 1)
      assert.equal(smsc.activeSessions, 0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
