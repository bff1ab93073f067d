/**
 * `npm run bench:carrier`: the worker against the carrier-like test SMSC, one carrier habit at a
 * time (test/support/smsc/carrier-habits.ts), and one Markdown table row per habit: how many
 * submits it took, how many parts the carrier accepted twice, and where the SMS ended.
 */
import { createTestDatabase } from '../test/support/databases'
import {
  HABITS,
  habitDeadlineMs,
  runHabit,
  type HabitResult,
} from '../test/support/smsc/carrier-habits'
import { benchCleanups, runBench } from './lifecycle'
import { parseBenchOptions } from './options'

const USAGE = `usage: npm run bench:carrier -- [options]
  --count N   SMS per habit (50)
  --mysql     on MariaDB (MAIL2SMS_TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306)
              instead of SQLite`

function row(r: HabitResult): string {
  const statuses = Object.entries(r.statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, n]) => `${status} ${n}`)
    .join(', ')
  const cells = [
    r.habit,
    r.sms,
    r.submits,
    r.accepted,
    r.duplicates,
    statuses,
    r.seconds.toFixed(1),
  ]
  return `| ${cells.join(' | ')} |`
}

async function main(): Promise<number> {
  let count = 50
  let kind: 'sqlite' | 'mysql' = 'sqlite'
  parseBenchOptions(
    process.argv.slice(2),
    USAGE,
    { '--count': (n) => (count = n) },
    { '--mysql': () => (kind = 'mysql') },
  )
  const budget = HABITS.reduce((sum, h) => sum + habitDeadlineMs(h, count) + 15_000, 0)
  const cleanups = benchCleanups(budget)
  const database = await createTestDatabase(kind)
  cleanups.push(() => database.drop())
  console.log(`carrier habits: ${count} SMS each, ${kind}\n`)
  console.log('| habit | SMS | submits | accepted | duplicates | final statuses | seconds |')
  console.log('| --- | ---: | ---: | ---: | ---: | --- | ---: |')
  for (const habit of HABITS) console.log(row(await runHabit(habit, { db: database.db, count })))
  await cleanups.run()
  return 0
}

runBench(main)
