import type { Knex } from 'knex'

// Failed logins per key (an email address, a client IP), shared by every admin process.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('login_throttle')) return
  await knex.schema.createTable('login_throttle', (t) => {
    t.string('throttle_key', 300).primary()
    t.integer('failures').notNullable().defaultTo(0)
    t.bigInteger('window_started_at').notNullable()
    t.bigInteger('locked_until').nullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_throttle')
}
