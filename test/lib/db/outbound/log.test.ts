import assert from 'node:assert/strict'
import { createAccount } from '../../../../lib/db/accounts'
import type { Knex } from 'knex'
import { isMysql, type Db } from '../../../../lib/db/connection'
import {
  DAY_MS,
  dailyCounts,
  listAccountSms,
  logStatusOf,
  prefixUpperBound,
  type SmsLogFilter,
} from '../../../../lib/db/outbound'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../support/databases'

const NOW = Date.UTC(2026, 10, 27, 9, 30, 0)
const STATES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'undeliverable',
  'expired',
  'partial',
  'unknown',
]
const NUMBERS = ['+33611111111', '+33622222222', '+33712345678', '+447700900123', '+33611111199']
const SENDERS = [
  'alice@acme.example',
  'bob@acme.example',
  'alice@acme.example',
  'carol@acme.example',
]

interface Row {
  id: number
  account_id: number
  sender_email: string
  recipient: string
  status: string
  created_at: number
  last_error: string | null
}

let serial = 0

async function insertSms(
  db: Db,
  accountId: number,
  fields: Partial<Omit<Row, 'id' | 'account_id'>> = {},
): Promise<Row> {
  const n = ++serial
  const row = {
    account_id: accountId,
    sender_email: 'alice@acme.example',
    recipient: '+33611111111',
    status: 'delivered',
    created_at: NOW,
    last_error: null,
    ...fields,
  }
  const [inserted] = await db('outbound_sms').insert({
    ...row,
    sender_id: null,
    body: `message ${n}`,
    encoding: 'gsm7',
    segments: 1 + (n % 3),
    attempts: 1,
    next_attempt_at: row.created_at,
    dedupe_key: `log-test-${n}`,
    updated_at: row.created_at,
  })
  // Both drivers answer a single-row insert with [the new id].
  return { id: Number(inserted), ...row }
}

/** What the log must show for a filter, worked out here from the rows themselves. */
function expected(rows: Row[], accountId: number, filter: SmsLogFilter): number[] {
  return rows
    .filter((r) => r.account_id === accountId)
    .filter((r) => filter.number === undefined || r.recipient === filter.number)
    .filter((r) => filter.numberPrefix === undefined || r.recipient.startsWith(filter.numberPrefix))
    .filter((r) => filter.sender === undefined || r.sender_email === filter.sender.toLowerCase())
    .filter((r) => filter.status === undefined || logStatusOf(r.status) === filter.status)
    .filter((r) => filter.before === undefined || r.id < filter.before)
    .filter((r) => filter.from === undefined || r.created_at >= filter.from)
    .filter((r) => filter.to === undefined || r.created_at < filter.to)
    .filter(
      (r) => filter.numberContains === undefined || r.recipient.includes(filter.numberContains),
    )
    .filter(
      (r) =>
        filter.senderContains === undefined ||
        r.sender_email.includes(filter.senderContains.trim().toLowerCase()),
    )
    .map((r) => r.id)
    .sort((a, b) => b - a)
}

/** Every page of a filter, following nextBefore; fails on a page that does not shrink `before`. */
async function walk(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  limit: number,
  options: { idSetLimit?: number; searchBudget?: number } = {},
): Promise<number[]> {
  const ids: number[] = []
  let before: number | undefined
  for (let pages = 0; pages < 200; pages++) {
    const page = await listAccountSms(db, accountId, { ...filter, before }, limit, options)
    assert.ok(page.rows.length <= limit)
    ids.push(...page.rows.map((r) => r.id))
    if (page.nextBefore === null) return ids
    if (page.searchedBackTo === null) {
      assert.equal(page.rows.length, limit, 'a page that is not the last is full')
      assert.equal(page.nextBefore, page.rows[page.rows.length - 1].id)
    } else {
      // A partial search that ran out of budget: it goes on below what it read.
      assert.ok(page.rows.every((r) => r.id >= (page.nextBefore as number)))
    }
    assert.ok(before === undefined || page.nextBefore < before)
    before = page.nextBefore
  }
  throw new Error('no last page after 200 pages')
}

/** Day 2 of the rows, 09:30 to 09:30 the next day, as a date range. */
const DAY_TWO = { from: NOW - 3 * DAY_MS, to: NOW - 2 * DAY_MS }

const FILTERS: Array<[string, SmsLogFilter]> = [
  ['no filter', {}],
  ['a whole number', { number: '+33622222222' }],
  ['a number prefix', { numberPrefix: '+336' }],
  ['a prefix that is a whole number and more', { numberPrefix: '+3361111111' }],
  ['a prefix ending in 9', { numberPrefix: '+4477009' }],
  ['a sender, in capitals', { sender: 'ALICE@acme.example' }],
  ['queued (queued and sending)', { status: 'queued' }],
  ['sent', { status: 'sent' }],
  ['delivered', { status: 'delivered' }],
  ['failed (failed, undeliverable, expired, partial)', { status: 'failed' }],
  ['unknown (no receipt)', { status: 'unknown' }],
  ['a sender and a status', { sender: 'bob@acme.example', status: 'failed' }],
  ['a sender and delivered', { sender: 'alice@acme.example', status: 'delivered' }],
  ['a prefix and a status', { numberPrefix: '+33', status: 'queued' }],
  ['a prefix and a sender', { numberPrefix: '+337', sender: 'carol@acme.example' }],
  ['a number and a status', { number: '+33611111111', status: 'delivered' }],
  ['a date range', DAY_TWO],
  ['from a time on', { from: NOW - DAY_MS }],
  ['up to a time', { to: NOW - 3 * DAY_MS }],
  ['a date range and a status', { ...DAY_TWO, status: 'failed' }],
  ['a date range and a sender', { ...DAY_TWO, sender: 'bob@acme.example' }],
  ['a date range and a number prefix', { ...DAY_TWO, numberPrefix: '+336' }],
  ['digits of a number', { numberContains: '1111' }],
  ['the last digits of a number', { numberContains: '199' }],
  ['part of an address, in capitals', { senderContains: 'ALICE' }],
  ['the domain of an address', { senderContains: '@acme.example' }],
  ['part of an address and a status', { senderContains: 'bo', status: 'delivered' }],
  [
    'digits, part of an address and dates',
    { ...DAY_TWO, numberContains: '22', senderContains: 'c' },
  ],
  ['nothing matches', { sender: 'nobody@acme.example' }],
]

describe('lib/db/outbound/log prefixUpperBound', () => {
  it('is the smallest string above every number with the prefix', () => {
    assert.equal(prefixUpperBound('+336'), '+337')
    assert.equal(prefixUpperBound('+3369'), '+337')
    assert.equal(prefixUpperBound('+33699'), '+337')
    assert.equal(prefixUpperBound('+1'), '+2')
  })

  it('has none when every digit is a 9', () => {
    assert.equal(prefixUpperBound('+9'), null)
    assert.equal(prefixUpperBound('+999'), null)
  })
})

describe('lib/db/outbound/log logStatusOf', () => {
  it('groups the worker states into the five the log shows', () => {
    assert.deepEqual(STATES.map(logStatusOf), [
      'queued',
      'queued',
      'sent',
      'delivered',
      'failed',
      'failed',
      'failed',
      'failed',
      'unknown',
    ])
  })
})

for (const kind of databaseKinds()) {
  describe(`lib/db/outbound/log (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let globex: number
    const rows: Row[] = []

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
      // 84 SMS of acme over three and a half days, every state, number and sender in turn, with
      // globex's in between using the same numbers and senders.
      for (let i = 0; i < 84; i++) {
        const status = STATES[i % STATES.length]
        const failed = logStatusOf(status) === 'failed'
        rows.push(
          await insertSms(t.db, acme, {
            status,
            recipient: NUMBERS[i % NUMBERS.length],
            sender_email: SENDERS[i % SENDERS.length],
            created_at: NOW - (84 - i) * 3_600_000,
            last_error: failed ? `receipt: ${status} (error ${i})` : null,
          }),
        )
        if (i % 4 === 0) {
          rows.push(
            await insertSms(t.db, globex, {
              status,
              recipient: NUMBERS[i % NUMBERS.length],
              sender_email: SENDERS[i % SENDERS.length],
              created_at: NOW - (84 - i) * 3_600_000,
            }),
          )
        }
      }
    })

    after(async () => t?.drop())

    it('lists the account’s SMS newest first, with their status and reason', async () => {
      const page = await listAccountSms(t.db, acme, {}, 10)
      assert.deepEqual(
        page.rows.map((r) => r.id),
        expected(rows, acme, {}).slice(0, 10),
      )
      assert.equal(page.nextBefore, page.rows[9].id)
      const newest = rows.filter((r) => r.account_id === acme).at(-1) as Row
      assert.equal(page.rows[0].id, newest.id)
      assert.equal(page.rows[0].createdAt, newest.created_at)
      assert.equal(page.rows[0].recipient, newest.recipient)
      assert.equal(page.rows[0].senderEmail, newest.sender_email)
      assert.match(page.rows[0].body, /^message \d+$/)
      const failed = page.rows.find((r) => r.detail === 'undeliverable')
      assert.equal(failed?.status, 'failed')
      assert.match(failed?.reason ?? '', /^receipt: undeliverable \(error \d+\)$/)
      const delivered = page.rows.find((r) => r.detail === 'delivered')
      assert.equal(delivered?.reason, null)
      const sending = page.rows.find((r) => r.detail === 'sending')
      assert.equal(sending?.status, 'queued')
      assert.ok(page.rows.every((r) => (r.detail === 'partial') === (r.delivery !== null)))
    })

    it('says which parts of a partly delivered SMS arrived, and gives no reason for unknown', async () => {
      const other = await createAccount(t.db, { ref: 'parts', name: 'Parts' })
      const partial = await insertSms(t.db, other.id, {
        status: 'partial',
        last_error: 'ESME_RINVCMDLEN: bad length',
      })
      await t.db('outbound_sms').where({ id: partial.id }).update({ parts: 4 })
      const unknown = await insertSms(t.db, other.id, {
        status: 'unknown',
        last_error: 'ESME_RTHROTTLED: an attempt that was retried',
      })
      const older = await insertSms(t.db, other.id, { status: 'partial', created_at: NOW - 1 })
      const part = (sms: number, no: number, state: string) => ({
        sms_id: sms,
        part_no: no,
        smsc_message_id: state === 'refused' ? '' : `${sms}-${no}`,
        state,
        created_at: NOW,
        final_at: NOW,
      })
      await t.db('outbound_sms_parts').insert([
        part(partial.id, 3, 'delivered'),
        part(partial.id, 1, 'delivered'),
        part(partial.id, 2, 'refused'),
        part(partial.id, 4, 'undeliverable'),
        part(older.id, 2, 'delivered'),
        part(older.id, 1, 'expired'),
        // An SMS that is not partial: its parts are not read.
        part(unknown.id, 1, 'delivered'),
      ])
      const page = await listAccountSms(t.db, other.id, {}, 10)
      const shown = new Map(page.rows.map((r) => [r.id, r]))
      assert.deepEqual(shown.get(partial.id)?.delivery, { delivered: [1, 3], of: 4 })
      assert.equal(shown.get(partial.id)?.status, 'failed')
      assert.equal(shown.get(partial.id)?.reason, 'ESME_RINVCMDLEN: bad length')
      // Without the worker's parts column (older rows), the planned segments.
      const olderSegments = Number(
        (await t.db('outbound_sms').where({ id: older.id }).first()).segments,
      )
      assert.deepEqual(shown.get(older.id)?.delivery, {
        delivered: [2],
        of: Math.max(2, olderSegments),
      })
      assert.equal(shown.get(unknown.id)?.status, 'unknown')
      assert.equal(shown.get(unknown.id)?.delivery, null)
      assert.equal(shown.get(unknown.id)?.reason, null)
      const filtered = await listAccountSms(t.db, other.id, { status: 'unknown' }, 10)
      assert.deepEqual(
        filtered.rows.map((r) => r.id),
        [unknown.id],
      )
    })

    for (const [name, filter] of FILTERS) {
      it(`pages through ${name} without skipping or repeating an SMS`, async () => {
        const want = expected(rows, acme, filter)
        assert.deepEqual(await walk(t.db, acme, filter, 7), want)
        // The same pages when the candidate ids are too many to read (large logs).
        assert.deepEqual(await walk(t.db, acme, filter, 7, { idSetLimit: 3 }), want)
        // And when a partial search may read only a few SMS per page.
        assert.deepEqual(await walk(t.db, acme, filter, 7, { searchBudget: 5 }), want)
      })
    }

    it('has filters that select something (else the paging tests prove little)', () => {
      for (const [name, filter] of FILTERS.slice(0, -1)) {
        assert.ok(expected(rows, acme, filter).length >= 2, name)
      }
    })

    it('never shows another account’s SMS, whatever the filter', async () => {
      const theirs = new Set(rows.filter((r) => r.account_id === globex).map((r) => r.id))
      for (const [name, filter] of FILTERS) {
        const ids = await walk(t.db, acme, filter, 50)
        assert.ok(!ids.some((id) => theirs.has(id)), name)
        assert.deepEqual(await walk(t.db, globex, filter, 5), expected(rows, globex, filter), name)
      }
    })

    it('starts a page below `before`, whatever row that id is', async () => {
      const globexRow = rows.find((r) => r.account_id === globex) as Row
      const page = await listAccountSms(t.db, acme, { before: globexRow.id }, 5)
      assert.deepEqual(
        page.rows.map((r) => r.id),
        expected(rows, acme, { before: globexRow.id }).slice(0, 5),
      )
      assert.deepEqual(await listAccountSms(t.db, acme, { before: 1 }, 5), {
        rows: [],
        nextBefore: null,
        searchedBackTo: null,
      })
    })

    it('refuses filters that are not what it expects', async () => {
      const bad: SmsLogFilter[] = [
        { number: '0611111111' },
        { number: "+33' OR 1=1" },
        { numberPrefix: '336' },
        { numberPrefix: '+33%' },
        { before: 1.5 },
        { before: Number.NaN },
        { numberContains: '+336' },
        { numberContains: '12a' },
        { senderContains: '  ' },
        { from: 1.5 },
        { to: Number.POSITIVE_INFINITY },
      ]
      for (const filter of bad) {
        await assert.rejects(listAccountSms(t.db, acme, filter, 10), RangeError)
      }
      await assert.rejects(listAccountSms(t.db, acme, {}, 0), RangeError)
    })

    it('finds an SMS whose time runs a little out of id order, at the edge of a range', async () => {
      const other = await createAccount(t.db, { ref: 'clocks', name: 'Clocks' })
      // Two MX nodes, one a minute behind: the later id has the earlier time.
      const first = await insertSms(t.db, other.id, { created_at: NOW })
      const second = await insertSms(t.db, other.id, { created_at: NOW - 60_000 })
      const third = await insertSms(t.db, other.id, { created_at: NOW + 60_000 })
      const ids = async (filter: SmsLogFilter) =>
        (await listAccountSms(t.db, other.id, filter, 10)).rows.map((r) => r.id)
      assert.deepEqual(await ids({ to: NOW }), [second.id])
      assert.deepEqual(await ids({ from: NOW }), [third.id, first.id])
      assert.deepEqual(await ids({ from: NOW - 60_000, to: NOW + 1 }), [second.id, first.id])
      assert.deepEqual(await ids({ from: NOW + 120_000 }), [])
      assert.deepEqual(await ids({ from: NOW, to: NOW }), [])
      // The wildcards of LIKE are plain characters in a searched part.
      assert.deepEqual(await ids({ senderContains: 'al_ce' }), [])
      assert.deepEqual(await ids({ senderContains: '%' }), [])
      assert.equal((await ids({ senderContains: 'alice' })).length, 3)
    })

    it('reads every page through one of the log indexes', async () => {
      const statements: Array<{ sql: string; bindings: readonly Knex.RawBinding[] }> = []
      const record = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) => {
        // The part rows of a partly delivered SMS are read by sms_id, for that page's SMS only.
        if (/outbound_sms(?!_parts)/.test(q.sql))
          statements.push({ sql: q.sql, bindings: q.bindings ?? [] })
      }
      t.db.on('query', record)
      try {
        const middle = expected(rows, acme, {})[40]
        for (const [, filter] of FILTERS) {
          await listAccountSms(t.db, acme, { ...filter, before: middle }, 7)
          await listAccountSms(t.db, acme, { ...filter, before: middle }, 7, { idSetLimit: 3 })
          await listAccountSms(t.db, acme, { ...filter, before: middle }, 7, { searchBudget: 5 })
        }
      } finally {
        t.db.removeListener('query', record)
      }
      assert.ok(statements.length > FILTERS.length)
      for (const { sql, bindings } of statements) {
        if (isMysql(t.db)) {
          const [plan] = (await t.db.raw(`EXPLAIN ${sql}`, bindings)) as [
            Array<{ table: string | null; type: string; key: string | null; Extra: string }>,
          ]
          // A lookup by primary key that finds nothing is settled while planning: no table.
          if (plan.length === 1 && /^Impossible WHERE/.test(plan[0].Extra)) continue
          const own = plan.filter((p) => p.table === 'outbound_sms')
          assert.ok(own.length > 0, `${sql}: ${JSON.stringify(plan)}`)
          for (const p of own) {
            // A range on a log index, or rows joined by primary key to ids read that way; never
            // a walk down the account from its newest row.
            if (p.type === 'eq_ref' || p.type === 'const') assert.equal(p.key, 'PRIMARY', sql)
            else assert.match(p.type, /^range(\|filter)?$/, `${sql}: ${JSON.stringify(p)}`)
            assert.match(String(p.key), /^outbound_sms_account_|^PRIMARY$/, sql)
          }
        } else {
          const plan = (await t.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings)) as Array<{
            detail: string
          }>
          const own = plan.filter((p) => /outbound_sms/.test(p.detail))
          assert.ok(own.length > 0, sql)
          for (const p of own) {
            assert.match(
              p.detail,
              /^SEARCH outbound_sms USING (COVERING )?INDEX outbound_sms_account_\w+ \(account_id=\? AND|^SEARCH outbound_sms USING INTEGER PRIMARY KEY/,
              sql,
            )
          }
        }
      }
    })
  })

  describe(`lib/db/outbound/log dailyCounts (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let globex: number
    const today = Math.floor(NOW / DAY_MS) * DAY_MS

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
      const at = (day: number, ms: number) => today - day * DAY_MS + ms
      // Today: 3 delivered, 1 failed, 1 expired, 1 sent, 1 queued; the last at 23:59:59.999.
      for (const status of ['delivered', 'delivered', 'failed', 'expired', 'sent', 'queued']) {
        await insertSms(t.db, acme, { status, created_at: at(0, 3_600_000) })
      }
      await insertSms(t.db, acme, { status: 'delivered', created_at: at(0, DAY_MS - 1) })
      // Two days ago at midnight sharp: 1 undeliverable, 1 delivered, 1 partly delivered (a
      // failure), and 2 without a receipt (neither).
      await insertSms(t.db, acme, { status: 'undeliverable', created_at: at(2, 0) })
      await insertSms(t.db, acme, { status: 'delivered', created_at: at(2, 0) })
      await insertSms(t.db, acme, { status: 'partial', created_at: at(2, 0) })
      await insertSms(t.db, acme, { status: 'unknown', created_at: at(2, 0) })
      await insertSms(t.db, acme, { status: 'unknown', created_at: at(2, 1) })
      // Just before the 7-day window, and tomorrow: outside.
      await insertSms(t.db, acme, { status: 'delivered', created_at: at(6, -1) })
      await insertSms(t.db, acme, { status: 'delivered', created_at: at(-1, 0) })
      // Another account on the same days.
      await insertSms(t.db, globex, { status: 'failed', created_at: at(0, 1000) })
      await insertSms(t.db, globex, { status: 'delivered', created_at: at(1, 1000) })
    })

    after(async () => t?.drop())

    it('counts SMS, delivered, failed and unknown per UTC day, with empty days as zeros', async () => {
      const days = await dailyCounts(t.db, acme, 7, NOW, 'UTC')
      assert.equal(days.length, 7)
      assert.deepEqual(
        days.map((d) => d.day),
        [
          '2026-11-21',
          '2026-11-22',
          '2026-11-23',
          '2026-11-24',
          '2026-11-25',
          '2026-11-26',
          '2026-11-27',
        ],
      )
      assert.equal(days[6].start, today)
      assert.deepEqual(
        days.map((d) => [d.total, d.delivered, d.failed, d.unknown]),
        [
          [0, 0, 0, 0],
          [0, 0, 0, 0],
          [0, 0, 0, 0],
          [0, 0, 0, 0],
          [5, 1, 2, 2],
          [0, 0, 0, 0],
          [7, 3, 2, 0],
        ],
      )
    })

    it('counts only the account’s own SMS', async () => {
      const days = await dailyCounts(t.db, globex, 7, NOW, 'UTC')
      assert.deepEqual(
        days.slice(-2).map((d) => [d.total, d.delivered, d.failed]),
        [
          [1, 1, 0],
          [1, 0, 1],
        ],
      )
    })

    it('is all zeros for an account without SMS', async () => {
      const other = (await createAccount(t.db, { ref: 'initech', name: 'Initech' })).id
      const days = await dailyCounts(t.db, other, 30, NOW, 'UTC')
      assert.equal(days.length, 30)
      assert.ok(days.every((d) => d.total === 0 && d.delivered + d.failed + d.unknown === 0))
    })
  })
}
