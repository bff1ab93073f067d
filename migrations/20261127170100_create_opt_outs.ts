import type { Knex } from 'knex'

// Numbers that texted STOP (or a localised form) to an account; START removes the row.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('opt_outs')) return
  await knex.schema.createTable('opt_outs', (t) => {
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE')
    t.string('number', 20).notNullable()
    t.string('keyword', 32).notNullable()
    t.bigInteger('created_at').notNullable()
    t.primary(['account_id', 'number'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('opt_outs')
}
