import type { Knex } from 'knex'

// Where the dispatcher mailed an inbound SMS (the forward addresses, or the sender it replied
// to), as it was at that moment: the admin's received SMS page shows it, and the account's
// settings may have changed since. NULL for SMS mailed before this column, or not mailed.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('inbound_sms', 'mailed_to'))) {
    await knex.schema.alterTable('inbound_sms', (t) => t.text('mailed_to').nullable())
  }
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('inbound_sms', 'mailed_to')) {
    await knex.schema.alterTable('inbound_sms', (t) => t.dropColumn('mailed_to'))
  }
}
