import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { createAccount } from '../../../lib/db/accounts'
import { isMysql, type Db } from '../../../lib/db/connection'
import {
  INBOX_OUTCOMES,
  listInbox,
  type InboxCursor,
  type InboxFilter,
} from '../../../lib/db/inbound-log'
import { PURGED_ADDRESSES, PURGED_TEXT } from '../../../lib/db/purged'
import { matchesNumberSearch } from '../../../lib/phone-search'
import {
  KEPT_NO_ACCOUNT,
  KEPT_NO_DESTINATION,
  RELAY_REFUSED,
} from '../../../lib/inbound/inbox-outcome'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const NOW = Date.UTC(2026, 11, 6, 12, 0, 0)
const HOUR = 3_600_000
const STATES = [
  'forwarded',
  'replied',
  'received',
  'mailing',
  'failed',
  'kept',
  'opt_out',
  'opt_in',
]
const NUMBERS = ['+33611111111', '+33622222222', '+33712345678', '+447700900123', 'INFO']

interface Row {
  id: number
  account_id: number
  from_number: string
  status: string
  missing_parts: number
  received_at: number
}

let serial = 0

async function insertInbound(db: Db, accountId: number, fields: Partial<Row> = {}): Promise<Row> {
  const n = ++serial
  const row = {
    account_id: accountId,
    from_number: '+33611111111',
    status: 'forwarded',
    missing_parts: 0,
    received_at: NOW,
    ...fields,
  }
  const [id] = await db('inbound_sms').insert({
    ...row,
    to_number: '+33700000001',
    body: `réponse ${n}`,
    encoding: 'gsm7',
    parts: 1,
    source: 'smpp',
    dedupe_key: `inbox-test-${n}`,
    last_error: row.status === 'failed' ? `${RELAY_REFUSED}550 5.1.1 unknown user` : null,
    mailed_to: row.status === 'forwarded' ? 'office@acme.example, boss@acme.example' : null,
  })
  return { id: Number(id), ...row }
}

function isAfter(row: Row, cursor: InboxCursor): boolean {
  return (
    row.received_at < cursor.receivedAt ||
    (row.received_at === cursor.receivedAt && row.id < cursor.id)
  )
}

/** What the page must show for a filter, worked out here from the rows themselves. */
function expected(rows: Row[], accountId: number, filter: InboxFilter): number[] {
  const states: Record<string, string[]> = { pending: ['received', 'mailing'] }
  return rows
    .filter((r) => r.account_id === accountId)
    .filter((r) => !filter.number || matchesNumberSearch(r.from_number, filter.number))
    .filter((r) => {
      if (filter.outcome === undefined) return true
      if (filter.outcome === 'incomplete') return r.missing_parts > 0
      return (states[filter.outcome] ?? [filter.outcome]).includes(r.status)
    })
    .filter((r) => filter.from === undefined || r.received_at >= filter.from)
    .filter((r) => filter.to === undefined || r.received_at < filter.to)
    .filter((r) => !filter.before || isAfter(r, filter.before))
    .sort((a, b) => b.received_at - a.received_at || b.id - a.id)
    .map((r) => r.id)
}

/** Every page of a filter, following `next`; fails on a page that does not move on. */
async function walk(
  db: Db,
  accountId: number,
  filter: InboxFilter,
  limit: number,
  options: { idSetLimit?: number; scanLimit?: number } = {},
): Promise<number[]> {
  const ids: number[] = []
  let before: InboxCursor | undefined = filter.before
  for (let pages = 0; pages < 300; pages++) {
    const page = await listInbox(db, accountId, { ...filter, before }, limit, options)
    assert.ok(page.rows.length <= limit)
    ids.push(...page.rows.map((r) => r.id))
    if (page.next === null) return ids
    if (page.searchedTo === null) {
      assert.equal(page.rows.length, limit, 'a page that is not the last is full')
      const last = page.rows[page.rows.length - 1]
      assert.deepEqual(page.next, { receivedAt: last.receivedAt, id: last.id })
    } else {
      assert.equal(page.searchedTo, page.next.receivedAt)
    }
    before = page.next
  }
  throw new Error('no last page after 300 pages')
}

const DAY = 24 * HOUR
const FILTERS: Array<[string, InboxFilter]> = [
  ['no filter', {}],
  ['a day', { from: NOW - 2 * DAY, to: NOW - DAY }],
  ['a whole number', { number: { kind: 'exact', number: '+33622222222' } }],
  ['a number’s beginning', { number: { kind: 'prefix', prefix: '+336' } }],
  ['a beginning ending in 9', { number: { kind: 'prefix', prefix: '+4477009' } }],
  ['digits anywhere', { number: { kind: 'digits', digits: '2345' } }],
  ['digits found nowhere', { number: { kind: 'digits', digits: '999' } }],
  ...INBOX_OUTCOMES.map((o): [string, InboxFilter] => [`outcome ${o}`, { outcome: o }]),
  [
    'a number and an outcome',
    { number: { kind: 'exact', number: '+33611111111' }, outcome: 'pending' },
  ],
  [
    'a number and missing parts',
    { number: { kind: 'exact', number: '+33611111111' }, outcome: 'incomplete' },
  ],
  ['a beginning and an outcome', { number: { kind: 'prefix', prefix: '+33' }, outcome: 'failed' }],
  ['digits and an outcome', { number: { kind: 'digits', digits: '11' }, outcome: 'forwarded' }],
  ['digits and dates', { number: { kind: 'digits', digits: '7' }, from: NOW - 3 * DAY }],
  ['an outcome and dates', { outcome: 'pending', from: NOW - 3 * DAY, to: NOW - DAY }],
  ['missing parts and dates', { outcome: 'incomplete', to: NOW - 2 * DAY }],
]

for (const kind of databaseKinds()) {
  describe(`lib/db/inbound-log (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let globex: number
    const rows: Row[] = []

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
      // 98 SMS of acme over four days, every state and number in turn, globex's in between.
      // Carriers give their own times: every fifth SMS was received hours before the ones
      // stored before it, and some pairs in the same millisecond, so that the page order
      // (received_at, id) is not the order of ids.
      for (let i = 0; i < 98; i++) {
        const late = i % 5 === 4 ? 7 * HOUR : 0
        const received = NOW - (98 - i) * HOUR - late + (i % 6 === 1 ? HOUR : 0)
        rows.push(
          await insertInbound(t.db, acme, {
            status: STATES[i % STATES.length],
            from_number: NUMBERS[i % NUMBERS.length],
            missing_parts: i % 11 === 3 ? 1 + (i % 2) : 0,
            received_at: received,
          }),
        )
        if (i % 4 === 0) {
          rows.push(
            await insertInbound(t.db, globex, {
              status: STATES[(i + 1) % STATES.length],
              from_number: NUMBERS[i % NUMBERS.length],
              missing_parts: i % 8 === 0 ? 1 : 0,
              received_at: received,
            }),
          )
        }
      }
    })

    after(async () => t?.drop())

    it('has pages ordered by received time, not by id (else the tests below prove less)', () => {
      const ids = expected(rows, acme, {})
      assert.notDeepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
      )
      const times = rows.filter((r) => r.account_id === acme).map((r) => r.received_at)
      assert.ok(new Set(times).size < times.length, 'two SMS in the same millisecond')
    })

    it('lists the account’s SMS newest first, with what became of each', async () => {
      const page = await listInbox(t.db, acme, {}, 10)
      assert.deepEqual(
        page.rows.map((r) => r.id),
        expected(rows, acme, {}).slice(0, 10),
      )
      const last = page.rows[9]
      assert.deepEqual(page.next, { receivedAt: last.receivedAt, id: last.id })
      assert.equal(page.searchedTo, null)
      const all = await walk(t.db, acme, {}, 100)
      const entries = (await listInbox(t.db, acme, {}, 100)).rows
      assert.equal(entries.length, all.length)
      const byStatus = new Map(entries.map((e) => [e.status, e]))
      assert.deepEqual(byStatus.get('forwarded')?.outcome, {
        kind: 'forwarded',
        to: ['office@acme.example', 'boss@acme.example'],
      })
      assert.deepEqual(byStatus.get('replied')?.outcome, { kind: 'replied', to: null })
      assert.deepEqual(byStatus.get('mailing')?.outcome, { kind: 'pending', retryReason: null })
      assert.deepEqual(byStatus.get('failed')?.outcome, {
        kind: 'failed',
        reason: { code: 'relay_refused', detail: '550 5.1.1 unknown user' },
      })
      assert.deepEqual(byStatus.get('opt_out')?.outcome, { kind: 'opt_out' })
      assert.ok(entries.some((e) => e.missingParts > 0))
      assert.match(entries[0].body, /^réponse \d+$/)
    })

    it('says in its own words why an SMS was kept or is waiting', async () => {
      const other = (await createAccount(t.db, { ref: 'reasons', name: 'Reasons' })).id
      const kept = await insertInbound(t.db, other, { status: 'kept' })
      const gone = await insertInbound(t.db, other, { status: 'kept' })
      const retry = await insertInbound(t.db, other, { status: 'received' })
      await t.db('inbound_sms').where('id', kept.id).update({ last_error: KEPT_NO_DESTINATION })
      await t.db('inbound_sms').where('id', gone.id).update({ last_error: KEPT_NO_ACCOUNT })
      await t
        .db('inbound_sms')
        .where('id', retry.id)
        .update({ last_error: `${RELAY_REFUSED}connect ECONNREFUSED`, purged: PURGED_TEXT })
      const shown = new Map((await listInbox(t.db, other, {}, 10)).rows.map((r) => [r.id, r]))
      assert.deepEqual(shown.get(kept.id)?.outcome, {
        kind: 'kept',
        reason: { code: 'no_destination', detail: null },
      })
      assert.deepEqual(shown.get(gone.id)?.outcome, {
        kind: 'kept',
        reason: { code: 'no_account', detail: null },
      })
      assert.deepEqual(shown.get(retry.id)?.outcome, {
        kind: 'pending',
        retryReason: { code: 'relay_refused', detail: 'connect ECONNREFUSED' },
      })
      assert.equal(shown.get(retry.id)?.textPurged, true)
      assert.equal(shown.get(retry.id)?.addressesPurged, false)
      await t.db('inbound_sms').where('id', kept.id).update({ purged: PURGED_ADDRESSES })
      const purged = (await listInbox(t.db, other, {}, 10)).rows.find((r) => r.id === kept.id)
      assert.deepEqual([purged?.textPurged, purged?.addressesPurged], [false, true])
    })

    for (const [name, filter] of FILTERS) {
      it(`pages through ${name} without skipping or repeating an SMS`, async () => {
        const want = expected(rows, acme, filter)
        assert.deepEqual(await walk(t.db, acme, filter, 7), want)
        // The same SMS when candidate ids are too many to read, and walks look a few rows
        // at a time (as they do in logs of millions).
        assert.deepEqual(await walk(t.db, acme, filter, 7, { idSetLimit: 3, scanLimit: 9 }), want)
      })
    }

    it('has filters that select something (else the paging tests prove little)', () => {
      for (const [name, filter] of FILTERS) {
        if (name === 'digits found nowhere') continue
        const n = expected(rows, acme, filter).length
        assert.ok((n >= 2 && n < expected(rows, acme, {}).length) || name === 'no filter', name)
      }
    })

    it('never shows another account’s SMS, whatever the filter', async () => {
      const theirs = new Set(rows.filter((r) => r.account_id === globex).map((r) => r.id))
      for (const [name, filter] of FILTERS) {
        const ids = await walk(t.db, acme, filter, 50, { idSetLimit: 3, scanLimit: 9 })
        assert.ok(!ids.some((id) => theirs.has(id)), name)
        assert.deepEqual(await walk(t.db, globex, filter, 5), expected(rows, globex, filter), name)
      }
    })

    it('stops a search for digits at its limit, says how far it went, and goes on from there', async () => {
      const order = expected(rows, acme, {})
      const cursorOf = (id: number) => {
        const row = rows.find((r) => r.id === id) as Row
        return { receivedAt: row.received_at, id }
      }
      const nowhere: InboxFilter = { number: { kind: 'digits', digits: '999' } }
      const first = await listInbox(t.db, acme, nowhere, 5, { scanLimit: 10 })
      assert.deepEqual(first.rows, [])
      assert.deepEqual(first.next, cursorOf(order[9]))
      assert.equal(first.searchedTo, cursorOf(order[9]).receivedAt)
      // Matches within the window fill the page as usual.
      const found = await listInbox(t.db, acme, { number: { kind: 'digits', digits: '1111' } }, 1, {
        scanLimit: 10,
      })
      assert.equal(found.rows.length, 1)
      assert.equal(found.searchedTo, null)
      // The last ten SMS: the window is full, and nothing lies beyond it.
      const tail = { ...nowhere, before: cursorOf(order[order.length - 11]) }
      assert.deepEqual(await listInbox(t.db, acme, tail, 5, { scanLimit: 10 }), {
        rows: [],
        next: null,
        searchedTo: null,
      })
    })

    it('starts a page after `before`, whatever SMS that is', async () => {
      const theirs = rows.find((r) => r.account_id === globex) as Row
      const before = { receivedAt: theirs.received_at, id: theirs.id }
      const page = await listInbox(t.db, acme, { before }, 5)
      assert.deepEqual(
        page.rows.map((r) => r.id),
        expected(rows, acme, { before }).slice(0, 5),
      )
      const page2 = await listInbox(t.db, acme, { before: { receivedAt: 0, id: 1 } }, 5)
      assert.deepEqual(page2, { rows: [], next: null, searchedTo: null })
    })

    it('refuses filters that are not what it expects', async () => {
      const bad: InboxFilter[] = [
        { number: { kind: 'exact', number: '0611111111' } },
        { number: { kind: 'prefix', prefix: '336' } },
        { number: { kind: 'prefix', prefix: '+33%' } },
        { number: { kind: 'digits', digits: "1' OR 1=1" } },
        { number: { kind: 'digits', digits: '%' } },
        { from: 1.5 },
        { to: Number.NaN },
        { before: { receivedAt: NOW, id: 1.5 } },
      ]
      for (const filter of bad) {
        await assert.rejects(listInbox(t.db, acme, filter, 10), RangeError, JSON.stringify(filter))
      }
      await assert.rejects(listInbox(t.db, acme, {}, 0), RangeError)
    })

    it('reads every page through one of its indexes, never a walk of the whole table', async () => {
      const statements: Array<{ sql: string; bindings: readonly Knex.RawBinding[] }> = []
      const record = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) => {
        statements.push({ sql: q.sql, bindings: q.bindings ?? [] })
      }
      t.db.on('query', record)
      try {
        const middle = rows.filter((r) => r.account_id === acme)[40]
        const before = { receivedAt: middle.received_at, id: middle.id }
        for (const [, filter] of FILTERS) {
          await listInbox(t.db, acme, { ...filter, before }, 7)
          await listInbox(t.db, acme, { ...filter, before }, 7, { idSetLimit: 3, scanLimit: 9 })
        }
      } finally {
        t.db.removeListener('query', record)
      }
      assert.ok(statements.length > FILTERS.length * 2)
      for (const { sql, bindings } of statements) {
        if (isMysql(t.db)) {
          const [plan] = (await t.db.raw(`EXPLAIN ${sql}`, bindings)) as [
            Array<{ table: string | null; type: string; key: string | null; Extra: string }>,
          ]
          if (plan.length === 1 && /^Impossible WHERE/.test(plan[0].Extra)) continue
          const own = plan.filter((p) => p.table === 'inbound_sms' || p.table === 's')
          assert.ok(own.length > 0, `${sql}: ${JSON.stringify(plan)}`)
          for (const p of own) {
            // A range on one of the inbox indexes, or rows joined by primary key to ids read
            // that way; never a walk down the account from its newest row.
            if (p.type === 'eq_ref') assert.equal(p.key, 'PRIMARY', sql)
            else assert.match(p.type, /^range(\|filter)?$/, `${sql}: ${JSON.stringify(p)}`)
            assert.match(
              String(p.key),
              /^inbound_sms_account_\w+_received$|^inbound_sms_account_received$|^PRIMARY$/,
              sql,
            )
          }
        } else {
          const plan = (await t.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings)) as Array<{
            detail: string
          }>
          const own = plan.filter((p) => /(inbound_sms|\bs\b) USING/.test(p.detail))
          assert.ok(own.length > 0, `${sql}: ${JSON.stringify(plan)}`)
          for (const p of own) {
            assert.match(
              p.detail,
              /^SEARCH (inbound_sms|s) USING (COVERING )?INDEX inbound_sms_account_\w+ \(account_id=\? AND|^SEARCH (inbound_sms|s) USING INTEGER PRIMARY KEY/,
              `${sql}: ${JSON.stringify(plan)}`,
            )
          }
        }
      }
    })
  })
}
