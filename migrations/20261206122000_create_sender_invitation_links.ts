import type { Knex } from 'knex'

// Invitation links that no longer open the confirmation, and why: replaced by a newer
// invitation, or already used. Only the sha256 of each link's token is kept, as for the current
// link in account_senders. Without this table every dead link read "not valid", which told the
// person nothing; the rows go with their sender.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('sender_invitation_links')) return
  await knex.schema.createTable('sender_invitation_links', (t) => {
    t.string('token_hash', 64).primary()
    t.integer('sender_id')
      .unsigned()
      .notNullable()
      .references('account_senders.id')
      .onDelete('CASCADE')
    // 'replaced' or 'accepted'.
    t.string('outcome', 16).notNullable()
    t.bigInteger('at').notNullable()
    t.index(['sender_id'])
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sender_invitation_links')
}
