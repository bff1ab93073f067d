import type { Knex } from 'knex'

// A concatenated SMS whose parts never all arrived is kept with what came: this says how many
// were missing, so the mail and the admin can say the text is incomplete.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('inbound_sms', 'missing_parts'))) {
    await knex.schema.alterTable('inbound_sms', (t) => {
      t.integer('missing_parts').notNullable().defaultTo(0)
    })
  }
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('inbound_sms', 'missing_parts')) {
    await knex.schema.alterTable('inbound_sms', (t) => t.dropColumn('missing_parts'))
  }
}
