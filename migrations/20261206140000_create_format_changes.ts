import type { Knex } from 'knex'

// When a stored format changed, for the code that must still read the older one for a while.
// First row: outbound_sms.dedupe_key, time-ordered from this instant (lib/db/outbound/
// dedupe-key.ts); SMS stored before keep their plain sha256 keys, which the MX also looks up
// for retries of mail written before then. 0 when there were no SMS yet: nothing to look up.
const KEY_FORMAT = 'outbound_sms.dedupe_key'

export async function up(knex: Knex): Promise<void> {
  // MySQL commits each DDL statement on its own: skip what an interrupted run already made.
  if (!(await knex.schema.hasTable('format_changes'))) {
    await knex.schema.createTable('format_changes', (t) => {
      t.string('name', 64).primary()
      t.bigInteger('changed_at').notNullable()
    })
  }
  const stored = await knex('outbound_sms').first('id')
  await knex('format_changes')
    .insert({ name: KEY_FORMAT, changed_at: stored ? Date.now() : 0 })
    .onConflict('name')
    .ignore()
}

// The keys written since stay time-ordered: an MX of the previous version does not find their
// SMS, so a retry it takes of such an email is sent again.
export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('format_changes')
}
