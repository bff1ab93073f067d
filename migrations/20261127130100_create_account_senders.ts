import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  // MySQL commits each DDL statement on its own: skip what an interrupted run already made.
  if (await knex.schema.hasTable('account_senders')) return
  await knex.schema.createTable('account_senders', (t) => {
    t.increments('id').primary()
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE')
    // Stored lower-cased: the MX looks senders up by the envelope address.
    t.string('email', 254).notNullable()
    t.string('status', 16).notNullable().defaultTo('pending')
    t.boolean('is_default').notNullable().defaultTo(false)
    t.string('invitation_token_hash', 64).nullable().unique()
    t.bigInteger('invitation_expires_at').nullable()
    t.bigInteger('accepted_at').nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.unique(['account_id', 'email'])
    t.index(['email'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('account_senders')
}
