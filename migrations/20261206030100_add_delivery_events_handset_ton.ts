import type { Knex } from 'knex'

// The type of number of a receipt's handset (SMPP source_addr_ton): a national "0612345678"
// only becomes E.164 with it, and an unmatched receipt is matched again later, from the table.
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasColumn('delivery_events', 'handset_ton')))
    await knex.schema.alterTable('delivery_events', (t) => t.tinyint('handset_ton').nullable())
}

export async function down(knex: Knex): Promise<void> {
  if (await knex.schema.hasColumn('delivery_events', 'handset_ton'))
    await knex.schema.alterTable('delivery_events', (t) => t.dropColumn('handset_ton'))
}
