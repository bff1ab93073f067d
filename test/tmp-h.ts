import { createTestDatabase } from './support/databases'
import { runHabit } from './support/smsc/carrier-habits'
;(async () => {
  const t = await createTestDatabase('sqlite')
  const r = await runHabit(process.argv[2] as never, { db: t.db, count: 5, log: (l) => console.log(l) })
  console.log(JSON.stringify(r))
  const ev = await t.db('delivery_events').select().limit(3)
  console.log(ev)
  const parts = await t.db('outbound_sms_parts').select().limit(3)
  console.log(parts)
  await t.drop()
})()
