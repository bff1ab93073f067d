import type { Knex } from 'knex'

// Per-account overrides of the [limits] defaults: NULL follows the configuration, 0 is "no
// limit". Destinations beyond the account's own country are listed explicitly.
const COLUMNS = [
  'sms_per_minute',
  'sender_sms_per_minute',
  'segments_per_day',
  'segments_per_month',
] as const

export async function up(knex: Knex): Promise<void> {
  for (const column of COLUMNS) {
    if (!(await knex.schema.hasColumn('accounts', column)))
      await knex.schema.alterTable('accounts', (t) => t.integer(column).unsigned().nullable())
  }
  if (!(await knex.schema.hasColumn('accounts', 'allowed_destinations')))
    await knex.schema.alterTable('accounts', (t) =>
      t.string('allowed_destinations', 500).nullable(),
    )
}

export async function down(knex: Knex): Promise<void> {
  for (const column of [...COLUMNS, 'allowed_destinations']) {
    if (await knex.schema.hasColumn('accounts', column))
      await knex.schema.alterTable('accounts', (t) => t.dropColumn(column))
  }
}
