import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { createAccount } from '../../../lib/db/accounts'
import { isMysql, type Db } from '../../../lib/db/connection'
import { readCounters } from '../../../lib/db/usage-counters'
import { dedupeKeyFor, insertEmails, type NewSms } from '../../../lib/db/outbound'
import { PURGED_ADDRESSES, PURGED_TEXT, purgeStep } from '../../../lib/db/retention'
import { dailyCounts } from '../../../lib/db/outbound'
import { addSender } from '../../../lib/db/senders'
import { DAY_MS, runPurge, type RetentionPolicy } from '../../../lib/retention/purge'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const NOW = Date.UTC(2026, 11, 10, 12, 0, 0)
const ago = (days: number) => NOW - days * DAY_MS

interface Outbound {
  id: number
  source: string
  recipient: string
  trace: string
}

for (const kind of databaseKinds()) {
  describe(`lib/db/retention and lib/retention/purge (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let db: Db
    let accountId: number
    let senderId: number
    let serial = 0

    /** An SMS as the MX stores it, then moved by hand to the state and time the test needs. */
    async function outbound(
      status: string,
      finalDaysAgo: number | null,
      extra: Record<string, unknown> = {},
    ): Promise<Outbound> {
      const n = ++serial
      const source = `<m${n}@client.example>`
      const recipient = `+336000${String(n).padStart(5, '0')}`
      const item: NewSms = {
        accountId,
        senderId,
        senderEmail: 'alice@acme.example',
        recipient,
        body: `Rendez-vous n°${n} à 15h`,
        encoding: 'gsm7',
        segments: 1,
        sourceMessageId: source,
        dedupeKey: dedupeKeyFor(source, recipient, null),
        mxTransaction: `txn-${n}`,
        timeZone: 'UTC',
      }
      const created = finalDaysAgo === null ? ago(90) : ago(finalDaysAgo) - 60_000
      const [{ ids }] = await insertEmails(db, [[item]], created)
      await db('outbound_sms')
        .where('id', ids[0])
        .update({
          status,
          final_at: finalDaysAgo === null ? null : ago(finalDaysAgo),
          ...extra,
        })
      return { id: ids[0], source, recipient, trace: item.mxTransaction as string }
    }

    async function receipt(smsId: number | null, daysAgo: number): Promise<number> {
      const [id] = await db('delivery_events').insert({
        sms_id: smsId,
        smsc_message_id: `msg-${++serial}`,
        state: 'delivered',
        handset: '+33611111111',
        handset_ton: 1,
        raw: 'id:1 sub:001 dlvrd:001 stat:DELIVRD err:000 text:Rendez-vous',
        received_at: ago(daysAgo),
      })
      return Number(id)
    }

    async function inbound(status: string, daysAgo: number): Promise<number> {
      const n = ++serial
      const [id] = await db('inbound_sms').insert({
        account_id: accountId,
        from_number: '+33699999999',
        to_number: '+33700000001',
        body: `OK pour ${n}`,
        encoding: 'gsm7',
        source: 'smpp',
        dedupe_key: `mo-${n}`,
        status,
        last_error: status === 'failed' ? 'relay refused: 550 <boss@acme.example> unknown' : null,
        mailed_to: status === 'forwarded' ? 'boss@acme.example' : null,
        received_at: ago(daysAgo),
      })
      return Number(id)
    }

    const row = (table: string, id: number) => db(table).where('id', id).first()

    before(async () => {
      t = await createTestDatabase(kind)
      db = t.db
      accountId = (await createAccount(db, { ref: 'acme', name: 'Acme' })).id
      senderId = (await addSender(db, accountId, 'alice@acme.example', { status: 'accepted' })).id
    })

    after(async () => t?.drop())

    beforeEach(async () => {
      // The daily counts outlive the SMS deleted (what was sent stays counted): start them afresh.
      for (const table of [
        'delivery_events',
        'outbound_sms',
        'inbound_sms',
        'sms_daily_delta',
        'sms_daily_rollup',
      ])
        await db(table).del()
    })

    const purge = (policy: RetentionPolicy, batchSize = 2, dryRun = false) =>
      runPurge(db, policy, { batchSize, pauseMs: 0, now: NOW, dryRun })

    it('removes text of final SMS past text_days, keeps recent, unfinished and noticed-due ones', async () => {
      const old = await outbound('delivered', 40)
      const oldFailed = await outbound('undeliverable', 35, { notice_status: 'sent' })
      const noticeDue = await outbound('expired', 40, { notice_status: 'due' })
      const recent = await outbound('delivered', 10)
      const queued = await outbound('queued', null)
      const sent = await outbound('sent', null, { sent_at: ago(80) })
      const oldReceipt = await receipt(old.id, 40)
      const recentReceipt = await receipt(recent.id, 10)

      const report = await purge({ textDays: 30, addressesDays: 0 })
      assert.deepEqual(
        report.rows.map((r) => [r.step, r.rows]),
        [
          ['outbound_text', 2],
          ['inbound_text', 0],
          ['unmatched_receipts', 0],
        ],
      )
      for (const sms of [old, oldFailed]) {
        const r = await row('outbound_sms', sms.id)
        assert.equal(r.body, '')
        assert.equal(Number(r.purged), PURGED_TEXT)
        // Addresses have their own retention, off here.
        assert.equal(r.recipient, sms.recipient)
        assert.equal(r.sender_email, 'alice@acme.example')
      }
      for (const sms of [noticeDue, recent, queued, sent]) {
        const r = await row('outbound_sms', sms.id)
        assert.match(r.body, /^Rendez-vous/)
        assert.equal(Number(r.purged), 0)
      }
      const e1 = await row('delivery_events', oldReceipt)
      assert.equal(e1.raw, null)
      assert.equal(e1.handset, '+33611111111')
      assert.match((await row('delivery_events', recentReceipt)).raw, /text:Rendez-vous/)
    })

    it('removes addresses past addresses_days from SMS, their receipts and inbound SMS', async () => {
      const old = await outbound('delivered', 70)
      const textOnly = await outbound('failed', 40, { notice_status: 'skipped' })
      const oldReceipt = await receipt(old.id, 70)
      const forwarded = await inbound('forwarded', 70)
      const failed = await inbound('failed', 70)
      const waiting = await inbound('received', 70)
      const recentIn = await inbound('kept', 5)

      const report = await purge({ textDays: 30, addressesDays: 60 })
      const rows = Object.fromEntries(report.rows.map((r) => [r.step, r.rows]))
      // Rows past both retentions lose both in one statement; the younger one its text only.
      assert.deepEqual(rows, {
        outbound_both: 1,
        inbound_both: 2,
        outbound_text: 1,
        inbound_text: 0,
        outbound_addresses: 0,
        inbound_addresses: 0,
        unmatched_receipts: 0,
      })
      const o = await row('outbound_sms', old.id)
      assert.deepEqual(
        [o.body, o.recipient, o.sender_email, o.sender_id, o.source_message_id, Number(o.purged)],
        ['', '', '', null, null, PURGED_TEXT | PURGED_ADDRESSES],
      )
      // What the counts, limits and retries need stays.
      assert.equal(o.status, 'delivered')
      assert.equal(Number(o.segments), 1)
      assert.equal(o.dedupe_key, dedupeKeyFor(old.source, old.recipient, null))
      assert.equal(o.mx_transaction, old.trace)
      const partly = await row('outbound_sms', textOnly.id)
      assert.equal(partly.recipient, textOnly.recipient)
      assert.equal(Number(partly.purged), PURGED_TEXT)
      const e = await row('delivery_events', oldReceipt)
      assert.deepEqual([e.raw, e.handset, e.handset_ton, e.state], [null, null, null, 'delivered'])
      for (const id of [forwarded, failed]) {
        const r = await row('inbound_sms', id)
        assert.deepEqual([r.body, r.from_number, r.last_error, r.mailed_to], ['', '', null, null])
        assert.equal(r.to_number, '+33700000001')
        assert.equal(Number(r.purged), PURGED_TEXT | PURGED_ADDRESSES)
      }
      for (const id of [waiting, recentIn]) {
        const r = await row('inbound_sms', id)
        assert.match(r.body, /^OK pour/)
        assert.equal(r.from_number, '+33699999999')
      }
    })

    it('leaves the daily counts of the admin chart as they were', async () => {
      for (const [status, days] of [
        ['delivered', 40],
        ['delivered', 41],
        ['undeliverable', 40],
        ['unknown', 42],
        ['partial', 40],
        ['delivered', 3],
      ] as const) {
        await outbound(status, days)
      }
      const before = await dailyCounts(db, accountId, 60, NOW, 'UTC')
      assert.equal(
        before.reduce((n, d) => n + d.total, 0),
        6,
      )
      await purge({ textDays: 30, addressesDays: 30 })
      assert.deepEqual(await dailyCounts(db, accountId, 60, NOW, 'UTC'), before)
      assert.equal(Number((await db('outbound_sms').where('purged', 3).count({ n: '*' }))[0].n), 5)
    })

    it('still recognises a retried email after its SMS was purged: no second SMS', async () => {
      const sms = await outbound('delivered', 40)
      await purge({ textDays: 30, addressesDays: 30 })
      const key = dedupeKeyFor(sms.source, sms.recipient, null)
      // The MX's spend check reads the stored dedupe keys (a retry is counted nothing)…
      assert.ok((await readCounters(db, [], [key])).stored.has(key))
      // …and its insert finds the earlier row instead of adding one.
      const [again] = await insertEmails(db, [
        [
          {
            accountId,
            senderId,
            senderEmail: 'alice@acme.example',
            recipient: sms.recipient,
            body: 'Rendez-vous again',
            encoding: 'gsm7',
            segments: 1,
            sourceMessageId: sms.source,
            dedupeKey: key,
            mxTransaction: 'txn-retry',
            timeZone: 'UTC',
          },
        ],
      ])
      assert.deepEqual(again, { ids: [sms.id], duplicates: 1 })
      assert.equal(Number((await db('outbound_sms').count({ n: '*' }))[0].n), 1)
      assert.equal((await row('outbound_sms', sms.id)).body, '')
    })

    it('deletes receipts that never matched an SMS once past the shorter retention', async () => {
      const old = await receipt(null, 20)
      const young = await receipt(null, 5)
      const matched = await outbound('delivered', 20)
      const matchedReceipt = await receipt(matched.id, 20)
      const report = await purge({ textDays: 60, addressesDays: 10 })
      assert.equal(report.rows.find((r) => r.step === 'unmatched_receipts')?.rows, 1)
      assert.equal(await row('delivery_events', old), undefined)
      assert.ok(await row('delivery_events', young))
      // A matched receipt stays, blanked with its SMS.
      assert.equal((await row('delivery_events', matchedReceipt)).handset, null)
    })

    it('counts in a dry run exactly what the purge then removes, and changes nothing', async () => {
      for (let i = 0; i < 5; i++) await outbound('delivered', 40 + i)
      await outbound('delivered', 1)
      await inbound('replied', 50)
      const dry = await purge({ textDays: 30, addressesDays: 0 }, 2, true)
      assert.equal(dry.batches, 0)
      assert.equal(Number((await db('outbound_sms').where('purged', 0).count({ n: '*' }))[0].n), 6)
      const real = await purge({ textDays: 30, addressesDays: 0 }, 2)
      assert.deepEqual(real.rows, dry.rows)
      // 5 rows in batches of 2 (the last short one ends the step), then 1 inbound row.
      assert.equal(real.batches, 4)
      const again = await purge({ textDays: 30, addressesDays: 0 }, 2)
      assert.equal(
        again.rows.reduce((n, r) => n + r.rows, 0),
        0,
      )
    })

    it('counts each row once in a dry run when text and addresses have different retentions', async () => {
      for (const days of [100, 70, 45, 40, 10]) await outbound('delivered', days)
      const policy = { textDays: 30, addressesDays: 60 }
      const dry = await purge(policy, 2, true)
      const real = await purge(policy, 2)
      assert.deepEqual(real.rows, dry.rows)
      const rows = Object.fromEntries(real.rows.map((r) => [r.step, r.rows]))
      assert.deepEqual([rows.outbound_both, rows.outbound_text, rows.outbound_addresses], [2, 2, 0])
    })

    it('removes addresses before text when addresses have the shorter retention', async () => {
      const both = await outbound('delivered', 100)
      const young = await outbound('delivered', 45)
      const report = await purge({ textDays: 60, addressesDays: 30 })
      const rows = Object.fromEntries(report.rows.map((r) => [r.step, r.rows]))
      assert.deepEqual([rows.outbound_both, rows.outbound_text, rows.outbound_addresses], [1, 0, 1])
      const y = await row('outbound_sms', young.id)
      assert.deepEqual([y.recipient, y.sender_email, Number(y.purged)], ['', '', PURGED_ADDRESSES])
      assert.match(y.body, /^Rendez-vous/)
      assert.equal(Number((await row('outbound_sms', both.id)).purged), 3)
    })

    it('purges each row once when two purges run at the same time', async () => {
      for (let i = 0; i < 30; i++) await outbound('delivered', 40)
      const policy = { textDays: 30, addressesDays: 30 }
      const [a, b] = await Promise.all([purge(policy, 4), purge(policy, 4)])
      const total = (step: string) =>
        [a, b].reduce((n, r) => n + (r.rows.find((x) => x.step === step)?.rows ?? 0), 0)
      assert.equal(total('outbound_both'), 30)
      assert.equal(total('outbound_text') + total('outbound_addresses'), 0)
      assert.equal(Number((await db('outbound_sms').where('purged', 3).count({ n: '*' }))[0].n), 30)
    })

    it('stops between batches when asked, and pauses between them', async () => {
      for (let i = 0; i < 6; i++) await outbound('delivered', 40)
      const pauses: number[] = []
      let asked = 0
      const report = await runPurge(
        db,
        { textDays: 30, addressesDays: 0 },
        {
          batchSize: 2,
          pauseMs: 25,
          now: NOW,
          sleep: async (ms) => {
            pauses.push(ms)
          },
          shouldStop: () => ++asked > 3,
        },
      )
      assert.equal(report.interrupted, true)
      assert.equal(report.batches, 2)
      assert.deepEqual(pauses, [25])
      assert.equal(Number((await db('outbound_sms').where('purged', 1).count({ n: '*' }))[0].n), 4)
    })

    if (kind === 'mysql') {
      it('reads each batch through the retention index on MariaDB, not the whole table', async () => {
        const plan = async (sql: { sql: string; bindings: readonly unknown[] }) => {
          const [rows] = await db.raw(
            `EXPLAIN ${sql.sql}`,
            sql.bindings as readonly Knex.RawBinding[],
          )
          return rows as Array<{ key: string | null; type: string; Extra: string | null }>
        }
        // The pick statement as runPurge sends it.
        let captured: { sql: string; bindings: readonly unknown[] } | null = null
        const listener = (q: { sql: string; bindings: unknown[] }) => {
          if (/select `id` from `outbound_sms` FORCE INDEX/i.test(q.sql)) captured = q
        }
        db.on('query', listener)
        try {
          await purgeStep('outbound_text').pick(db, ago(30), 500)
        } finally {
          db.off('query', listener)
        }
        assert.ok(captured, 'the pick statement was seen')
        const [p] = await plan(captured)
        assert.equal(p.key, 'outbound_sms_retention')
        assert.equal(p.type, 'range')
        // The batch's UPDATE finds its rows by primary key, even on a table this small, where
        // the planner would rather read the retention index: InnoDB then locks those rows only,
        // no range of the retention index where the MX inserts new rows.
        let update: { sql: string; bindings: readonly unknown[] } | null = null
        const updates = (q: { sql: string; bindings: unknown[] }) => {
          if (/^update `outbound_sms`/i.test(q.sql)) update = q
        }
        const id = (await outbound('delivered', 40)).id
        db.on('query', updates)
        try {
          await purgeStep('outbound_text').apply(db, [id], ago(30))
        } finally {
          db.off('query', updates)
        }
        assert.ok(update, 'the update statement was seen')
        const [u] = await plan(update as unknown as { sql: string; bindings: readonly unknown[] })
        assert.equal(u.key, 'PRIMARY')
        // So does the DELETE of unmatched receipts, beside the range new ones are added to.
        let del: { sql: string; bindings: readonly unknown[] } | null = null
        const deletes = (q: { sql: string; bindings: unknown[] }) => {
          if (/^DELETE e FROM delivery_events/.test(q.sql)) del = q
        }
        const unmatched = await receipt(null, 40)
        db.on('query', deletes)
        try {
          assert.equal(await purgeStep('unmatched_receipts').apply(db, [unmatched], ago(30)), 1)
        } finally {
          db.off('query', deletes)
        }
        assert.ok(del, 'the delete statement was seen')
        // Explained for a receipt still there: for the deleted one, MariaDB reads no index.
        const another = await receipt(null, 40)
        const [d] = await plan({
          sql: (del as unknown as { sql: string }).sql,
          bindings: [another, ago(30)],
        })
        assert.equal(d.key, 'PRIMARY')
        assert.ok(isMysql(db))
      })
    }
  })
}
