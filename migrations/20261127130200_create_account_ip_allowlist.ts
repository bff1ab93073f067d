import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  // MySQL commits each DDL statement on its own: skip what an interrupted run already made.
  if (await knex.schema.hasTable('account_ip_allowlist')) return
  await knex.schema.createTable('account_ip_allowlist', (t) => {
    t.increments('id').primary()
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE')
    // Normalised CIDR: a single address is stored as /32 or /128.
    t.string('cidr', 64).notNullable()
    t.string('note', 200).nullable()
    t.bigInteger('created_at').notNullable()
    t.unique(['account_id', 'cidr'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('account_ip_allowlist')
}
