import type { Knex } from 'knex'

// The admin's received SMS page (lib/db/inbound-log.ts) lists one account's SMS newest first
// by received_at, filtered by number, outcome or dates, with keyset pages on (received_at, id).
// Each filter has an index that reads its page in that order and stops after it; the first
// also carries from_number, so that a search for digits anywhere in the number reads it alone.
// (account_id, id) stays for the retention purge and older readers.
const INDEXES: Array<[string, string[]]> = [
  ['inbound_sms_account_received', ['account_id', 'received_at', 'id', 'from_number']],
  ['inbound_sms_account_from_received', ['account_id', 'from_number', 'received_at', 'id']],
  ['inbound_sms_account_status_received', ['account_id', 'status', 'received_at', 'id']],
  ['inbound_sms_account_missing_received', ['account_id', 'missing_parts', 'received_at', 'id']],
]

async function hasIndex(knex: Knex, name: string): Promise<boolean> {
  if (knex.client.config.client === 'mysql2') {
    const [rows] = (await knex.raw('SHOW INDEX FROM inbound_sms WHERE Key_name = ?', [name])) as [
      unknown[],
    ]
    return rows.length > 0
  }
  const rows = (await knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?", [
    name,
  ])) as unknown[]
  return rows.length > 0
}

export async function up(knex: Knex): Promise<void> {
  // One statement per index, each skipped when done: MySQL commits DDL one statement at a time.
  for (const [name, columns] of INDEXES) {
    if (!(await hasIndex(knex, name))) {
      await knex.schema.alterTable('inbound_sms', (t) => t.index(columns, name))
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, columns] of [...INDEXES].reverse()) {
    if (await hasIndex(knex, name)) {
      await knex.schema.alterTable('inbound_sms', (t) => t.dropIndex(columns, name))
    }
  }
}
