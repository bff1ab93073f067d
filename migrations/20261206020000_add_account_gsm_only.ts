import type { Knex } from 'knex'

// "Stay in GSM 03.38": the account's SMS have the letters GSM lacks replaced by the closest
// ones it has (ê → e), so they are sent as GSM-7. Off for every account until its admin opts in:
// it changes what recipients read.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('accounts', 'gsm_only')))
    await knex.schema.alterTable('accounts', (t) =>
      t.boolean('gsm_only').notNullable().defaultTo(false),
    )
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('accounts', 'gsm_only'))
    await knex.schema.alterTable('accounts', (t) => t.dropColumn('gsm_only'))
}
