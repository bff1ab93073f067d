import assert from 'node:assert/strict'
import { testAccount } from '../../support/accounts'
import type { CounterSnapshot } from '../../../lib/db/usage-counters'
import {
  effectiveLimits,
  planSpend,
  spendCounterKeys,
  spendWindows,
  type SpendItem,
  type SpendLimits,
} from '../../../lib/limits/spend'

// 2026-02-28 23:59:30 UTC: the last minute of a day and of a month, in a year without 29 Feb.
const NOW = Date.UTC(2026, 1, 28, 23, 59, 30)
const LOOP = { maxRepeats: 3, windowMinutes: 10 }
const NO_LIMITS: SpendLimits = {
  smsPerMinute: 0,
  senderSmsPerMinute: 0,
  segmentsPerDay: 0,
  segmentsPerMonth: 0,
}

const account = (id: number, ref: string) => testAccount({ id, ref, name: ref })

const ACME = account(1, 'acme')

function item(over: Partial<SpendItem> = {}): SpendItem {
  return {
    account: ACME,
    limits: NO_LIMITS,
    sender: 'alice@example.com',
    e164: '+33612345678',
    text: 'Meeting at 3pm',
    segments: 1,
    dedupeKey: `k-${Math.random()}`,
    ...over,
  }
}

/** Counters as the database would hold them, by the kind of key. */
function snapshot(items: SpendItem[], used: Record<string, number>, stored: string[] = []) {
  const counters = new Map<string, number>()
  for (const key of spendCounterKeys(items, NOW, LOOP)) {
    const kind = key.startsWith('loop:')
      ? 'loop'
      : key.startsWith('sms:a:')
        ? 'accountMinute'
        : key.startsWith('sms:s:')
          ? 'senderMinute'
          : /:\d{4}-\d\d-\d\d$/.test(key)
            ? 'day'
            : 'month'
    if (used[kind] !== undefined) counters.set(key, used[kind])
  }
  return { counters, stored: new Set(stored) } satisfies CounterSnapshot
}

describe('spend limits', () => {
  it('uses fixed UTC windows whose ends are the next minute, day and month', () => {
    const w = spendWindows(NOW, 10)
    assert.equal(w.day, '2026-02-28')
    assert.equal(w.month, '2026-02')
    assert.equal(w.minuteEnd, Date.UTC(2026, 1, 28, 24, 0, 0))
    assert.equal(w.dayEnd, Date.UTC(2026, 2, 1))
    assert.equal(w.monthEnd, Date.UTC(2026, 2, 1))
    // Kept for the minute, never past it: the next minute is the next day and month here.
    const next = spendWindows(NOW + 60_000, 10)
    assert.equal(next.minute, w.minute + 1)
    assert.equal(next.day, '2026-03-01')
    assert.equal(next.month, '2026-03')
    // Nor for another length of the loop guard's window in the same minute.
    assert.equal(spendWindows(NOW + 60_000, 1).loopEnd, next.minuteEnd)
  })

  it('follows the defaults unless the account overrides them; 0 stays "no limit"', () => {
    const defaults = {
      accountSmsPerMinute: 300,
      senderSmsPerMinute: 60,
      segmentsPerDay: 1000,
      segmentsPerMonth: 0,
      allowedDestinations: [],
      loopMaxRepeats: 5,
      loopWindowMinutes: 10,
    }
    const own = { ...ACME, limits: { ...ACME.limits, segmentsPerDay: 0, smsPerMinute: 5 } }
    assert.deepEqual(effectiveLimits(own, defaults), {
      smsPerMinute: 5,
      senderSmsPerMinute: 60,
      segmentsPerDay: 0,
      segmentsPerMonth: 0,
    })
  })

  it('accepts and names every counter to raise when no limit is near', () => {
    const items = [item({ segments: 2 })]
    const plan = planSpend(items, snapshot(items, {}), NOW, LOOP)
    assert.equal(plan.decision.action, 'accept')
    assert.deepEqual(plan.deltas.map((d) => d.amount).sort(), [1, 1, 1, 2, 2])
    assert.ok(plan.deltas.every((d) => d.expiresAt > NOW))
  })

  it('refuses the same sender, number and text past the loop guard, and only then', () => {
    const items = [item()]
    assert.equal(
      planSpend(items, snapshot(items, { loop: 2 }), NOW, LOOP).decision.action,
      'accept',
    )
    const plan = planSpend(items, snapshot(items, { loop: 3 }), NOW, LOOP)
    assert.equal(plan.decision.action, 'deny')
    assert.equal(plan.decision.action === 'deny' && plan.decision.status, '5.7.1')
    assert.match(
      plan.decision.message ?? '',
      /already sent to \+33612345678 3 times in the last 10 minutes/,
    )
    assert.deepEqual(plan.deltas, [])
    const off = planSpend(items, snapshot(items, { loop: 99 }), NOW, { ...LOOP, maxRepeats: 0 })
    assert.equal(off.decision.action, 'accept')
  })

  it('refuses with a 5xx what would pass the daily quota, saying when it resets', () => {
    const items = [item({ segments: 3, limits: { ...NO_LIMITS, segmentsPerDay: 100 } })]
    const plan = planSpend(items, snapshot(items, { day: 98 }), NOW, LOOP)
    assert.equal(plan.decision.action, 'deny')
    assert.equal(plan.decision.action === 'deny' && plan.decision.code, 550)
    assert.equal(
      plan.decision.message,
      'the daily quota of account "acme" is spent: 98 of 100 SMS segments used and this message needs 3; it resets at 2026-03-01 00:00 UTC',
    )
    assert.deepEqual(plan.alerts, [
      {
        accountId: 1,
        period: 'day',
        periodLabel: '2026-02-28',
        threshold: 100,
        limit: 100,
        used: 98,
      },
    ])
  })

  it('refuses the monthly quota with the first day of the next month as its reset', () => {
    const items = [item({ limits: { ...NO_LIMITS, segmentsPerMonth: 10 } })]
    const plan = planSpend(items, snapshot(items, { month: 10 }), NOW, LOOP)
    assert.match(plan.decision.message ?? '', /monthly quota .* resets at 2026-03-01 00:00 UTC/)
  })

  it('records an alert when a message crosses 80 % and another when it reaches 100 %', () => {
    const limits = { ...NO_LIMITS, segmentsPerDay: 10 }
    const items = [item({ segments: 2, limits })]
    assert.deepEqual(planSpend(items, snapshot(items, { day: 5 }), NOW, LOOP).alerts, [])
    const at80 = planSpend(items, snapshot(items, { day: 6 }), NOW, LOOP)
    assert.deepEqual(
      at80.alerts.map((a) => [a.threshold, a.used]),
      [[80, 8]],
    )
    const at100 = planSpend(items, snapshot(items, { day: 8 }), NOW, LOOP)
    assert.equal(at100.decision.action, 'accept')
    assert.deepEqual(
      at100.alerts.map((a) => [a.threshold, a.used]),
      [[100, 10]],
    )
    const both = planSpend([item({ segments: 10, limits })], snapshot(items, {}), NOW, LOOP)
    assert.deepEqual(
      both.alerts.map((a) => a.threshold),
      [80, 100],
    )
  })

  it('asks for a retry (4xx) when the account or the sender is over its rate', () => {
    const byAccount = [item({ limits: { ...NO_LIMITS, smsPerMinute: 10 } })]
    const plan = planSpend(byAccount, snapshot(byAccount, { accountMinute: 10 }), NOW, LOOP)
    assert.equal(plan.decision.action, 'defer')
    assert.equal(
      plan.decision.message,
      'account "acme" may send at most 10 SMS per minute; try again after 00:00 UTC',
    )
    const bySender = [item({ limits: { ...NO_LIMITS, senderSmsPerMinute: 2 } })]
    const sender = planSpend(bySender, snapshot(bySender, { senderMinute: 2 }), NOW, LOOP)
    assert.equal(sender.decision.action, 'defer')
    assert.match(sender.decision.message ?? '', /^alice@example.com may send at most 2 SMS/)
    assert.equal(
      planSpend(bySender, snapshot(bySender, { senderMinute: 1 }), NOW, LOOP).decision.action,
      'accept',
    )
  })

  it('refuses for good a message with more numbers than the rate allows at all', () => {
    const limits = { ...NO_LIMITS, smsPerMinute: 2 }
    const items = ['+33611111111', '+33622222222', '+33633333333'].map((e164) =>
      item({ e164, limits }),
    )
    const plan = planSpend(items, snapshot(items, {}), NOW, LOOP)
    assert.equal(plan.decision.action, 'deny')
    assert.match(plan.decision.message ?? '', /makes 3 SMS but account "acme" allows at most 2/)
    const bySender = items.map((i) => ({ ...i, limits: { ...NO_LIMITS, senderSmsPerMinute: 2 } }))
    const sender = planSpend(bySender, snapshot(bySender, {}), NOW, LOOP)
    assert.match(
      sender.decision.message ?? '',
      /makes 3 SMS but the rate of sender alice@example.com allows at most 2/,
    )
  })

  it('never refuses or counts again the SMS of an email already stored (a retry)', () => {
    const limits = { ...NO_LIMITS, segmentsPerDay: 1, smsPerMinute: 1 }
    const items = [item({ dedupeKey: 'stored', limits })]
    const plan = planSpend(
      items,
      snapshot(items, { day: 1, accountMinute: 1, loop: 9 }, ['stored']),
      NOW,
      LOOP,
    )
    assert.equal(plan.decision.action, 'accept')
    assert.deepEqual(plan.deltas, [])
  })

  it('counts each account of a message against its own limits', () => {
    const beta = account(2, 'beta')
    const items = [
      item({ limits: { ...NO_LIMITS, segmentsPerDay: 5 } }),
      item({ account: beta, e164: '+33699999999', limits: { ...NO_LIMITS, segmentsPerDay: 1 } }),
    ]
    const counters = new Map<string, number>()
    for (const key of spendCounterKeys(items, NOW, LOOP))
      if (key === 'seg:a:2:2026-02-28') counters.set(key, 1)
    const plan = planSpend(items, { counters, stored: new Set() }, NOW, LOOP)
    assert.equal(plan.decision.action, 'deny')
    assert.match(plan.decision.message ?? '', /account "beta" is spent/)
  })
})
