import type { Knex } from 'knex'

// Web logins of the admin. One person may administer several accounts (account_admins).
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('admins')) return
  await knex.schema.createTable('admins', (t) => {
    t.increments('id').primary()
    // Stored lower-cased: logins compare addresses without case.
    t.string('email', 254).notNullable().unique()
    t.string('name', 200).notNullable().defaultTo('')
    // scrypt$N$r$p$salt$hash, all parameters kept so they can be raised later.
    t.string('password_hash', 255).notNullable()
    t.boolean('is_operator').notNullable().defaultTo(false)
    t.bigInteger('password_changed_at').notNullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('admins')
}
