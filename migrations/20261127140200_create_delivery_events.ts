import type { Knex } from 'knex'

// Every delivery receipt as received, matched or not: a receipt can overtake the worker's own
// record of the message id, and is matched again once that record exists.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('delivery_events')) return
  await knex.schema.createTable('delivery_events', (t) => {
    t.bigIncrements('id').primary()
    t.bigInteger('sms_id').unsigned().nullable()
    t.string('smsc_message_id', 72).notNullable()
    t.string('state', 16).notNullable()
    t.string('error', 64).nullable()
    // The phone the receipt is about (its source_addr): checks a match made by another id base.
    t.string('handset', 21).nullable()
    t.string('raw', 500).nullable()
    t.bigInteger('received_at').notNullable()
    t.index(['smsc_message_id'])
    t.index(['sms_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('delivery_events')
}
