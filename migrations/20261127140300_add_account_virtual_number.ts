import type { Knex } from 'knex'

// The account's own number (E.164): the SMS sender when it has no sender name, and later the
// number inbound SMS arrive on.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('accounts', 'virtual_number')) return
  await knex.schema.alterTable('accounts', (t) => t.string('virtual_number', 20).nullable())
}

export async function down(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('accounts', 'virtual_number'))) return
  await knex.schema.alterTable('accounts', (t) => t.dropColumn('virtual_number'))
}
