import type { Knex } from 'knex'

// One counter per cached table group. Writers bump it in the same transaction as their change;
// every process compares it with the version its cache was built from.
export async function up(knex: Knex): Promise<void> {
  // MySQL commits each DDL statement on its own: skip what an interrupted run already made.
  if (!(await knex.schema.hasTable('cache_versions'))) {
    await knex.schema.createTable('cache_versions', (t) => {
      t.string('name', 32).primary()
      t.bigInteger('version').notNullable().defaultTo(0)
    })
  }
  await knex('cache_versions').insert({ name: 'directory', version: 1 }).onConflict('name').ignore()
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('cache_versions')
}
