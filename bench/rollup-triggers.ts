/**
 * `npm run bench:rollup`: what the daily-count triggers (migrations/20261206120300) cost the
 * MX's insert. On MariaDB, stores the same SMS with the MX's own insert (insertEmails, one
 * email of one SMS per statement, as a lone message is committed) with the triggers and with
 * them dropped, in alternating rounds so that the machine's other work falls on both alike:
 * one writer after the other (the latency of a lone commit), then several at once (an MX under
 * load). Prints the times; asserts nothing.
 */
import { createAccount } from '../lib/db/accounts'
import type { Db } from '../lib/db/connection'
import { dedupeKeyFor, insertEmails, type NewSms } from '../lib/db/outbound'
import * as triggers from '../migrations/20261206120300_create_sms_daily_triggers'
import { createTestDatabase } from '../test/support/databases'
import { parseBenchOptions } from './options'
import { percentiles } from './worker-latency'

const USAGE = `npm run bench:rollup -- [options]
  --sms N          SMS stored per round (default 10000)
  --rounds N       rounds with and without the triggers, alternating (default 2 each)
  --writers N      concurrent writers in the concurrent rounds (default 8)`

const o = { sms: 10_000, rounds: 2, writers: 8 }

let serial = 0

function email(accountId: number): NewSms[][] {
  const n = ++serial
  const recipient = `+336${String(n % 1e8).padStart(8, '0')}`
  return [
    [
      {
        accountId,
        senderId: null,
        senderEmail: `user${n % 40}@bench.example`,
        recipient,
        body: `Votre rendez-vous n°${n} est confirmé pour demain 9h30.`,
        encoding: 'gsm7',
        segments: 1,
        sourceMessageId: `<bench-${n}@bench.example>`,
        dedupeKey: dedupeKeyFor(`bench-${n}`, recipient, Date.now()),
        mxTransaction: `bench-${n}`,
        timeZone: 'Europe/Paris',
      },
    ],
  ]
}

interface Round {
  triggers: boolean
  writers: number
  seconds: number
  /** Milliseconds per commit. */
  p50: number
  p99: number
}

async function round(db: Db, accountId: number, withTriggers: boolean, writers: number) {
  const latencies: number[] = []
  let left = o.sms
  const writer = async () => {
    while (left > 0) {
      left--
      const started = process.hrtime.bigint()
      await insertEmails(db, email(accountId))
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6)
    }
  }
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: writers }, writer))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const p = percentiles(latencies)
  return { triggers: withTriggers, writers, seconds, p50: p.p50, p99: p.p99 } satisfies Round
}

async function main(): Promise<void> {
  parseBenchOptions(
    process.argv.slice(2),
    USAGE,
    {
      '--sms': (v) => (o.sms = v),
      '--rounds': (v) => (o.rounds = v),
      '--writers': (v) => (o.writers = v),
    },
    {},
  )
  const t = await createTestDatabase('mysql')
  try {
    const accountId = (await createAccount(t.db, { ref: 'bench', name: 'Bench' })).id
    const rounds: Round[] = []
    for (const writers of [1, o.writers]) {
      for (let r = 0; r < o.rounds * 2; r++) {
        const withTriggers = r % 2 === 0
        if (withTriggers) await triggers.up(t.db)
        else await triggers.down(t.db)
        const result = await round(t.db, accountId, withTriggers, writers)
        rounds.push(result)
        console.log(
          `${withTriggers ? 'with triggers   ' : 'without triggers'}  writers ${String(writers).padStart(2)}  ` +
            `${o.sms} SMS in ${result.seconds.toFixed(2)} s (${(o.sms / result.seconds).toFixed(0)}/s)  ` +
            `commit p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms`,
        )
      }
    }
    console.log('\n== bench:rollup summary ==')
    for (const writers of [1, o.writers]) {
      const mean = (on: boolean, pick: (r: Round) => number) => {
        const picked = rounds.filter((r) => r.writers === writers && r.triggers === on).map(pick)
        return picked.reduce((a, b) => a + b, 0) / picked.length
      }
      const rate = (on: boolean) => o.sms / mean(on, (r) => r.seconds)
      console.log(
        `writers ${String(writers).padStart(2)}: ${rate(false).toFixed(0)} SMS/s without, ` +
          `${rate(true).toFixed(0)} with the triggers (time with / without ${(rate(false) / rate(true)).toFixed(2)}); ` +
          `commit p50 ${mean(false, (r) => r.p50).toFixed(2)} → ${mean(true, (r) => r.p50).toFixed(2)} ms, ` +
          `p99 ${mean(false, (r) => r.p99).toFixed(2)} → ${mean(true, (r) => r.p99).toFixed(2)} ms`,
      )
    }
    const [{ n }] = (await t.db('sms_daily_delta').count({ n: '*' })) as Array<{ n: number }>
    console.log(`deltas written by the rounds with triggers: ${n}`)
  } finally {
    await t.drop()
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err)
    process.exit(1)
  },
)
