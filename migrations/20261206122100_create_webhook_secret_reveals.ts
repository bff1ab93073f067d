import type { Knex } from 'knex'

// A new webhook secret waiting to be shown, once, on the page the admin is redirected to after
// generating it. Bound to the admin's session (deleted with it) and short-lived; the secret is
// sealed with a key derived from the session token, which the database does not hold.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('webhook_secret_reveals')) return
  await knex.schema.createTable('webhook_secret_reveals', (t) => {
    t.increments('id').primary()
    t.string('session_token_hash', 64)
      .notNullable()
      .references('admin_sessions.token_hash')
      .onDelete('CASCADE')
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE')
    t.string('sealed', 255).notNullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('expires_at').notNullable()
    t.unique(['session_token_hash', 'account_id'])
    t.index(['expires_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('webhook_secret_reveals')
}
