import type { Knex } from 'knex'

// The day an SMS is counted on: its account's local calendar day when the MX took it, as days
// since 1970-01-01 (lib/time/zone.ts). Written once, at the insert, and never changed: an
// account that moves to another zone keeps its past SMS on the days they were counted on.
// NULL on the rows already there: the rollup's fill (20261206120400) gives them their UTC day,
// the zone every account had until now. Nullable, so MariaDB adds it instantly on a large table.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('outbound_sms', 'local_day')))
    await knex.schema.alterTable('outbound_sms', (t) => t.integer('local_day').nullable())
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('outbound_sms', 'local_day'))
    await knex.schema.alterTable('outbound_sms', (t) => t.dropColumn('local_day'))
}
