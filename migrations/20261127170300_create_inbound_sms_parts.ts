import type { Knex } from 'knex'

// Parts of a concatenated inbound SMS waiting for the rest. The SMSC has had its acknowledgement
// for each one, so they live here rather than in memory: a worker restart must not lose them.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('inbound_sms_parts')) return
  await knex.schema.createTable('inbound_sms_parts', (t) => {
    t.bigIncrements('id').primary()
    // The addresses as the SMSC gave them, before any normalisation: they key the set.
    t.string('from_addr', 32).notNullable()
    t.string('to_addr', 32).notNullable()
    t.integer('ref').notNullable()
    t.integer('total').notNullable()
    t.integer('seq').notNullable()
    t.integer('from_ton').notNullable()
    t.integer('to_ton').notNullable()
    t.integer('data_coding').notNullable()
    // The user data of this part, header removed.
    t.binary('body').notNullable()
    t.string('source', 16).notNullable()
    t.bigInteger('received_at').notNullable()
    // A part delivered twice is stored once.
    t.unique(['from_addr', 'to_addr', 'ref', 'total', 'seq'], {
      indexName: 'inbound_sms_parts_set_seq',
    })
    t.index(['received_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inbound_sms_parts')
}
