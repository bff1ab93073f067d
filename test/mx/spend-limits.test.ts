import assert from 'node:assert/strict'
import { updateAccountLimits } from '../../lib/db/accounts'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { startMx, SMS_DOMAIN, type RunningMx } from '../support/mx'
import { buildMessage, sendMail, type SmtpReply } from '../support/smtp-client'
import { seedSendingAccount } from '../support/accounts'

const SENDER = 'alice@acme.example'

function assertReply(
  reply: SmtpReply | null | undefined,
  code: number,
  status: string,
  phrase?: RegExp,
) {
  assert.ok(reply, 'expected a reply')
  assert.equal(reply.code, code, `got ${reply.code} ${reply.text}`)
  assert.ok(reply.text.startsWith(status), `expected ${status} in "${reply.text}"`)
  if (phrase) assert.match(reply.text, phrase)
}

/**
 * Rates count per UTC minute and quotas per UTC day: a sequence of sends must not straddle a
 * boundary, or its counters would start again half-way. Waits for a fresh minute when late.
 */
async function startOfMinute(): Promise<void> {
  const second = new Date().getUTCSeconds()
  if (second > 40) await new Promise((r) => setTimeout(r, (61 - second) * 1000))
}

for (const kind of databaseKinds()) {
  describe(`MX: spend limits (${kind})`, function () {
    this.timeout(120_000)
    let t: TestDatabase
    let mx: RunningMx
    let other: RunningMx
    const accountIds: Record<string, number> = {}

    before(async () => {
      t = await createTestDatabase(kind)
      // One account per limit, so that no test eats into another's counters.
      for (const ref of ['acme', 'rate', 'quota', 'shared', 'loop']) {
        const { account } = await seedSendingAccount(t.db, { ref }, [SENDER], {
          isDefault: ref === 'acme',
        })
        accountIds[ref] = account.id
      }
      await updateAccountLimits(t.db, accountIds.rate, { smsPerMinute: 2 })
      await updateAccountLimits(t.db, accountIds.shared, { smsPerMinute: 2 })
      await updateAccountLimits(t.db, accountIds.quota, { segmentsPerDay: 5 })
      const limits = { loop_max_repeats: 2, loop_window_minutes: 10 }
      mx = await startMx({ database: t.config, limits })
      other = await startMx({ database: t.config, limits })
    })

    after(async () => {
      await mx?.stop()
      await other?.stop()
      await t?.drop()
    })

    const send = (
      port: number,
      account: string,
      number: string,
      body: string,
      messageId?: string,
    ) =>
      sendMail(port, {
        from: SENDER,
        to: [`${number}+${account}@${SMS_DOMAIN}`],
        message: buildMessage({ from: SENDER, to: 'sms', body, messageId }),
      })

    it("refuses numbers outside the account's country, and satellite ranges, at RCPT", async () => {
      const belgian = await send(mx.port, 'acme', '+32470123456', 'Hello')
      assertReply(
        belgian.rcpts[0],
        550,
        '5.7.1',
        /\+32470123456 is in BE, which account "acme" may not send SMS to \(allowed: FR\)/,
      )
      const satellite = await send(mx.port, 'acme', '+881612345678', 'Hello')
      assertReply(satellite.rcpts[0], 550, '5.7.1', /non-geographic number \(\+881\)/)
      assert.equal(Number((await t.db('outbound_sms').count({ n: '*' }))[0].n), 0)
    })

    it('lets through the destinations the operator lists for the account', async () => {
      await updateAccountLimits(t.db, accountIds.acme, { allowedDestinations: 'BE, +881' })
      const belgian = await send(mx.port, 'acme', '+32470123456', 'Hello Brussels')
      assertReply(belgian.data, 250, 'queued as')
      const satellite = await send(mx.port, 'acme', '+881612345678', 'Hello ship')
      assertReply(satellite.data, 250, 'queued as')
      const german = await send(mx.port, 'acme', '+4915112345678', 'Hallo')
      assertReply(german.rcpts[0], 550, '5.7.1', /is in DE/)
    })

    it('asks for a retry (451 4.7.1) past the account rate, naming the limit and the reset', async () => {
      await startOfMinute()
      for (const n of ['+33611000001', '+33611000002'])
        assertReply((await send(mx.port, 'rate', n, `rate ${n}`)).data, 250, 'queued as')
      const third = await send(mx.port, 'rate', '+33611000003', 'rate 3')
      assertReply(
        third.data,
        451,
        '4.7.1',
        /account "rate" may send at most 2 SMS per minute; try again after \d\d:\d\d UTC/,
      )
      assert.equal(
        Number(
          (await t.db('outbound_sms').where({ account_id: accountIds.rate }).count({ n: '*' }))[0]
            .n,
        ),
        2,
      )
    })

    it('shares the counters between MX nodes on one database', async () => {
      await startOfMinute()
      assertReply((await send(mx.port, 'shared', '+33612000001', 'one')).data, 250, 'queued as')
      assertReply((await send(other.port, 'shared', '+33612000002', 'two')).data, 250, 'queued as')
      const third = await send(mx.port, 'shared', '+33612000003', 'three')
      assertReply(third.data, 451, '4.7.1', /account "shared"/)
      const fourth = await send(other.port, 'shared', '+33612000004', 'four')
      assertReply(fourth.data, 451, '4.7.1', /account "shared"/)
    })

    it('refuses (5xx) what passes the daily quota, records the 80 % and 100 % alerts, and still takes retries', async () => {
      await startOfMinute()
      const ids: string[] = []
      for (let i = 1; i <= 4; i++) {
        const id = `<quota-${i}-${kind}@client.example.net>`
        ids.push(id)
        assertReply(
          (await send(mx.port, 'quota', `+3361300000${i}`, `quota ${i}`, id)).data,
          250,
          'queued as',
        )
      }
      const alerts = () =>
        t
          .db('quota_alerts')
          .where({ account_id: accountIds.quota })
          .orderBy('threshold')
          .select('threshold', 'used_segments', 'period', 'status')
      assert.deepEqual(
        (await alerts()).map((a) => [
          Number(a.threshold),
          Number(a.used_segments),
          a.period,
          a.status,
        ]),
        [[80, 4, 'day', 'due']],
      )
      const long = 'x'.repeat(200) // two GSM-7 segments: 4 + 2 > 5
      const refused = await send(mx.port, 'quota', '+33613000009', long)
      assertReply(
        refused.data,
        550,
        '5.7.1',
        /the daily quota of account "quota" is spent: 4 of 5 SMS segments used and this message needs 2; it resets at \d{4}-\d\d-\d\d 00:00 UTC/,
      )
      assert.deepEqual(
        (await alerts()).map((a) => Number(a.threshold)),
        [80, 100],
      )
      // The sending server retrying an email already taken gets its 250 again, quota or not.
      const retry = await send(mx.port, 'quota', '+33613000001', 'quota 1', ids[0])
      assertReply(retry.data, 250, 'already queued')
      const counter = await t
        .db('usage_counters')
        .where('counter_key', 'like', `seg:a:${accountIds.quota}:%-%-%`)
        .first()
      assert.equal(Number(counter.used), 4)
    })

    it('refuses the same text to the same number past the loop guard, and nothing else', async () => {
      for (let i = 0; i < 2; i++)
        assertReply(
          (await send(mx.port, 'loop', '+33614000001', 'Server down')).data,
          250,
          'queued as',
        )
      const third = await send(other.port, 'loop', '+33614000001', 'Server down')
      assertReply(
        third.data,
        550,
        '5.7.1',
        /already sent to \+33614000001 2 times in the last 10 minutes/,
      )
      assertReply((await send(mx.port, 'loop', '+33614000001', 'Server up')).data, 250, 'queued as')
      assertReply(
        (await send(mx.port, 'loop', '+33614000002', 'Server down')).data,
        250,
        'queued as',
      )
    })

    it('refuses for good (550 5.6.0) a message with more MIME parts than the parser reads', async () => {
      const parts = Array.from(
        { length: 1100 },
        (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`,
      ).join('')
      const message = [
        `From: ${SENDER}`,
        'To: sms',
        'Subject: parts',
        `Message-ID: <parts-${kind}@client.example.net>`,
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="b"',
        '',
        `${parts}--b--`,
        '',
      ].join('\r\n')
      const r = await sendMail(mx.port, {
        from: SENDER,
        to: [`+33615000001@${SMS_DOMAIN}`],
        message,
      })
      assertReply(r.data, 550, '5.6.0', /more than 1000 MIME parts/)
    })
  })
}
