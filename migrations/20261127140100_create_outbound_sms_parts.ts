import type { Knex } from 'knex'

// One row per SMPP message id: a long SMS has one per segment, and delivery receipts name them.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('outbound_sms_parts')) return
  await knex.schema.createTable('outbound_sms_parts', (t) => {
    t.bigIncrements('id').primary()
    t.bigInteger('sms_id')
      .unsigned()
      .notNullable()
      .references('outbound_sms.id')
      .onDelete('CASCADE')
    t.integer('part_no').notNullable()
    // Canonical form (see lib/smpp/receipt.ts), so hex and decimal reports of one id meet.
    t.string('smsc_message_id', 72).notNullable()
    t.string('state', 16).notNullable().defaultTo('sent')
    t.bigInteger('created_at').notNullable()
    t.bigInteger('final_at').nullable()
    t.index(['smsc_message_id'])
    t.index(['sms_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('outbound_sms_parts')
}
