import type { Knex } from 'knex'

// How many of an SMS's status changes were counted in the daily counts by the statement that
// made them, rather than by the update trigger: the worker moves a batch of SMS to 'sent' or
// 'delivered' and adds its counts in one delta per account, day and sender (lib/db/outbound/
// status-moves.ts) instead of two per SMS. Such a statement adds 1 here, which tells the
// trigger (20261206141100) to leave that change to it. Every other change leaves it alone and
// is counted by the trigger, as before. NOT NULL with a default: MariaDB (10.3 on) and MySQL
// (8.0.12 on) add it instantly, whatever the table's size.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('outbound_sms', 'counted_changes')))
    await knex.schema.alterTable('outbound_sms', (t) =>
      t.integer('counted_changes').notNullable().defaultTo(0),
    )
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('outbound_sms', 'counted_changes'))
    await knex.schema.alterTable('outbound_sms', (t) => t.dropColumn('counted_changes'))
}
