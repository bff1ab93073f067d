/**
 * `npm run bench:export`: `mail2sms sms export` on a large account keeps its memory flat. On
 * MariaDB, seeds one account with many SMS (1,000,000 by default) and another with few, runs the
 * real command on each as a child process with its output drained, and reads the child's peak
 * resident memory (VmHWM, Linux) and its speed. The two peaks should be about the same.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { createAccount } from '../lib/db/accounts'
import type { Db } from '../lib/db/connection'
import { createTestDatabase } from '../test/support/databases'
import { parseBenchOptions } from './options'

const USAGE = `npm run bench:export -- [options]
  --rows N     SMS of the large account (default 1000000)
  --small N    SMS of the small account (default 10000)`

const o = { rows: 1_000_000, small: 10_000 }
const ROOT = path.resolve(__dirname, '..')

async function seed(db: Db, accountId: number, rows: number, prefix: string): Promise<void> {
  const start = Date.UTC(2026, 0, 1)
  const chunk = 2000
  for (let first = 0; first < rows; first += chunk) {
    const batch = Array.from({ length: Math.min(chunk, rows - first) }, (_, i) => {
      const n = first + i
      const at = start + n * 1000
      return {
        account_id: accountId,
        sender_email: `user${n % 50}@bench.example`,
        recipient: `+3361${String(n % 10_000_000).padStart(7, '0')}`,
        // Some texts need quoting, some the formula guard, some are UCS-2.
        body:
          n % 3 === 0
            ? `Rendez-vous "${n}", demain à 9h30, merci.`
            : n % 3 === 1
              ? `=SUM(A${n}) réunion ✓`
              : `Votre code est ${n}.`,
        encoding: n % 3 === 1 ? 'ucs2' : 'gsm7',
        segments: 1,
        status: n % 10 === 0 ? 'undeliverable' : 'delivered',
        last_error: n % 10 === 0 ? 'carrier: absent subscriber' : null,
        next_attempt_at: at,
        dedupe_key: `${prefix}-${n}`,
        mx_transaction: `${prefix}-txn-${n}`,
        created_at: at,
        updated_at: at,
        sent_at: at + 1000,
        final_at: at + 5000,
      }
    })
    await db('outbound_sms').insert(batch)
  }
}

interface Run {
  rows: number
  bytes: number
  seconds: number
  peakRssMb: number
}

/** Peak resident memory of a process so far, from Linux's /proc (kB → MB). */
function peakRssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    const m = /VmHWM:\s+(\d+) kB/.exec(status)
    return m ? Number(m[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

function exportAccount(ref: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin', 'mail2sms.js'), 'sms', 'export', '--account', ref],
      { env, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let bytes = 0
    let lines = 0
    let peak = 0
    child.stdout.on('data', (c: Buffer) => {
      bytes += c.length
      for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++
    })
    // The peak is read while the child lives: /proc forgets it at exit.
    const sampler = setInterval(() => {
      const p = peakRssMb(child.pid as number)
      if (p > peak) peak = p
    }, 100)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearInterval(sampler)
      if (code !== 0) return reject(new Error(`export of ${ref} exited with ${code}`))
      // Text with line breaks would count more lines; these texts have none.
      resolve({ rows: lines - 1, bytes, seconds: (Date.now() - started) / 1000, peakRssMb: peak })
    })
  })
}

const show = (label: string, r: Run) =>
  `${label}: ${r.rows} rows, ${(r.bytes / 1e6).toFixed(1)} MB of CSV in ${r.seconds.toFixed(1)} s (${Math.round(r.rows / r.seconds)} rows/s), peak RSS ${r.peakRssMb.toFixed(0)} MB`

async function main(): Promise<void> {
  parseBenchOptions(
    process.argv.slice(2),
    USAGE,
    { '--rows': (v) => (o.rows = v), '--small': (v) => (o.small = v) },
    {},
  )
  const t = await createTestDatabase('mysql')
  try {
    const big = await createAccount(t.db, { ref: 'big', name: 'Big' })
    const small = await createAccount(t.db, { ref: 'small', name: 'Small' })
    const seeding = Date.now()
    await seed(t.db, small.id, o.small, 's')
    await seed(t.db, big.id, o.rows, 'b')
    await t.db.raw('ANALYZE TABLE outbound_sms')
    console.log(
      `seeded ${o.rows} + ${o.small} SMS in ${((Date.now() - seeding) / 1000).toFixed(1)} s`,
    )
    const env = { ...process.env, DATABASE_URL: t.config.url ?? '' }
    const a = await exportAccount('small', env)
    const b = await exportAccount('big', env)
    console.log(show('small account', a))
    console.log(show('large account', b))
    console.log(`peak RSS large/small: ${(b.peakRssMb / a.peakRssMb).toFixed(2)}`)
    if (a.rows !== o.small || b.rows !== o.rows) throw new Error('an export lost rows')
  } finally {
    await t.drop()
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
