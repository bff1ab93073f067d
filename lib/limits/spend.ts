import crypto from 'node:crypto'
import type { LimitsConfig } from '../config'
import type { Account } from '../db/accounts'
import type { CounterDelta, CounterSnapshot } from '../db/usage-counters'
import { accept, type Decision } from '../mx/decision'
import { answer } from '../mx/replies'

/** The limits in force for one account; 0 means none. */
export interface SpendLimits {
  smsPerMinute: number
  senderSmsPerMinute: number
  segmentsPerDay: number
  segmentsPerMonth: number
}

export function effectiveLimits(account: Account, defaults: LimitsConfig): SpendLimits {
  const o = account.limits
  return {
    smsPerMinute: o.smsPerMinute ?? defaults.accountSmsPerMinute,
    senderSmsPerMinute: o.senderSmsPerMinute ?? defaults.senderSmsPerMinute,
    segmentsPerDay: o.segmentsPerDay ?? defaults.segmentsPerDay,
    segmentsPerMonth: o.segmentsPerMonth ?? defaults.segmentsPerMonth,
  }
}

/** One SMS of the message being checked. */
export interface SpendItem {
  account: Account
  limits: SpendLimits
  sender: string
  e164: string
  text: string
  segments: number
  dedupeKey: string
}

export interface LoopGuard {
  /** More than this many identical SMS per window is refused; 0 turns the guard off. */
  maxRepeats: number
  windowMinutes: number
}

export type QuotaPeriod = 'day' | 'month'

/** A quota threshold crossed: the account's admins get one email per threshold and period. */
export interface QuotaAlert {
  accountId: number
  period: QuotaPeriod
  /** `2026-12-06` or `2026-12`. */
  periodLabel: string
  threshold: 80 | 100
  limit: number
  used: number
}

const MINUTE = 60_000
const DAY = 86_400_000
const ALERT_THRESHOLDS = [80, 100] as const

/**
 * Fixed windows in UTC: a minute, a calendar day, a calendar month, and the loop guard's
 * window. The window is part of each counter's key, so a new one starts from zero by itself.
 */
export function spendWindows(now: number, loopWindowMinutes: number): Windows {
  // Every window is a whole number of minutes: within one minute the answer is the same, and
  // each check asks twice.
  const minute = Math.floor(now / MINUTE)
  if (lastWindows?.minute === minute && lastWindows.loopWindowMinutes === loopWindowMinutes)
    return lastWindows.windows
  const windows = computeWindows(now, loopWindowMinutes)
  lastWindows = { minute, loopWindowMinutes, windows }
  return windows
}

let lastWindows: { minute: number; loopWindowMinutes: number; windows: Windows } | null = null

function computeWindows(now: number, loopWindowMinutes: number) {
  const d = new Date(now)
  const day = d.toISOString().slice(0, 10)
  const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)
  const loopMs = loopWindowMinutes * MINUTE
  return {
    minute: Math.floor(now / MINUTE),
    minuteEnd: (Math.floor(now / MINUTE) + 1) * MINUTE,
    day,
    dayEnd: Math.floor(now / DAY) * DAY + DAY,
    month: day.slice(0, 7),
    monthEnd,
    loop: Math.floor(now / loopMs),
    loopEnd: (Math.floor(now / loopMs) + 1) * loopMs,
  }
}
type Windows = Readonly<ReturnType<typeof computeWindows>>

const digest = (...parts: string[]) =>
  crypto.createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32)

/** Sender addresses' digests: a busy sender sends many messages, each checked with its own. */
const senderDigests = new Map<string, string>()
const MAX_SENDER_DIGESTS = 10_000

function senderDigest(sender: string): string {
  let d = senderDigests.get(sender)
  if (d === undefined) {
    // A crude bound: past it the map starts over, which costs a digest per sender once more.
    if (senderDigests.size >= MAX_SENDER_DIGESTS) senderDigests.clear()
    d = digest(sender)
    senderDigests.set(sender, d)
  }
  return d
}

type ItemCounters = Record<
  'accountMinute' | 'senderMinute' | 'day' | 'month' | 'loop',
  CounterDelta
>

/** Kept per item: the keys are hashed once though both the read and the plan need them. */
const counterCache = new WeakMap<SpendItem, { minute: number; counters: ItemCounters }>()

/** The counters one SMS moves, with how much and until when. */
function countersOf(item: SpendItem, w: Windows): ItemCounters {
  const cached = counterCache.get(item)
  if (cached?.minute === w.minute) return cached.counters
  const counters = computeCounters(item, w)
  counterCache.set(item, { minute: w.minute, counters })
  return counters
}

function computeCounters(item: SpendItem, w: Windows): ItemCounters {
  const a = item.account.id
  // The window's end is kept past its close for a day, so that a late reader finds the row.
  return {
    accountMinute: { key: `sms:a:${a}:${w.minute}`, amount: 1, expiresAt: w.minuteEnd + DAY },
    senderMinute: {
      key: `sms:s:${senderDigest(item.sender)}:${w.minute}`,
      amount: 1,
      expiresAt: w.minuteEnd + DAY,
    },
    day: { key: quotaCounterKey(a, w.day), amount: item.segments, expiresAt: w.dayEnd + DAY },
    month: {
      key: quotaCounterKey(a, w.month),
      amount: item.segments,
      expiresAt: w.monthEnd + DAY,
    },
    loop: {
      key: `loop:${digest(item.sender, item.e164, item.text)}:${w.loop}`,
      amount: 1,
      expiresAt: w.loopEnd + DAY,
    },
  }
}

/** The segments an account used in a UTC day (`2026-12-06`) or month (`2026-12`). */
export function quotaCounterKey(accountId: number, period: string): string {
  return `seg:a:${accountId}:${period}`
}

/** Every counter the check reads, once each, with the end of its row's life. */
export function spendCounters(
  items: readonly SpendItem[],
  now: number,
  loop: LoopGuard,
): CounterDelta[] {
  const w = spendWindows(now, loop.windowMinutes)
  const byKey = new Map<string, CounterDelta>()
  for (const item of items) for (const c of Object.values(countersOf(item, w))) byKey.set(c.key, c)
  return [...byKey.values()]
}

/** Every key the check reads. */
export function spendCounterKeys(items: readonly SpendItem[], now: number, loop: LoopGuard) {
  return spendCounters(items, now, loop).map((c) => c.key)
}

const hhmm = (t: number) => `${new Date(t).toISOString().slice(11, 16)} UTC`
const dateTime = (t: number) => `${new Date(t).toISOString().slice(0, 10)} 00:00 UTC`

export interface SpendPlan {
  decision: Decision
  /** Counters to raise once the SMS are committed (empty when refused or a retry). */
  deltas: CounterDelta[]
  alerts: QuotaAlert[]
}

interface AccountTotals {
  account: Account
  limits: SpendLimits
  sms: number
  segments: number
  counters: ItemCounters
}

/**
 * Decides a message against the spend limits, given the counters read for it. Checked in
 * order: the loop guard and the quotas (definite: 5xx), then the rates (a retry will pass: 4xx).
 * SMS already stored (the sending server retrying) count nothing and are never refused.
 */
export function planSpend(
  items: readonly SpendItem[],
  snapshot: CounterSnapshot,
  now: number,
  loop: LoopGuard,
): SpendPlan {
  const fresh = items.filter((i) => !snapshot.stored.has(i.dedupeKey))
  if (fresh.length === 0) return { decision: accept(), deltas: [], alerts: [] }
  const w = spendWindows(now, loop.windowMinutes)
  const used = (c: CounterDelta) => snapshot.counters.get(c.key) ?? 0
  const deltas: CounterDelta[] = []
  const accounts = new Map<number, AccountTotals>()
  for (const item of fresh) {
    const counters = countersOf(item, w)
    deltas.push(...Object.values(counters))
    if (loop.maxRepeats > 0 && used(counters.loop) >= loop.maxRepeats) {
      return refused(
        answer('contentLoop', {
          e164: item.e164,
          times: used(counters.loop),
          minutes: loop.windowMinutes,
        }),
      )
    }
    const totals = accounts.get(item.account.id) ?? {
      account: item.account,
      limits: item.limits,
      sms: 0,
      segments: 0,
      counters,
    }
    totals.sms += 1
    totals.segments += item.segments
    accounts.set(item.account.id, totals)
  }
  const alerts: QuotaAlert[] = []
  const quotas = [
    {
      period: 'day',
      label: w.day,
      limitOf: (l: SpendLimits) => l.segmentsPerDay,
      resetAt: w.dayEnd,
    },
    {
      period: 'month',
      label: w.month,
      limitOf: (l: SpendLimits) => l.segmentsPerMonth,
      resetAt: w.monthEnd,
    },
  ] as const
  for (const t of accounts.values()) {
    for (const q of quotas) {
      const limit = q.limitOf(t.limits)
      if (limit === 0) continue
      const before = used(t.counters[q.period])
      const alert = (threshold: 80 | 100, usedNow: number): QuotaAlert => ({
        accountId: t.account.id,
        period: q.period,
        periodLabel: q.label,
        threshold,
        limit,
        used: usedNow,
      })
      if (before + t.segments > limit) {
        const decision = answer('quotaSpent', {
          account: t.account.ref,
          period: q.period === 'day' ? 'daily' : 'monthly',
          limit,
          used: before,
          needed: t.segments,
          resetAt: dateTime(q.resetAt),
        })
        return { decision, deltas: [], alerts: [alert(100, before)] }
      }
      for (const threshold of ALERT_THRESHOLDS) {
        const mark = Math.ceil((limit * threshold) / 100)
        if (before < mark && before + t.segments >= mark)
          alerts.push(alert(threshold, before + t.segments))
      }
    }
  }
  const sender = fresh[0].sender
  for (const t of accounts.values()) {
    const rates = [
      { limit: t.limits.smsPerMinute, counter: t.counters.accountMinute, name: 'account' },
      { limit: t.limits.senderSmsPerMinute, counter: t.counters.senderMinute, name: 'sender' },
    ] as const
    for (const r of rates) {
      if (r.limit === 0) continue
      const n = r.name === 'sender' ? fresh.length : t.sms
      if (n > r.limit) {
        return refused(
          answer('rateLimitBelowMessage', {
            who:
              r.name === 'account' ? `account "${t.account.ref}"` : `the rate of sender ${sender}`,
            limit: r.limit,
            sms: n,
          }),
        )
      }
      if (used(r.counter) + n > r.limit) {
        const resetAt = hhmm(w.minuteEnd)
        return refused(
          r.name === 'account'
            ? answer('accountRateLimited', { account: t.account.ref, limit: r.limit, resetAt })
            : answer('senderRateLimited', { sender, limit: r.limit, resetAt }),
        )
      }
    }
  }
  return { decision: accept(), deltas, alerts }
}

function refused(decision: Decision): SpendPlan {
  return { decision, deltas: [], alerts: [] }
}
