import type { Knex } from 'knex'

// The triggers that keep the SMS counts (20261206120200) exact: every insert and every status
// change of an SMS, by whatever code path, adds its delta in the same transaction.
//
// - A row counts once its local_day is set. The MX sets it (lib/db/outbound/enqueue.ts); a row
//   stored without it (an MX of the previous version during an upgrade, a script) is given its
//   UTC day and counted at once. Rows older than these triggers have none until the fill
//   (20261206120400) counts them and sets it, in one transaction per batch.
// - Stored: +1 SMS (+segments) on (account, local_day, status, sender).
// - Status changed: −1 on the old status, +1 on the new one. 'sending' is a worker's lease,
//   counted as 'queued': the claims, their renewals and retries (queued ⇄ sending) add nothing.
//   The same for a change of segments, account or day, which no code makes today.
// - No trigger on delete, nor on the sender's address: retention blanks addresses, and a log
//   may be trimmed, but what was sent stays counted, on the sender it was sent by.
//
// MariaDB/MySQL: creating a trigger needs the TRIGGER privilege, and with binary logging on,
// SUPER or log_bin_trust_function_creators=1 (docs/production.md). A trigger cannot write the
// table it fires on, so the day of a row stored without one is set BEFORE the insert there.
// On Galera (binlog_format=ROW) the nodes apply the delta rows themselves, not the triggers.

const DAY_MS = 86_400_000
const COLUMNS = 'account_id, day, status, sender_email, sms, segments'

/** The status a row is counted under: a lease is not a state of the SMS to its account. */
const counted = (row: 'NEW' | 'OLD') =>
  `CASE ${row}.status WHEN 'sending' THEN 'queued' ELSE ${row}.status END`

const plus = `(NEW.account_id, NEW.local_day, ${counted('NEW')}, NEW.sender_email, 1, NEW.segments)`
const minus = `(OLD.account_id, OLD.local_day, ${counted('OLD')}, OLD.sender_email, -1, -OLD.segments)`

/** A counted row whose count moved (and not, say, a lease renewal or a purge of its text). */
const moved = `OLD.local_day IS NOT NULL AND NEW.local_day IS NOT NULL AND (
  ${counted('OLD')} <> ${counted('NEW')} OR OLD.segments <> NEW.segments
  OR OLD.account_id <> NEW.account_id OR OLD.local_day <> NEW.local_day)`

const MYSQL_TRIGGERS: Record<string, string> = {
  outbound_sms_local_day: `CREATE TRIGGER outbound_sms_local_day BEFORE INSERT ON outbound_sms
    FOR EACH ROW SET NEW.local_day = COALESCE(NEW.local_day, NEW.created_at DIV ${DAY_MS})`,
  outbound_sms_count_insert: `CREATE TRIGGER outbound_sms_count_insert AFTER INSERT ON outbound_sms
    FOR EACH ROW INSERT INTO sms_daily_delta (${COLUMNS}) VALUES ${plus}`,
  outbound_sms_count_update: `CREATE TRIGGER outbound_sms_count_update AFTER UPDATE ON outbound_sms
    FOR EACH ROW BEGIN
      IF ${moved} THEN
        INSERT INTO sms_daily_delta (${COLUMNS}) VALUES ${minus}, ${plus};
      END IF;
    END`,
}

// SQLite's integer division of two integers is the UTC day. `UPDATE OF` spares the trigger the
// updates that touch none of those columns (lease renewals, receipts' times).
const SQLITE_TRIGGERS: Record<string, string> = {
  outbound_sms_count_insert: `CREATE TRIGGER outbound_sms_count_insert AFTER INSERT ON outbound_sms
    WHEN NEW.local_day IS NOT NULL
    BEGIN
      INSERT INTO sms_daily_delta (${COLUMNS}) VALUES ${plus};
    END`,
  outbound_sms_local_day: `CREATE TRIGGER outbound_sms_local_day AFTER INSERT ON outbound_sms
    WHEN NEW.local_day IS NULL
    BEGIN
      UPDATE outbound_sms SET local_day = NEW.created_at / ${DAY_MS} WHERE id = NEW.id;
      INSERT INTO sms_daily_delta (${COLUMNS}) VALUES (NEW.account_id, NEW.created_at / ${DAY_MS},
        ${counted('NEW')}, NEW.sender_email, 1, NEW.segments);
    END`,
  outbound_sms_count_update: `CREATE TRIGGER outbound_sms_count_update
    AFTER UPDATE OF status, segments, account_id, local_day ON outbound_sms
    WHEN ${moved}
    BEGIN
      INSERT INTO sms_daily_delta (${COLUMNS}) VALUES ${minus}, ${plus};
    END`,
}

const isMysql = (knex: Knex) => knex.client.config.client === 'mysql2'

async function hasTrigger(knex: Knex, name: string): Promise<boolean> {
  if (isMysql(knex)) {
    const [rows] = (await knex.raw(
      'SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = ?',
      [name],
    )) as [unknown[]]
    return rows.length > 0
  }
  const rows = (await knex.raw(
    "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = ?",
    [name],
  )) as unknown[]
  return rows.length > 0
}

export async function up(knex: Knex): Promise<void> {
  // One statement per trigger, each skipped when there: MySQL commits DDL one at a time.
  for (const [name, sql] of Object.entries(isMysql(knex) ? MYSQL_TRIGGERS : SQLITE_TRIGGERS)) {
    if (!(await hasTrigger(knex, name))) await knex.raw(sql)
  }
}

// Without the triggers the counts stop following the SMS. To count again from scratch, go down
// to before 20261206120100 (the downs drop the counts and every row's local_day), then up.
export async function down(knex: Knex): Promise<void> {
  for (const name of Object.keys(MYSQL_TRIGGERS)) await knex.raw(`DROP TRIGGER IF EXISTS ${name}`)
}
