import assert from 'node:assert/strict'
import { createAccount } from '../../../lib/db/accounts'
import { createAdmin, grantAccount } from '../../../lib/db/admins'
import {
  claimDueQuotaAlerts,
  finishQuotaAlert,
  recordQuotaAlerts,
  retryQuotaAlert,
} from '../../../lib/db/quota-alerts'
import { addToCounters } from '../../../lib/db/usage-counters'
import { createMailer, type Mailer } from '../../../lib/mail/mailer'
import { QuotaAlertSender } from '../../../lib/limits/quota-alert-sender'
import type { QuotaAlert } from '../../../lib/limits/spend'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'
import { SmtpSink } from '../../support/smtp-sink'
import { eventually } from '../../worker/harness'

for (const kind of databaseKinds()) {
  describe(`lib/limits QuotaAlertSender (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let sink: SmtpSink
    let mailer: Mailer
    let acme: number
    let lonely: number
    const lines: string[] = []

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme SA' })).id
      lonely = (await createAccount(t.db, { ref: 'lonely', name: 'Lonely' })).id
      for (const email of ['boss@acme.example', 'ops@acme.example']) {
        const admin = await createAdmin(t.db, { email, name: '', passwordHash: 'x' })
        await grantAccount(t.db, admin.id, acme)
      }
      sink = new SmtpSink()
      await sink.start()
      mailer = createMailer(sink.mailerConfig())
    })

    after(async () => {
      await mailer?.close()
      await sink?.stop()
      await t?.drop()
    })

    const alert = (accountId: number, threshold: 80 | 100): QuotaAlert => ({
      accountId,
      period: 'day',
      periodLabel: '2026-12-06',
      threshold,
      limit: 1000,
      used: threshold * 10,
    })

    it("mails each threshold once to the account's admins, however many nodes recorded it", async () => {
      await recordQuotaAlerts(t.db, [alert(acme, 80)])
      await recordQuotaAlerts(t.db, [alert(acme, 80)]) // another MX node saw the same crossing
      await recordQuotaAlerts(t.db, [alert(acme, 100), alert(lonely, 80)])
      const sender = new QuotaAlertSender({
        db: t.db,
        mailer,
        log: (l) => lines.push(l),
        pollMs: 20,
      })
      sender.start()
      try {
        await eventually(
          () => t.db('quota_alerts').whereNot({ status: 'due' }).count({ n: '*' }),
          (rows) => Number(rows[0].n) === 3,
        )
        await new Promise((r) => setTimeout(r, 100))
      } finally {
        await sender.stop()
      }
      const mails = sink.mails.filter((m) => m.parsed.subject?.includes('Acme SA'))
      assert.equal(mails.length, 2)
      for (const m of mails)
        assert.deepEqual(m.envelopeTo.sort(), ['boss@acme.example', 'ops@acme.example'])
      const at80 = mails.find((m) => m.parsed.subject?.includes('80'))
      assert.ok(at80)
      assert.match(at80.parsed.text ?? '', /800 of 1000 SMS segments used \(daily quota\)/)
      assert.match(at80.parsed.text ?? '', /800 segments SMS utilisés sur 1000/)
      assert.equal(at80.header('auto-submitted'), 'auto-generated')
      assert.ok(mails.some((m) => /quota reached/.test(m.parsed.subject ?? '')))
      // An account nobody administers: nothing to mail, recorded as skipped and logged.
      const skipped = await t.db('quota_alerts').where({ account_id: lonely }).first()
      assert.equal(skipped.status, 'skipped')
      assert.ok(lines.some((l) => /account=lonely .* skipped/.test(l)))
    })

    it('deletes spent counters as it goes', async () => {
      await addToCounters(t.db, [
        { key: 'old', amount: 1, expiresAt: 1 },
        { key: 'live', amount: 1, expiresAt: Date.now() + 3600_000 },
      ])
      const sender = new QuotaAlertSender({ db: t.db, mailer, log: () => undefined, pollMs: 20 })
      sender.start()
      try {
        await eventually(
          () => t.db('usage_counters').pluck('counter_key'),
          (keys) => !keys.includes('old'),
        )
      } finally {
        await sender.stop()
      }
      assert.deepEqual(await t.db('usage_counters').pluck('counter_key'), ['live'])
    })

    it('logs a database outage once when it starts and once when it ends', async () => {
      const outage: string[] = []
      await t.db.schema.renameTable('quota_alerts', 'quota_alerts_away')
      const sender = new QuotaAlertSender({
        db: t.db,
        mailer,
        log: (l) => outage.push(l),
        pollMs: 5,
      })
      sender.start()
      try {
        await new Promise((r) => setTimeout(r, 200))
        await t.db.schema.renameTable('quota_alerts_away', 'quota_alerts')
        await eventually(
          async () => outage.filter((l) => /read quota alerts: working again/.test(l)),
          (lines) => lines.length === 1,
        )
      } finally {
        await sender.stop()
      }
      assert.equal(outage.filter((l) => /cannot read quota alerts/.test(l)).length, 1)
    })

    it('a sender whose lease ran out and was taken over records nothing', async () => {
      await recordQuotaAlerts(t.db, [{ ...alert(acme, 80), periodLabel: '2026-12-07' }])
      const now = Date.now()
      const [first] = await claimDueQuotaAlerts(t.db, { now, leaseMs: 10, limit: 20 })
      assert.ok(first, 'claimed')
      assert.deepEqual(
        await claimDueQuotaAlerts(t.db, { now: now + 5, leaseMs: 10, limit: 20 }),
        [],
      )
      const [second] = await claimDueQuotaAlerts(t.db, {
        now: now + 20,
        leaseMs: 60_000,
        limit: 20,
      })
      assert.equal(second?.id, first.id)
      assert.equal(second.attempts, 2)
      assert.equal(await finishQuotaAlert(t.db, first, 'sent', now + 30), false)
      assert.equal(await retryQuotaAlert(t.db, first, now + 99_000), false)
      const held = await t.db('quota_alerts').where({ id: first.id }).first()
      assert.equal(held.status, 'due')
      assert.equal(Number(held.lease_until), now + 20 + 60_000)
      assert.equal(await finishQuotaAlert(t.db, second, 'sent', now + 30), true)
      assert.equal((await t.db('quota_alerts').where({ id: first.id }).first()).status, 'sent')
    })
  })
}
