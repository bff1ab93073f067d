import type { Knex } from 'knex'

// The cookie holds a random token; only its sha256 is stored, so a leaked table opens nothing.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('admin_sessions')) return
  await knex.schema.createTable('admin_sessions', (t) => {
    t.string('token_hash', 64).primary()
    t.integer('admin_id').unsigned().notNullable().references('admins.id').onDelete('CASCADE')
    t.bigInteger('created_at').notNullable()
    t.bigInteger('expires_at').notNullable()
    t.index(['admin_id'])
    t.index(['expires_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('admin_sessions')
}
