import type { Knex } from 'knex'

// The admin's message log filters one account by number, sender or status, newest first, with
// keyset pagination on id. (account_id, id) already serves the unfiltered page; these serve the
// filters without scanning an account's whole history.
const INDEXES: Array<[string, string[]]> = [
  ['outbound_sms_account_recipient_id', ['account_id', 'recipient', 'id']],
  ['outbound_sms_account_sender_id', ['account_id', 'sender_email', 'id']],
  ['outbound_sms_account_status_id', ['account_id', 'status', 'id']],
  // The daily chart counts a window of days.
  ['outbound_sms_account_created_at', ['account_id', 'created_at']],
]

async function hasIndex(knex: Knex, name: string): Promise<boolean> {
  if (knex.client.config.client === 'mysql2') {
    const [rows] = (await knex.raw('SHOW INDEX FROM outbound_sms WHERE Key_name = ?', [name])) as [
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
  for (const [name, columns] of INDEXES) {
    if (!(await hasIndex(knex, name))) {
      await knex.schema.alterTable('outbound_sms', (t) => t.index(columns, name))
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name, columns] of [...INDEXES].reverse()) {
    if (await hasIndex(knex, name)) {
      await knex.schema.alterTable('outbound_sms', (t) => t.dropIndex(columns, name))
    }
  }
}
