import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import type { Knex } from 'knex'
import { createAccount } from '../../../../lib/db/accounts'
import {
  claimDueSms,
  countUnfoldedDeltas,
  dailyCountsBetween,
  dedupeKeyFor,
  expireStale,
  foldDailyDeltas,
  insertEmails,
  markSmsSent,
  readDailyCounts,
  recordUnsent,
  lockSmsRows,
  moveToDelivered,
  settleSmsAsFailed,
  settleSmsAsUnknown,
  periodsOf,
  usageByDay,
  usageBySender,
  type NewSms,
} from '../../../../lib/db/outbound'
import { migrateLatest } from '../../../../lib/db/migrate'
import { runPurge } from '../../../../lib/retention/purge'
import * as fillMigration from '../../../../migrations/20261206120400_fill_sms_daily_rollup'
import { dayOfDate, timeZone } from '../../../../lib/time/zone'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'
import {
  countsFromSms,
  countsKept,
  deltaCount,
  rollupRows,
  totalsFromSms,
  totalsKept,
  totalsRows,
} from '../../../support/daily-counts'

const DAY = 86_400_000
const NOW = Date.UTC(2026, 10, 27, 9, 0, 0)
const OWNER = 'rollup-test-worker'

/** The receipts' move to 'delivered' of these 'sent' SMS, counted by its own statement. */
async function deliver(trx: Knex.Transaction, ids: number[], now: number): Promise<void> {
  await moveToDelivered(trx, await lockSmsRows(trx, ids), now)
}

for (const kind of databaseKinds()) {
  describe(`lib/db/outbound/daily-rollup (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let acme: number
    let globex: number
    let n = 0

    const sms = (accountId: number, extra: Partial<NewSms> = {}): NewSms => {
      const i = ++n
      return {
        accountId,
        senderId: null,
        senderEmail: i % 3 === 0 ? 'bob@acme.example' : 'alice@acme.example',
        recipient: `+336${String(i).padStart(8, '0')}`,
        body: `hello ${i}`,
        encoding: 'gsm7',
        segments: 1 + (i % 3),
        sourceMessageId: null,
        dedupeKey: dedupeKeyFor(`rollup-${i}`, String(i), null),
        mxTransaction: `txn-${i}`,
        timeZone: 'UTC',
        ...extra,
      }
    }

    /** Emails of one SMS each, as the MX commits them, at `now`. */
    async function enqueue(items: NewSms[], now = NOW): Promise<number[]> {
      const results = await insertEmails(
        t.db,
        items.map((i) => [i]),
        now,
      )
      return results.map((r) => r.ids[0])
    }

    async function assertExact(what: string): Promise<void> {
      assert.deepEqual(await countsKept(t.db), await countsFromSms(t.db), what)
      assert.deepEqual(await totalsKept(t.db), await totalsFromSms(t.db), what)
    }

    async function foldAll(batch = 7): Promise<void> {
      while ((await foldDailyDeltas(t.db, batch)) > 0);
      assert.equal(await deltaCount(t.db), 0)
      assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
      assert.deepEqual(await totalsRows(t.db), await totalsFromSms(t.db))
    }

    beforeEach(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
    })

    afterEach(async () => t?.drop())

    it('counts every SMS the MX stores, the same before and after a fold', async () => {
      await enqueue([...Array(12)].map(() => sms(acme)))
      await enqueue(
        [...Array(5)].map(() => sms(globex)),
        NOW - 2 * DAY,
      )
      // A retried email adds no row, so no count.
      const again = sms(acme)
      await enqueue([again])
      await enqueue([{ ...again, mxTransaction: 'txn-retry' }])
      assert.equal(await deltaCount(t.db), 18)
      await assertExact('unfolded')
      assert.deepEqual(await countsKept(t.db), [
        `${acme} ${dayOfDate('2026-11-27')} queued alice@acme.example: 8 sms 20 seg`,
        `${acme} ${dayOfDate('2026-11-27')} queued bob@acme.example: 5 sms 5 seg`,
        `${globex} ${dayOfDate('2026-11-25')} queued alice@acme.example: 4 sms 10 seg`,
        `${globex} ${dayOfDate('2026-11-25')} queued bob@acme.example: 1 sms 1 seg`,
      ])
      await foldAll()
      assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
      // A fold with nothing waiting changes nothing.
      assert.equal(await foldDailyDeltas(t.db), 0)
      await assertExact('folded')
    })

    it('follows every status the worker writes: sent, delivered, failed, retries, expiry, no receipt', async () => {
      const ids = await enqueue([...Array(10)].map(() => sms(acme)))
      await foldAll()
      const claimed = await claimDueSms(t.db, {
        owner: OWNER,
        limit: 10,
        leaseMs: 60_000,
        now: NOW,
      })
      assert.equal(claimed.length, 10)
      // A claim is a lease, not a change the account sees: no delta for queued → sending.
      assert.equal(await countUnfoldedDeltas(t.db), 0)
      await assertExact('claimed')

      // Two retried later, one refused for good; the claim of the retried ones adds nothing.
      await recordUnsent(
        t.db,
        OWNER,
        [
          { id: ids[0], error: 'throttled', code: 0x58, retryAt: NOW, finalStatus: 'failed' },
          { id: ids[1], error: 'throttled', code: 0x58, retryAt: NOW, finalStatus: 'failed' },
          { id: ids[2], error: 'refused', code: 0x0b, retryAt: null, finalStatus: 'failed' },
        ],
        NOW,
      )
      await expireStale(t.db, OWNER, [ids[3]], NOW)
      await t.db.transaction((trx) =>
        markSmsSent(
          trx,
          OWNER,
          ids.slice(4).map((id) => ({ id, parts: 1 })),
          NOW,
          60_000,
        ),
      )
      await assertExact('after submit')
      await foldDailyDeltas(t.db, 3)
      await assertExact('partly folded')

      await t.db.transaction(async (trx) => {
        await deliver(trx, [ids[4], ids[5]], NOW + 1000)
        await settleSmsAsFailed(trx, ids[6], 'undeliverable', 'receipt: undeliverable', NOW + 1000)
        await settleSmsAsFailed(trx, ids[7], 'partial', 'part 2 lost', NOW + 1000)
        await settleSmsAsUnknown(trx, [ids[8]], NOW + 1000)
      })
      // The retried ones go again and are delivered.
      const again = await claimDueSms(t.db, {
        owner: OWNER,
        limit: 10,
        leaseMs: 60_000,
        now: NOW + 2000,
      })
      assert.deepEqual(again.map((s) => s.id).sort(), [ids[0], ids[1]].sort())
      await t.db.transaction((trx) =>
        markSmsSent(
          trx,
          OWNER,
          again.map((s) => ({ id: s.id, parts: 1 })),
          NOW + 2000,
          60_000,
        ),
      )
      await t.db.transaction((trx) => deliver(trx, [ids[0], ids[1]], NOW + 3000))
      await assertExact('settled')
      await foldAll()
      assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
      // A status passed through leaves no row behind: 'queued' went back to zero and is gone;
      // the last SMS still waits for its receipt.
      const statuses = new Set((await rollupRows(t.db)).map((l) => l.split(' ')[2]))
      assert.deepEqual([...statuses].sort(), [
        'delivered',
        'expired',
        'failed',
        'partial',
        'sent',
        'undeliverable',
        'unknown',
      ])
    })

    it('keeps the counts of SMS blanked by the retention purge, or deleted', async () => {
      const ids = await enqueue(
        [...Array(6)].map(() => sms(acme)),
        NOW - 40 * DAY,
      )
      await t.db('outbound_sms').whereIn('id', ids).update({ status: 'sent' })
      await t.db.transaction((trx) => deliver(trx, ids, NOW - 40 * DAY))
      const before = await countsKept(t.db)
      assert.deepEqual(before, await countsFromSms(t.db))
      const report = await runPurge(
        t.db,
        { textDays: 30, addressesDays: 30 },
        { batchSize: 2, pauseMs: 0, now: NOW },
      )
      assert.ok(
        report.rows.some((r) => r.rows > 0),
        'nothing was purged',
      )
      assert.equal(
        (await t.db('outbound_sms').whereIn('id', ids).where({ sender_email: '' })).length,
        6,
      )
      // Still counted on the sender who sent them.
      assert.deepEqual(await countsKept(t.db), before)
      const totals = await totalsKept(t.db)
      await t.db('outbound_sms').whereIn('id', ids.slice(0, 3)).delete()
      while ((await foldDailyDeltas(t.db)) > 0);
      assert.deepEqual(await countsKept(t.db), before)
      assert.deepEqual(await totalsKept(t.db), totals)
      assert.deepEqual(await rollupRows(t.db), before)
    })

    it('reads the chart and the usage from the counts, only the account’s own', async () => {
      const ids = await enqueue([...Array(6)].map(() => sms(acme)))
      await enqueue(
        [...Array(2)].map(() => sms(acme)),
        NOW - DAY,
      )
      await enqueue([sms(acme)], Date.UTC(2026, 9, 31, 12))
      await enqueue([...Array(4)].map(() => sms(globex)))
      await t.db('outbound_sms').whereIn('id', ids.slice(0, 4)).update({ status: 'sent' })
      await t.db.transaction(async (trx) => {
        await deliver(trx, ids.slice(0, 3), NOW)
        await settleSmsAsFailed(trx, ids[3], 'expired', 'receipt: expired', NOW)
      })
      const today = dayOfDate('2026-11-27')
      // What the usage page reads: sums by day (as days and months) and by sender.
      const usageOf = async (first: number, last: number) => {
        const range = { first, last, today: today + 1, now: NOW }
        const byDay = await usageByDay(t.db, acme, range)
        const days = periodsOf(byDay, first, last, 'day')
        return {
          days,
          months: periodsOf(byDay, first, last, 'month'),
          total: {
            sms: days.reduce((n, d) => n + d.sms, 0),
            segments: days.reduce((n, d) => n + d.segments, 0),
          },
          senders: await usageBySender(t.db, acme, range),
        }
      }
      const read = async () => ({
        chart: (await dailyCountsBetween(t.db, acme, today - 2, today, 'UTC')).map((d) => [
          d.day,
          d.total,
          d.delivered,
          d.failed,
          d.unknown,
        ]),
        usage: await usageOf(dayOfDate('2026-10-31'), today),
      })
      const unfolded = await read()
      assert.deepEqual(unfolded.chart, [
        ['2026-11-25', 0, 0, 0, 0],
        ['2026-11-26', 2, 0, 0, 0],
        ['2026-11-27', 6, 3, 1, 0],
      ])
      const { usage } = unfolded
      assert.equal(usage.days.length, 28)
      assert.deepEqual(
        usage.months.map((m) => [m.period, m.sms]),
        [
          ['2026-10', 1],
          ['2026-11', 8],
        ],
      )
      assert.equal(usage.total.sms, 9)
      const segments = (
        await t.db('outbound_sms').where({ account_id: acme }).sum({ s: 'segments' })
      )[0].s
      assert.equal(usage.total.segments, Number(segments))
      assert.deepEqual(
        usage.senders.map((s) => [s.senderEmail, s.sms]),
        [
          ['alice@acme.example', 6],
          ['bob@acme.example', 3],
        ],
      )
      assert.equal(
        usage.senders.reduce((n, s) => n + s.segments, 0),
        usage.total.segments,
      )
      await foldAll()
      assert.deepEqual(await read(), unfolded)
      assert.deepEqual(await readDailyCounts(t.db, acme, today - 400, today - 100), [])
      await assert.rejects(readDailyCounts(t.db, acme, today, today - 1), RangeError)
    })

    it('puts SMS on their account’s local day, across the clock changes (Auckland, Los Angeles)', async () => {
      const at = (iso: string) => Date.parse(iso)
      // Auckland leaves daylight time at 03:00 on 5 April 2026 (UTC+13 → +12): 11:00 UTC on
      // 4 April is midnight there, and 11:00 UTC on 5 April is 23:00, still the 5th.
      const auckland: Array<[string, string]> = [
        ['2026-04-04T10:59:00Z', '2026-04-04'],
        ['2026-04-04T11:00:00Z', '2026-04-05'],
        ['2026-04-05T11:30:00Z', '2026-04-05'],
        ['2026-04-05T12:00:00Z', '2026-04-06'],
      ]
      // Los Angeles enters daylight time on 8 March 2026 (UTC−8 → −7).
      const angeles: Array<[string, string]> = [
        ['2026-03-08T07:59:00Z', '2026-03-07'],
        ['2026-03-08T08:00:00Z', '2026-03-08'],
        ['2026-03-09T06:59:00Z', '2026-03-08'],
        ['2026-03-09T07:00:00Z', '2026-03-09'],
      ]
      const cases = [
        ...auckland.map(([iso, day]) => ({ zone: 'Pacific/Auckland', account: acme, iso, day })),
        ...angeles.map(([iso, day]) => ({
          zone: 'America/Los_Angeles',
          account: globex,
          iso,
          day,
        })),
      ]
      for (const c of cases) {
        const [id] = await enqueue([sms(c.account, { timeZone: c.zone })], at(c.iso))
        const row = await t.db('outbound_sms').where({ id }).first()
        assert.equal(Number(row.local_day), dayOfDate(c.day), `${c.zone} ${c.iso}`)
      }
      await assertExact('zoned')
      const chart = await dailyCountsBetween(
        t.db,
        acme,
        dayOfDate('2026-04-04'),
        dayOfDate('2026-04-06'),
        'Pacific/Auckland',
      )
      assert.deepEqual(
        chart.map((d) => [d.day, d.total, new Date(d.start).toISOString()]),
        [
          ['2026-04-04', 1, '2026-04-03T11:00:00.000Z'],
          ['2026-04-05', 2, '2026-04-04T11:00:00.000Z'],
          ['2026-04-06', 1, '2026-04-05T12:00:00.000Z'],
        ],
      )
      const la = await dailyCountsBetween(
        t.db,
        globex,
        dayOfDate('2026-03-07'),
        dayOfDate('2026-03-09'),
        'America/Los_Angeles',
      )
      assert.deepEqual(
        la.map((d) => [d.day, d.total]),
        [
          ['2026-03-07', 1],
          ['2026-03-08', 2],
          ['2026-03-09', 1],
        ],
      )
      // The day after the change is 23 hours long: its start is taken from the zone.
      assert.equal(la[2].start - la[1].start, 23 * 3_600_000)
      assert.equal(timeZone('America/Los_Angeles').dayOf(la[1].start), dayOfDate('2026-03-08'))
    })

    it('counts a row stored without a day (an older MX, a script) on its UTC day', async () => {
      const [id] = await t.db('outbound_sms').insert({
        account_id: acme,
        sender_email: 'carol@acme.example',
        recipient: '+33612345678',
        body: 'inserted by hand',
        encoding: 'gsm7',
        segments: 2,
        status: 'queued',
        attempts: 0,
        next_attempt_at: NOW,
        dedupe_key: 'by-hand',
        created_at: Date.UTC(2026, 10, 26, 23, 30),
        updated_at: NOW,
      })
      const row = await t
        .db('outbound_sms')
        .where({ id: Number(id) })
        .first()
      assert.equal(Number(row.local_day), dayOfDate('2026-11-26'))
      await t
        .db('outbound_sms')
        .where({ id: Number(id) })
        .update({ status: 'failed' })
      await assertExact('by hand')
      assert.deepEqual(await countsKept(t.db), [
        `${acme} ${dayOfDate('2026-11-26')} failed carol@acme.example: 1 sms 2 seg`,
      ])
    })
  })
}

describe('lib/db/outbound/daily-rollup: folds at once on MariaDB', function () {
  this.timeout(120_000)

  it('never counts a delta twice, nor misses one, with four folds and the MX at work', async () => {
    const t = await createTestDatabase('mysql')
    try {
      const acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      let i = 0
      const batch = (count: number): NewSms[][] =>
        [...Array(count)].map(() => {
          const k = ++i
          return [
            {
              accountId: acme,
              senderId: null,
              senderEmail: `user${k % 7}@acme.example`,
              recipient: `+336${String(k).padStart(8, '0')}`,
              body: `bulk ${k}`,
              encoding: 'gsm7',
              segments: 1 + (k % 4),
              sourceMessageId: null,
              dedupeKey: `fold-${k}`,
              mxTransaction: `txn-${k}`,
              timeZone: 'Europe/Paris',
            },
          ]
        })
      for (let k = 0; k < 20; k++) await insertEmails(t.db, batch(100), NOW - (k % 5) * DAY)
      await t.db('outbound_sms').where('id', '<=', 1500).update({ status: 'sent' })
      await t.db('outbound_sms').where('id', '<=', 1000).update({ status: 'delivered' })
      const waiting = await countUnfoldedDeltas(t.db)
      assert.ok(waiting >= 2000 + 1500 * 2 + 1000 * 2, `only ${waiting} deltas`)

      let mxDone = false
      const mx = (async () => {
        for (let k = 0; k < 30; k++) {
          await insertEmails(t.db, batch(20), NOW)
          await t
            .db('outbound_sms')
            .where('id', '>', 2000 + k * 10)
            .where('id', '<=', 2000 + (k + 1) * 10)
            .update({ status: 'sent' })
        }
        mxDone = true
      })()
      let folded = 0
      const fold = async () => {
        for (;;) {
          const n = await foldDailyDeltas(t.db, 250)
          folded += n
          if (n === 0 && mxDone) return
          if (n === 0) await new Promise((resolve) => setTimeout(resolve, 5))
        }
      }
      await Promise.all([mx, fold(), fold(), fold(), fold()])
      while ((await foldDailyDeltas(t.db, 250)) > 0);
      assert.equal(await countUnfoldedDeltas(t.db), 0)
      assert.ok(folded > waiting, `${folded} folded of ${waiting}+`)
      assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
      assert.deepEqual(await totalsRows(t.db), await totalsFromSms(t.db))
    } finally {
      await t.drop()
    }
  })
})

/** The migrations up to and including `last`, as the project's own source lists them. */
function migrationsUpTo(last: string): Knex.MigrationSource<string> {
  const dir = path.resolve(__dirname, '../../../../migrations')
  const names = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.ts$/, ''))
    .filter((name) => name <= last)
    .sort()
  return {
    getMigrations: async () => names,
    getMigrationName: (name) => name,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    getMigration: async (name) => require(path.join(dir, `${name}.ts`)) as Knex.Migration,
  }
}

for (const kind of databaseKinds()) {
  describe(`the fill of the daily counts from the SMS already stored (${kind})`, function () {
    this.timeout(120_000)

    it('counts every SMS once, with SMS stored and changing status between the triggers and the fill', async () => {
      const t = await createTestDatabase(kind, { migrate: false })
      try {
        const upTo = (last: string) =>
          t.db.migrate.latest({
            migrationSource: migrationsUpTo(last),
            tableName: 'knex_migrations',
          })
        await upTo('20261206120200_create_sms_daily_rollup')
        const acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
        const globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
        // A log of the previous version: no day on the rows, ids with holes, every status.
        const statuses = ['queued', 'sending', 'sent', 'delivered', 'failed', 'unknown', 'partial']
        const rows = [...Array(25_000)].map((_, i) => ({
          id: i < 12_000 ? i + 1 : i + 1 + 40_000,
          account_id: i % 5 === 0 ? globex : acme,
          sender_email: `user${i % 4}@acme.example`,
          recipient: `+336${String(i).padStart(8, '0')}`,
          body: `old ${i}`,
          encoding: 'gsm7',
          segments: 1 + (i % 3),
          status: statuses[i % statuses.length],
          attempts: 1,
          next_attempt_at: NOW,
          dedupe_key: `old-${i}`,
          created_at: NOW - (i % 40) * 3 * 3_600_000,
          updated_at: NOW,
        }))
        for (let i = 0; i < rows.length; i += 500) {
          await t.db('outbound_sms').insert(rows.slice(i, i + 500))
        }
        await upTo('20261206120300_create_sms_daily_triggers')
        // Meanwhile: an old SMS changes status (it does not count yet: no delta), new SMS
        // are stored and change status (they count from their insert).
        await t.db('outbound_sms').where({ id: 3 }).update({ status: 'delivered' })
        assert.equal(await deltaCount(t.db), 0)
        const fresh = await insertEmails(
          t.db,
          [...Array(30)].map((_, i) => [
            {
              accountId: acme,
              senderId: null,
              senderEmail: 'user1@acme.example',
              recipient: `+337${String(i).padStart(8, '0')}`,
              body: `new ${i}`,
              encoding: 'gsm7' as const,
              segments: 1,
              sourceMessageId: null,
              dedupeKey: `new-${i}`,
              mxTransaction: `new-${i}`,
              timeZone: 'Pacific/Auckland',
            },
          ]),
          NOW,
        )
        await t
          .db('outbound_sms')
          .whereIn(
            'id',
            fresh.slice(0, 10).map((r) => r.ids[0]),
          )
          .update({ status: 'sent' })
        assert.equal(await deltaCount(t.db), 30 + 10 * 2)

        await migrateLatest(t.db)
        assert.equal(
          await t
            .db('outbound_sms')
            .whereNull('local_day')
            .count({ n: '*' })
            .first()
            .then((r) => Number(r?.n)),
          0,
        )
        await assertSame(t, 'after the fill')
        // The old rows count now: their next change moves their count.
        await t.db('outbound_sms').whereIn('id', [3, 4, 40_013]).update({ status: 'expired' })
        await assertSame(t, 'an old SMS changed after the fill')
        // Run again (an interrupted migration is run again), nothing is counted twice.
        await fillMigration.up(t.db)
        await assertSame(t, 'filled twice')
        while ((await foldDailyDeltas(t.db, 1000)) > 0);
        assert.deepEqual(await rollupRows(t.db), await countsFromSms(t.db))
        assert.deepEqual(await totalsRows(t.db), await totalsFromSms(t.db))
        // The old rows are on their UTC day.
        const old = await t.db('outbound_sms').where({ id: 12_000 }).first()
        assert.equal(Number(old.local_day), Math.floor(Number(old.created_at) / DAY))
      } finally {
        await t.drop()
      }
    })
  })
}

async function assertSame(t: TestDatabase, what: string): Promise<void> {
  const kept = await countsKept(t.db)
  assert.deepEqual(kept, await countsFromSms(t.db), what)
  assert.deepEqual(await totalsKept(t.db), await totalsFromSms(t.db), what)
  const total = kept.reduce((n, l) => n + Number(/: (-?\d+) sms/.exec(l)?.[1]), 0)
  const rows = Number((await t.db('outbound_sms').count({ n: '*' }).first())?.n)
  assert.equal(total, rows, what)
}
