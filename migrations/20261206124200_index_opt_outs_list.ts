import type { Knex } from 'knex'

// The admin's opt-out page lists an account's opt-outs newest first, with keyset pages on
// (created_at, number); the primary key (account_id, number) serves the MX's lookups.
const INDEX = 'opt_outs_account_created'
const COLUMNS = ['account_id', 'created_at', 'number']

async function hasIndex(knex: Knex): Promise<boolean> {
  if (knex.client.config.client === 'mysql2') {
    const [rows] = (await knex.raw('SHOW INDEX FROM opt_outs WHERE Key_name = ?', [INDEX])) as [
      unknown[],
    ]
    return rows.length > 0
  }
  const rows = (await knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?", [
    INDEX,
  ])) as unknown[]
  return rows.length > 0
}

export async function up(knex: Knex): Promise<void> {
  if (!(await hasIndex(knex))) {
    await knex.schema.alterTable('opt_outs', (t) => t.index(COLUMNS, INDEX))
  }
}

export async function down(knex: Knex): Promise<void> {
  if (await hasIndex(knex)) {
    await knex.schema.alterTable('opt_outs', (t) => t.dropIndex(COLUMNS, INDEX))
  }
}
