import type { Knex } from 'knex'

// Retention ([retention] in config/mail2sms.ini): what the purge job has already removed from a
// row, as bits: 1 the message text, 2 the addresses. The index leads with it so that the purge
// reads only rows it still has work on, oldest first, instead of walking past every row it
// purged before: (purged, final_at) for outbound SMS, (purged, received_at) for inbound ones.
// On MariaDB 10.3+ the column is added instantly and the index is built online, so the MX and
// the worker keep writing while this runs on a large table.
const TABLES: Array<{ table: string; index: string; time: string }> = [
  { table: 'outbound_sms', index: 'outbound_sms_retention', time: 'final_at' },
  { table: 'inbound_sms', index: 'inbound_sms_retention', time: 'received_at' },
]

async function hasIndex(knex: Knex, table: string, name: string): Promise<boolean> {
  if (knex.client.config.client === 'mysql2') {
    const [rows] = (await knex.raw('SHOW INDEX FROM ?? WHERE Key_name = ?', [table, name])) as [
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
  // One statement per step, each skipped when done: MySQL commits DDL one statement at a time.
  for (const { table, index, time } of TABLES) {
    if (!(await knex.schema.hasColumn(table, 'purged'))) {
      await knex.schema.alterTable(table, (t) =>
        t.tinyint('purged').unsigned().notNullable().defaultTo(0),
      )
    }
    if (!(await hasIndex(knex, table, index))) {
      await knex.schema.alterTable(table, (t) => t.index(['purged', time], index))
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const { table, index, time } of [...TABLES].reverse()) {
    if (await hasIndex(knex, table, index)) {
      await knex.schema.alterTable(table, (t) => t.dropIndex(['purged', time], index))
    }
    if (await knex.schema.hasColumn(table, 'purged')) {
      await knex.schema.alterTable(table, (t) => t.dropColumn('purged'))
    }
  }
}
