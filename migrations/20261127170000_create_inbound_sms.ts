import type { Knex } from 'knex'

// SMS people send to an account's virtual number (MO), and what became of them.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('inbound_sms')) return
  await knex.schema.createTable('inbound_sms', (t) => {
    t.bigIncrements('id').primary()
    // NULL when no account owns the number it was sent to: stored and logged, never mailed.
    t.integer('account_id').unsigned().nullable().references('accounts.id').onDelete('CASCADE')
    t.string('from_number', 20).notNullable()
    t.string('to_number', 20).notNullable()
    t.text('body').notNullable()
    t.string('encoding', 8).notNullable()
    t.integer('parts').notNullable().defaultTo(1)
    // smpp or webhook, and the carrier's id when it gave one: a redelivered MO is stored once.
    t.string('source', 16).notNullable()
    t.string('carrier_id', 100).nullable()
    t.string('dedupe_key', 64).notNullable().unique()
    // received, unrouted, opt_out, opt_in, kept (nowhere to send), mailing, forwarded, replied, failed
    t.string('status', 16).notNullable()
    // The outbound SMS it answers, for direct reply threading.
    t.bigInteger('reply_to_sms_id').unsigned().nullable()
    t.integer('mail_attempts').notNullable().defaultTo(0)
    t.bigInteger('next_attempt_at').nullable()
    t.string('last_error', 500).nullable()
    t.bigInteger('received_at').notNullable()
    t.bigInteger('mailed_at').nullable()
    t.index(['account_id', 'id'])
    t.index(['status', 'next_attempt_at'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('inbound_sms')
}
