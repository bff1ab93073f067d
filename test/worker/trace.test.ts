import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { addSender } from '../../lib/db/senders'
import { readPairs } from '../../lib/log/free-text'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { SmscSimulator } from '../support/smsc/simulator'
import { buildMessage, sendMail } from '../support/smtp-client'
import { eventually } from './harness'

const ROOT = path.resolve(__dirname, '..', '..')
const FORMATS = ['logfmt', 'json'] as const
type Format = (typeof FORMATS)[number]

/** Every line of one process's output as fields; a line in another shape fails the test. */
function readLines(output: string, format: Format, who: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const read =
        format === 'json' ? (JSON.parse(line) as Record<string, unknown>) : readPairs(line)
      assert.ok(read, `${who} wrote a line that is not ${format}: ${line}`)
      for (const key of ['time', 'level', 'service', 'event'])
        assert.ok(read[key], `${who}: no ${key} in ${line}`)
      return read
    })
}

/** The worker as `mail2sms start` runs it: its own process, output captured. */
function startWorkerProcess(configFile: string): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'bin', 'mail2sms.js'), 'worker', '--no-migrate'],
    {
      env: { ...process.env, MAIL2SMS_CONFIG: configFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (c) => (output += c))
  child.stderr?.on('data', (c) => (output += c))
  return { child, output: () => output }
}

for (const kind of databaseKinds()) {
  for (const format of FORMATS) {
    describe(`logs: one SMS followed by its trace across processes (${kind}, ${format})`, function () {
      this.timeout(120_000)
      let t: TestDatabase
      let dir: string
      let mx: RunningMx
      let smsc: SmscSimulator
      let worker: ReturnType<typeof startWorkerProcess>

      before(async () => {
        t = await createTestDatabase(kind)
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-trace-'))
        const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', senderName: 'Acme' })
        await addSender(t.db, acme.id, 'alice@acme.example', {
          status: 'accepted',
          isDefault: true,
        })
        await addAllowedIp(t.db, acme.id, '127.0.0.1')
        smsc = await SmscSimulator.start({
          systemId: 'mail2sms',
          password: 'secret',
          receiptDelayMs: 20,
        })
        // The phone is off for good: the receipt says undeliverable, and the sender gets a notice.
        smsc.setReceiptRule(() => 'UNDELIV')
        const db = t.config
        const ini = path.join(dir, 'worker.ini')
        fs.writeFileSync(
          ini,
          [
            '[log]',
            `format=${format}`,
            '[database]',
            `url=${db.url ?? ''}`,
            `sqlite_file=${db.sqliteFile}`,
            '[mx]',
            `domains=${SMS_DOMAIN}`,
            '[worker]',
            'transport=smpp',
            'poll_ms=20',
            '[smpp]',
            `port=${smsc.port}`,
            'system_id=mail2sms',
            // Written here as an operator would: it must never reach the log.
            'password=secret',
            'receipts=per_part',
            'reconnect_initial_ms=50',
            '[mailer]',
            `directory=${dir}/mail`,
          ].join('\n') + '\n',
        )
        mx = await startMx({ database: t.config, log: { format } })
        worker = startWorkerProcess(ini)
      })

      after(async () => {
        if (worker?.child.exitCode === null) {
          const exited = new Promise((resolve) => worker.child.once('exit', resolve))
          worker.child.kill('SIGTERM')
          await exited
        }
        await mx?.stop()
        await smsc?.close()
        await t?.drop()
        if (dir) fs.rmSync(dir, { recursive: true, force: true })
      })

      it('grep <trace> finds the MX line, the submit, the receipt and the notice, in order', async () => {
        const r = await sendMail(mx.port, {
          from: 'alice@acme.example',
          to: [`0612345678@${SMS_DOMAIN}`],
          message: buildMessage({ from: 'alice@acme.example', to: 'x', body: 'Truck 4 is late' }),
        })
        assert.equal(r.data?.code, 250, r.data?.text)
        const id = Number(/SMS (\d+)/.exec(r.data!.text)![1])
        const sms = () => t.db('outbound_sms').where({ id }).first()
        await eventually(sms, (row) => row.notice_status === 'sent', 60_000)
        const trace = String((await sms()).mx_transaction)
        assert.ok(trace.length > 0)
        const mxLines = readLines(mx.logs(), format, 'the MX')
        // The notice's line follows its mail by a moment.
        await eventually(
          async () => worker.output(),
          (out) => out.includes('notice.sent'),
          10_000,
        )
        const workerLines = readLines(worker.output(), format, 'the worker')
        const traced = [...mxLines, ...workerLines]
          .filter((l) => l.trace === trace)
          .sort((a, b) => String(a.time).localeCompare(String(b.time)))
        const events = traced.map((l) => `${l.service} ${l.event}`)
        const order = [
          'mx sms.queued',
          'worker sms.submitted',
          'worker sms.receipt',
          'worker notice.sent',
        ]
        const at = order.map((e) => events.indexOf(e))
        assert.ok(
          at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1])),
          `expected ${order.join(' < ')}; trace ${trace} gave: ${events.join(', ')}`,
        )
        // Every SMS line of the worker names the SMS; the MX line too.
        for (const line of traced.filter((l) => String(l.event).startsWith('sms.')))
          assert.equal(String(line.sms), String(id), JSON.stringify(line))
        const submitted = traced.find((l) => l.event === 'sms.submitted')!
        const [part] = await t.db('outbound_sms_parts').where({ sms_id: id })
        assert.match(String(submitted.message_ids), new RegExp(String(part.smsc_message_id)))
        const receipt = traced.find((l) => l.event === 'sms.receipt')!
        assert.equal(receipt.final, 'undeliverable')
        // The trace is Haraka's transaction id, `<connection>.<n>`. A message's accepted steps are
        // debug: at info, sms.queued stands for them, and the end of the connection (who, TLS,
        // counts) carries the trace too; its start is found with the connection's part.
        assert.deepEqual(
          mxLines.filter((l) => l.trace === trace).map((l) => l.event),
          ['sms.queued', 'disconnect'],
        )
        const connection = trace.replace(/\.\d+$/, '')
        assert.ok(mxLines.some((l) => l.trace === connection && l.event === 'connect'))
        assert.doesNotMatch(worker.output() + mx.logs(), /password=secret|:secret@/)
      })
    })
  }
}
