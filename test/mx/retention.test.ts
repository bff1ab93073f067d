import assert from 'node:assert/strict'
import { createAccount } from '../../lib/db/accounts'
import { addAllowedIp } from '../../lib/db/allowlist'
import { addSender } from '../../lib/db/senders'
import { DAY_MS, runPurge } from '../../lib/retention/purge'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail } from '../support/smtp-client'

for (const kind of databaseKinds()) {
  describe(`MX: an email retried after its SMS were purged (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let mx: RunningMx

    before(async () => {
      t = await createTestDatabase(kind)
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme', defaultCountry: 'FR' })
      await addSender(t.db, acme.id, 'alice@acme.example', { status: 'accepted', isDefault: true })
      await addAllowedIp(t.db, acme.id, '127.0.0.1')
      mx = await startMx({ database: t.config })
    })

    after(async () => {
      await mx?.stop()
      await t?.drop()
    })

    it('is still answered "already queued" and makes no second SMS', async () => {
      const env = {
        from: 'alice@acme.example',
        to: [`+33611111111@${SMS_DOMAIN}`, `+33622222222@${SMS_DOMAIN}`],
        message: buildMessage({
          from: 'alice@acme.example',
          to: 'two numbers',
          body: 'La livraison arrive demain.',
          messageId: '<purged-retry-1@client.example.net>',
        }),
      }
      const first = await sendMail(mx.port, env)
      assert.equal(first.data?.code, 250, first.data?.text)
      // Delivered long ago, then purged of text and addresses.
      const long = Date.now() - 40 * DAY_MS
      await t.db('outbound_sms').update({ status: 'delivered', created_at: long, final_at: long })
      const report = await runPurge(
        t.db,
        { textDays: 30, addressesDays: 30 },
        { batchSize: 100, pauseMs: 0, now: Date.now() },
      )
      assert.equal(report.rows.find((r) => r.step === 'outbound_both')?.rows, 2)
      const again = await sendMail(mx.port, env)
      assert.equal(again.data?.code, 250, again.data?.text)
      assert.match(again.data?.text ?? '', /already queued as 2 SMS/)
      const rows = await t.db('outbound_sms').select('recipient', 'body', 'purged')
      assert.deepEqual(
        rows.map((r) => [r.recipient, r.body, Number(r.purged)]),
        [
          ['', '', 3],
          ['', '', 3],
        ],
      )
    })
  })
}
