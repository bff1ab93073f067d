import type { Knex } from 'knex'

// The account's IANA time zone (Europe/Paris): the days its chart and counts are made of, and
// the zone its admin reads dates in. Existing accounts keep the UTC their pages showed so far.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('accounts', 'time_zone')))
    await knex.schema.alterTable('accounts', (t) =>
      t.string('time_zone', 64).notNullable().defaultTo('UTC'),
    )
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('accounts', 'time_zone'))
    await knex.schema.alterTable('accounts', (t) => t.dropColumn('time_zone'))
}
