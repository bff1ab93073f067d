import type { Knex } from 'knex'

// "Paramètres de réception": where inbound SMS go, and whether failed SMS are reported.
const COLUMNS: Array<[string, (t: Knex.AlterTableBuilder) => void]> = [
  // Comma-separated addresses, validated and lower-cased by the admin.
  ['forward_addresses', (t) => t.text('forward_addresses').nullable()],
  ['direct_reply', (t) => t.boolean('direct_reply').notNullable().defaultTo(false)],
  ['failure_notices', (t) => t.boolean('failure_notices').notNullable().defaultTo(true)],
  // sha256 of the secret HTTP carriers present to the webhook; the secret is shown once.
  ['webhook_secret_hash', (t) => t.string('webhook_secret_hash', 64).nullable()],
]

export async function up(knex: Knex): Promise<void> {
  for (const [name, add] of COLUMNS) {
    if (!(await knex.schema.hasColumn('accounts', name))) {
      await knex.schema.alterTable('accounts', add)
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...COLUMNS].reverse()) {
    if (await knex.schema.hasColumn('accounts', name)) {
      await knex.schema.alterTable('accounts', (t) => t.dropColumn(name))
    }
  }
}
