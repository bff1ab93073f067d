import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('account_admins')) return
  await knex.schema.createTable('account_admins', (t) => {
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE')
    t.integer('admin_id').unsigned().notNullable().references('admins.id').onDelete('CASCADE')
    t.bigInteger('created_at').notNullable()
    t.primary(['admin_id', 'account_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('account_admins')
}
