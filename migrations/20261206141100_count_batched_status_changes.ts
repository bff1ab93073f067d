import type { Knex } from 'knex'

// The update trigger of the SMS counts (20261206120300) leaves uncounted a status change whose
// statement also raised outbound_sms.counted_changes (20261206141000): that statement adds the
// change to the counts itself, in one delta per account, day and sender for its whole batch
// (lib/db/outbound/status-moves.ts). The worker does so for its two changes of every SMS, to
// 'sent' and to 'delivered'; the trigger wrote two delta rows for each, a quarter of the
// database's work per SMS. Every other change is counted by the trigger as before.
//
// MariaDB replaces the trigger in one statement (CREATE OR REPLACE), so no change goes
// uncounted meanwhile. MySQL has no such statement: between its DROP and CREATE, a few
// milliseconds, a status change made by another process would not be counted. SQLite drops
// and creates it in this migration's transaction.

const DAY_COUNT = 'account_id, day, status, sender_email, sms, segments'
const counted = (row: 'NEW' | 'OLD') =>
  `CASE ${row}.status WHEN 'sending' THEN 'queued' ELSE ${row}.status END`
const plus = `(NEW.account_id, NEW.local_day, ${counted('NEW')}, NEW.sender_email, 1, NEW.segments)`
const minus = `(OLD.account_id, OLD.local_day, ${counted('OLD')}, OLD.sender_email, -1, -OLD.segments)`
const moved = `OLD.local_day IS NOT NULL AND NEW.local_day IS NOT NULL AND (
  ${counted('OLD')} <> ${counted('NEW')} OR OLD.segments <> NEW.segments
  OR OLD.account_id <> NEW.account_id OR OLD.local_day <> NEW.local_day)`
/** The change was not counted by its own statement. */
const uncounted = 'NEW.counted_changes = OLD.counted_changes'

function mysqlTrigger(create: string, when: string): string {
  return `${create} outbound_sms_count_update AFTER UPDATE ON outbound_sms
    FOR EACH ROW BEGIN
      IF ${when} THEN
        INSERT INTO sms_daily_delta (${DAY_COUNT}) VALUES ${minus}, ${plus};
      END IF;
    END`
}

function sqliteTrigger(when: string): string {
  return `CREATE TRIGGER outbound_sms_count_update
    AFTER UPDATE OF status, segments, account_id, local_day ON outbound_sms
    WHEN ${when}
    BEGIN
      INSERT INTO sms_daily_delta (${DAY_COUNT}) VALUES ${minus}, ${plus};
    END`
}

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2'

async function isMariadb(knex: Knex): Promise<boolean> {
  const [rows] = (await knex.raw('SELECT VERSION() AS v')) as [Array<{ v: string }>]
  return /mariadb/i.test(rows[0].v)
}

async function replaceTrigger(knex: Knex, when: string): Promise<void> {
  if (!isMysql(knex)) {
    await knex.raw('DROP TRIGGER IF EXISTS outbound_sms_count_update')
    await knex.raw(sqliteTrigger(when))
  } else if (await isMariadb(knex)) {
    await knex.raw(mysqlTrigger('CREATE OR REPLACE TRIGGER', when))
  } else {
    await knex.raw('DROP TRIGGER IF EXISTS outbound_sms_count_update')
    await knex.raw(mysqlTrigger('CREATE TRIGGER', when))
  }
}

export async function up(knex: Knex): Promise<void> {
  await replaceTrigger(knex, `${moved} AND ${uncounted}`)
}

// Back to counting every change in the trigger. Only once no worker of this version runs: its
// batches would then be counted twice.
export async function down(knex: Knex): Promise<void> {
  await replaceTrigger(knex, moved)
}
