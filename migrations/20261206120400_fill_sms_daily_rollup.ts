import type { Knex } from 'knex'

// Counts the SMS stored before the triggers of 20261206120300, on their UTC day (every account
// was in UTC until then), a range of ids per transaction, so that it works on ten million rows
// while the MX and the workers go on.
//
// Why it counts each SMS exactly once, with SMS stored and changing status meanwhile:
// - a row counts once its local_day is set, and the triggers count every change of a row that
//   counts. Rows stored since the triggers exist count from their insert (the triggers set
//   their day when the MX did not), so the only rows without a day are the older ones.
// - each batch locks its rows without a day (FOR UPDATE), adds their count by account, day,
//   status and sender as deltas, and sets their day, in one transaction. A worker changing
//   one of those rows waits for the batch, then changes a row that counts: the trigger moves
//   the count from the status the batch saw to the new one. A change made before the batch
//   locked the row was not counted (the row did not count yet) and the batch sees its result.
// - a batch interrupted rolls back whole; run again, the migration skips rows with a day.
// READ COMMITTED, so that the locks are on the rows, not on the gaps where the MX inserts.
export const config = { transaction: false }

const DAY_MS = 86_400_000
const BATCH_IDS = 10_000
const CONFLICT_TRIES = 5

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2'

/** A deadlock (1213, also a Galera certification failure) or a lock wait (1205): try again. */
const isLockConflict = (err: unknown) => {
  const e = err as { errno?: number } | null
  return e?.errno === 1213 || e?.errno === 1205
}

async function countBatch(knex: Knex, from: number, to: number): Promise<void> {
  const mysql = isMysql(knex)
  const day = mysql ? `created_at DIV ${DAY_MS}` : `created_at / ${DAY_MS}`
  const status = "CASE status WHEN 'sending' THEN 'queued' ELSE status END"
  const range = 'id >= ? AND id < ? AND local_day IS NULL'
  await knex.transaction(
    async (trx) => {
      if (mysql) {
        const [rows] = (await trx.raw(
          `SELECT COUNT(*) AS n FROM outbound_sms WHERE ${range} FOR UPDATE`,
          [from, to],
        )) as [Array<{ n: number }>]
        if (Number(rows[0].n) === 0) return
      }
      await trx.raw(
        `INSERT INTO sms_daily_delta (account_id, day, status, sender_email, sms, segments)
         SELECT account_id, ${day}, ${status}, sender_email, COUNT(*), SUM(segments)
         FROM outbound_sms WHERE ${range}
         GROUP BY account_id, ${day}, ${status}, sender_email`,
        [from, to],
      )
      // The triggers leave this alone: the row did not count before it.
      await trx.raw(`UPDATE outbound_sms SET local_day = ${day} WHERE ${range}`, [from, to])
    },
    mysql ? { isolationLevel: 'read committed' } : undefined,
  )
}

export async function up(knex: Knex): Promise<void> {
  const [first, last] = await Promise.all([
    knex('outbound_sms').min({ id: 'id' }).first(),
    knex('outbound_sms').max({ id: 'id' }).first(),
  ])
  if (first?.id == null || last?.id == null) return
  for (let from = Number(first.id); from <= Number(last.id); from += BATCH_IDS) {
    for (let tries = 1; ; tries++) {
      try {
        await countBatch(knex, from, from + BATCH_IDS)
        break
      } catch (err) {
        if (!isLockConflict(err) || tries >= CONFLICT_TRIES) throw err
        await new Promise((resolve) => setTimeout(resolve, 50 * tries * Math.random()))
      }
    }
  }
}

// The counts and the days go with the downs of 20261206120200 and 20261206120100; undoing
// the fill alone would leave the rows that the MX gave a day without a way to tell them apart.
export async function down(): Promise<void> {}
