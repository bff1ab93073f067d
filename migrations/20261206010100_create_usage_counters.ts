import type { Knex } from 'knex'

// Spend counters shared by every MX node: one row per limit and time window (the window is part
// of the key), so a new minute or day starts a new row and old ones are simply deleted.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('usage_counters')) return
  await knex.schema.createTable('usage_counters', (t) => {
    t.string('counter_key', 96).notNullable().primary()
    t.bigInteger('used').notNullable()
    t.bigInteger('expires_at').notNullable().index('usage_counters_expires_at')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('usage_counters')
}
