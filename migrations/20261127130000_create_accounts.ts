import type { Knex } from 'knex'

// Times throughout the schema are UTC milliseconds in BIGINT columns: the same value and
// comparison semantics on SQLite and MySQL, with no driver time-zone conversion.
export async function up(knex: Knex): Promise<void> {
  // MySQL commits each DDL statement on its own: skip what an interrupted run already made.
  if (await knex.schema.hasTable('accounts')) return
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id').primary()
    t.string('ref', 32).notNullable().unique()
    t.string('name', 200).notNullable()
    t.string('default_country', 2).notNullable().defaultTo('FR')
    t.string('sender_name', 11).nullable()
    t.string('signature_marker', 200).nullable()
    t.integer('segment_cap').notNullable().defaultTo(4)
    t.boolean('is_active').notNullable().defaultTo(true)
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('accounts')
}
