import type { Knex } from 'knex'

// "Mot de passe oublié ?": at most one pending reset link per admin (a new request replaces
// it), kept as the sha256 of its token with an expiry; the row goes when the link is used.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('admin_password_resets')) return
  await knex.schema.createTable('admin_password_resets', (t) => {
    t.integer('admin_id').unsigned().primary().references('admins.id').onDelete('CASCADE')
    t.string('token_hash', 64).notNullable().unique()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('expires_at').notNullable()
    t.index(['expires_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('admin_password_resets')
}
