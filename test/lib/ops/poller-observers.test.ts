import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { InboundMailDispatcher } from '../../../lib/inbound/dispatcher'
import { QuotaAlertSender } from '../../../lib/limits/quota-alert-sender'
import type { Mailer } from '../../../lib/mail/mailer'
import { NoticeSender } from '../../../lib/notices/notice-sender'
import type { PollerObservers } from '../../../lib/ops/poller-observers'
import { ConsoleTransport } from '../../../lib/worker/transport'
import { SmsWorker } from '../../../lib/worker/worker'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'
import { eventually, testWorkerConfig } from '../../worker/harness'

/** Records what the services report: loop rounds by name, claims by kind of work. */
function recording(): PollerObservers & {
  rounds: Map<string, number>
  claims: Array<{ work: string; rows: number }>
} {
  const rounds = new Map<string, number>()
  const claims: Array<{ work: string; rows: number }> = []
  return {
    rounds,
    claims,
    loop: { round: (name) => rounds.set(name, (rounds.get(name) ?? 0) + 1) },
    claim: { claimed: (work, rows) => claims.push({ work, rows }) },
  }
}

const unusedMailer: Mailer = {
  send: async () => {
    throw new Error('no mail expected')
  },
  close: async () => undefined,
}

for (const kind of databaseKinds()) {
  describe(`services report their loops and claims to the observers they are given (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase

    before(async () => {
      t = await createTestDatabase(kind)
    })

    after(async () => t?.drop())

    it('the SMS worker: its send loop, its lease renewal and each claim', async () => {
      const account = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      const now = Date.now()
      await t.db('outbound_sms').insert({
        account_id: account.id,
        sender_email: 'a@acme.example',
        recipient: '+33612345678',
        body: 'observed',
        encoding: 'gsm7',
        segments: 1,
        status: 'queued',
        attempts: 0,
        next_attempt_at: now,
        dedupe_key: `obs-${kind}`,
        created_at: now,
        updated_at: now,
      })
      const seen = recording()
      const worker = new SmsWorker({
        db: t.db,
        transport: new ConsoleTransport(() => undefined),
        config: testWorkerConfig({ transport: 'console' }),
        receipts: 'per_part',
        defaultSource: '',
        log: () => undefined,
        observers: seen,
      })
      worker.start()
      try {
        await eventually(
          async () => seen.claims.filter((c) => c.work === 'sms' && c.rows === 1).length,
          (n) => n === 1,
        )
        await eventually(
          async () => seen.rounds,
          (r) => (r.get('sms') ?? 0) >= 2 && (r.get('sms-lease-renewal') ?? 0) >= 1,
        )
      } finally {
        await worker.stop()
      }
    })

    it('the inbound dispatcher, the notice sender and the quota alert sender', async () => {
      const seen = recording()
      const services = [
        new InboundMailDispatcher({
          db: t.db,
          mailer: unusedMailer,
          smsDomain: 'sms.example.test',
          directReplyWindowHours: 24,
          pollMs: 20,
          observers: seen,
        }),
        new NoticeSender({
          db: t.db,
          mailer: unusedMailer,
          smsDomain: 'sms.example.test',
          pollMs: 20,
          log: () => undefined,
          observers: seen,
        }),
        new QuotaAlertSender({
          db: t.db,
          mailer: unusedMailer,
          pollMs: 20,
          log: () => undefined,
          observers: seen,
        }),
      ]
      for (const s of services) s.start()
      try {
        await eventually(
          async () => seen.rounds,
          (r) => ['inbound-mail', 'notices', 'quota-alerts'].every((name) => r.has(name)),
        )
        // SMS failure notices share the SMS table: counted apart, as their own work.
        const works = new Set(seen.claims.map((c) => c.work))
        assert.deepEqual([...works].sort(), ['inbound', 'notices', 'quota_alerts'])
      } finally {
        for (const s of services) await s.stop()
      }
    })
  })
}
