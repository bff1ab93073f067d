import type { Knex } from 'knex'

export async function up(knex: Knex): Promise<void> {
  // MySQL commits each DDL statement on its own: skip what an interrupted run already made.
  if (await knex.schema.hasTable('outbound_sms')) return
  await knex.schema.createTable('outbound_sms', (t) => {
    t.bigIncrements('id').primary()
    t.integer('account_id').unsigned().notNullable().references('accounts.id')
    t.integer('sender_id')
      .unsigned()
      .nullable()
      .references('account_senders.id')
      .onDelete('SET NULL')
    // Kept as text too: the log must still say who sent it after the sender is deleted.
    t.string('sender_email', 254).notNullable()
    t.string('recipient', 20).notNullable()
    t.text('body').notNullable()
    t.string('encoding', 8).notNullable()
    t.integer('segments').notNullable()
    t.string('status', 16).notNullable().defaultTo('queued')
    t.integer('attempts').notNullable().defaultTo(0)
    t.bigInteger('next_attempt_at').notNullable()
    t.string('last_error', 500).nullable()
    t.string('source_message_id', 255).nullable()
    // sha256 of (Message-ID or content digest, recipient): a retried email finds its rows.
    t.string('dedupe_key', 64).notNullable().unique()
    t.string('mx_transaction', 64).nullable()
    t.bigInteger('created_at').notNullable()
    t.bigInteger('updated_at').notNullable()
    t.index(['status', 'next_attempt_at'])
    t.index(['account_id', 'id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('outbound_sms')
}
