import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { SmscSimulator } from '../support/smsc/simulator'
import { eventually } from './harness'

const ROOT = path.resolve(__dirname, '..', '..')
const TOTAL = 400
const BATCH = 50

function writeIni(dir: string, t: TestDatabase, smscPort: number): string {
  const file = path.join(dir, 'mail2sms.ini')
  fs.writeFileSync(
    file,
    [
      '[database]',
      `url=${t.config.url ?? ''}`,
      `sqlite_file=${t.config.sqliteFile}`,
      '[worker]',
      'transport=smpp',
      `batch_size=${BATCH}`,
      'poll_ms=20',
      'lease_ms=2000',
      'retry_initial_ms=100',
      '[smpp]',
      'host=127.0.0.1',
      `port=${smscPort}`,
      'system_id=mail2sms',
      'password=secret',
      'reconnect_initial_ms=50',
      '',
    ].join('\n'),
  )
  return file
}

function spawnWorker(ini: string): ChildProcess {
  return spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'mail2sms.js'), 'worker', '--no-migrate'],
    {
      env: { ...process.env, MAIL2SMS_CONFIG: ini },
      stdio: 'ignore',
    },
  )
}

for (const kind of databaseKinds()) {
  describe(`worker killed mid-run (${kind})`, function () {
    this.timeout(120_000)
    let t: TestDatabase
    let smsc: SmscSimulator
    let dir: string
    const children: ChildProcess[] = []

    before(async () => {
      t = await createTestDatabase(kind)
      smsc = await SmscSimulator.start({
        systemId: 'mail2sms',
        password: 'secret',
        receiptDelayMs: 5,
      })
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-crash-'))
    })

    after(async () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
      await smsc?.close()
      await t?.drop()
      fs.rmSync(dir, { recursive: true, force: true })
    })

    it('loses nothing to SIGKILL, and sends at most one batch twice', async () => {
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })
      const now = Date.now()
      const rows = Array.from({ length: TOTAL }, (_, i) => ({
        account_id: acme.id,
        sender_email: 'alice@acme.example',
        recipient: `+336${String(i).padStart(8, '0')}`,
        body: `crash test ${i}`,
        encoding: 'gsm7',
        segments: 1,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `crash-${i}`,
        created_at: now,
        updated_at: now,
      }))
      for (let i = 0; i < rows.length; i += 200)
        await t.db('outbound_sms').insert(rows.slice(i, i + 200))
      // Slow answers keep a window's worth in flight when the kill lands.
      smsc.delayResponses(10)
      const ini = writeIni(dir, t, smsc.port)
      const first = spawnWorker(ini)
      children.push(first)
      await smsc.until(() => smsc.received.length >= 100)
      first.kill('SIGKILL')
      await new Promise((resolve) => first.once('exit', resolve))
      const atKill = smsc.received.length
      assert.ok(atKill < TOTAL, 'the first worker finished before it was killed')

      children.push(spawnWorker(ini))
      await eventually(
        () => t.db('outbound_sms').whereNotIn('status', ['sent', 'delivered']).count({ n: '*' }),
        ([r]) => Number(r.n) === 0,
        60_000,
      )
      const perDest = new Map<string, number>()
      for (const s of smsc.received.filter((r) => r.status === 0)) {
        perDest.set(s.destAddr, (perDest.get(s.destAddr) ?? 0) + 1)
      }
      assert.equal(perDest.size, TOTAL, 'some SMS never reached the SMSC')
      const twice = [...perDest.values()].filter((c) => c > 1).length
      assert.ok([...perDest.values()].every((c) => c <= 2))
      // The documented window: what the dead worker had submitted but not yet recorded.
      assert.ok(twice <= BATCH, `${twice} SMS sent twice; the window is batch_size=${BATCH}`)
      console.log(`      (${twice} of ${TOTAL} SMS sent twice after SIGKILL at ${atKill} submits)`)
    })
  })
}
