/**
 * `npm run bench:retention`: what the retention purge costs the MX. On MariaDB, seeds a table
 * with old delivered SMS (with their receipts), then sends a steady stream of emails' SMS
 * through the MX's own writer (lib/db/outbox-writer.ts, group commit, as the queue plugin
 * does) and times each commit: first with no purge, then while the worker's purge removes the
 * text and addresses of every seeded row, then with no purge again. Prints the insert latency
 * of both and their ratio.
 */
import { createAccount } from '../lib/db/accounts'
import { openDb, type Db } from '../lib/db/connection'
import { dedupeKeyFor, type NewSms } from '../lib/db/outbound'
import { OutboxWriter } from '../lib/db/outbox-writer'
import { DAY_MS, describePurge, runPurge } from '../lib/retention/purge'
import { createTestDatabase } from '../test/support/databases'
import { parseBenchOptions } from './options'
import { percentiles, type Percentiles } from './worker-latency'

const USAGE = `npm run bench:retention -- [options]
  --rows N        old delivered SMS to purge (default 100000)
  --rate N        emails per second the MX commits meanwhile (default 200)
  --baseline N    seconds of load without a purge, before and after it (default 15)
  --batch N       rows per purge statement (default 100, as [retention] purge_batch_size)
  --pause N       ms between purge statements (default 100, as purge_pause_ms)`

const o = { rows: 100_000, rate: 200, baseline: 15, batch: 100, pause: 100 }

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))

async function seed(db: Db, accountId: number, rows: number): Promise<void> {
  const at = Date.now() - 400 * DAY_MS
  const chunk = 2000
  for (let first = 0; first < rows; first += chunk) {
    const batch = Array.from({ length: Math.min(chunk, rows - first) }, (_, i) => {
      const n = first + i
      const recipient = `+3361${String(n).padStart(7, '0')}`
      return {
        account_id: accountId,
        sender_email: `user${n % 50}@bench.example`,
        recipient,
        body: `Votre rendez-vous n°${n} est confirmé pour demain 9h30. Merci de votre confiance.`,
        encoding: 'gsm7',
        segments: 1,
        status: 'delivered',
        next_attempt_at: at,
        source_message_id: `<seed-${n}@bench.example>`,
        dedupe_key: dedupeKeyFor(`<seed-${n}@bench.example>`, recipient, at + n),
        mx_transaction: `seed-${n}`,
        created_at: at + n,
        updated_at: at + n,
        sent_at: at + n,
        final_at: at + n + 5000,
      }
    })
    const ids = await db('outbound_sms').insert(batch)
    // One receipt per SMS, as a carrier sends them: the purge blanks them too.
    const firstId = Number(ids[0])
    await db('delivery_events').insert(
      batch.map((b, i) => ({
        sms_id: firstId + i,
        smsc_message_id: `seed-${first + i}`,
        state: 'delivered',
        handset: b.recipient,
        handset_ton: 1,
        raw: 'id:1 sub:001 dlvrd:001 stat:DELIVRD err:000 text:Votre rendez-vous',
        received_at: b.final_at,
      })),
    )
  }
}

interface Load {
  /** Commit latency of each email, ms, and when it started. */
  samples: Array<{ at: number; ms: number }>
  stop(): Promise<void>
}

/** Emails of one SMS each, at `rate` per second, each timed from its write to its commit. */
function startLoad(writer: OutboxWriter, accountId: number, rate: number): Load {
  const samples: Load['samples'] = []
  const inFlight = new Set<Promise<void>>()
  let stopping = false
  let n = 0
  const start = Date.now()
  const run = (async () => {
    while (!stopping) {
      const i = n++
      await sleep(start + (i * 1000) / rate - Date.now())
      const recipient = `+3370${String(i % 10_000_000).padStart(7, '0')}`
      const item: NewSms = {
        accountId,
        senderId: null,
        senderEmail: 'load@bench.example',
        recipient,
        body: 'Load test SMS.',
        encoding: 'gsm7',
        segments: 1,
        sourceMessageId: `<load-${i}-${start}@bench.example>`,
        dedupeKey: dedupeKeyFor(`<load-${i}-${start}@bench.example>`, recipient, Date.now()),
        mxTransaction: `load-${start}-${i}`,
        timeZone: 'UTC',
      }
      const at = Date.now()
      const p = writer.write([item]).then(() => {
        samples.push({ at, ms: Date.now() - at })
      })
      inFlight.add(p)
      void p.finally(() => inFlight.delete(p))
    }
  })()
  return {
    samples,
    async stop() {
      stopping = true
      await run
      await Promise.all(inFlight)
    },
  }
}

const fmt = (p: Percentiles) =>
  `n=${p.count} p50=${p.p50.toFixed(1)} p90=${p.p90.toFixed(1)} p99=${p.p99.toFixed(1)} max=${p.max.toFixed(1)} mean=${p.mean.toFixed(2)} ms`

async function main(): Promise<void> {
  parseBenchOptions(
    process.argv.slice(2),
    USAGE,
    {
      '--rows': (v) => (o.rows = v),
      '--rate': (v) => (o.rate = v),
      '--baseline': (v) => (o.baseline = v),
      '--batch': (v) => (o.batch = v),
      '--pause': (v) => (o.pause = v),
    },
    {},
  )
  const t = await createTestDatabase('mysql')
  // The MX and the worker are separate processes: separate pools.
  const mx = openDb(t.config)
  const worker = openDb(t.config)
  try {
    const account = await createAccount(t.db, { ref: 'bench', name: 'Bench' })
    const seedStart = Date.now()
    await seed(t.db, account.id, o.rows)
    await t.db.raw('ANALYZE TABLE outbound_sms, delivery_events')
    console.log(
      `seeded ${o.rows} delivered SMS (and receipts) 400 days old in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`,
    )
    const writer = new OutboxWriter(mx, { log: (l) => console.error(l) })
    const load = startLoad(writer, account.id, o.rate)
    await sleep(o.baseline * 1000)
    const purgeStart = Date.now()
    const report = await runPurge(
      worker,
      { textDays: 30, addressesDays: 30 },
      { batchSize: o.batch, pauseMs: o.pause, now: Date.now() },
    )
    const purgeEnd = Date.now()
    await sleep(o.baseline * 1000)
    await load.stop()
    const purgeSeconds = (purgeEnd - purgeStart) / 1000
    const during = load.samples.filter((s) => s.at >= purgeStart && s.at < purgeEnd)
    const without = load.samples.filter((s) => s.at < purgeStart || s.at >= purgeEnd + 1000)
    const base = percentiles(without.map((s) => s.ms))
    const busy = percentiles(during.map((s) => s.ms))
    const purged = await t.db('outbound_sms').where('purged', 3).count({ n: '*' })
    console.log(
      `purge: ${describePurge(report)} batches=${report.batches} in ${purgeSeconds.toFixed(1)} s (${Math.round(o.rows / purgeSeconds)} SMS/s; batch ${o.batch}, pause ${o.pause} ms); rows fully purged: ${Number(purged[0].n) - 0}`,
    )
    console.log(`MX insert latency without purge: ${fmt(base)}`)
    console.log(`MX insert latency during purge:  ${fmt(busy)}`)
    console.log(
      `ratio during/without: p50 ${(busy.p50 / base.p50).toFixed(2)}  p90 ${(busy.p90 / base.p90).toFixed(2)}  p99 ${(busy.p99 / base.p99).toFixed(2)}  mean ${(busy.mean / base.mean).toFixed(2)}`,
    )
  } finally {
    await mx.destroy()
    await worker.destroy()
    await t.drop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
