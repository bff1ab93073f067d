import type { Knex } from 'knex'

// Unmatched receipts (sms_id NULL) are looked up by age on every flush for a while.
export async function up(knex: Knex): Promise<void> {
  const indexes = await listIndexes(knex)
  if (indexes.includes('delivery_events_sms_id_received_at_index')) return
  await knex.schema.alterTable('delivery_events', (t) => t.index(['sms_id', 'received_at']))
}

export async function down(knex: Knex): Promise<void> {
  const indexes = await listIndexes(knex)
  if (!indexes.includes('delivery_events_sms_id_received_at_index')) return
  await knex.schema.alterTable('delivery_events', (t) => t.dropIndex(['sms_id', 'received_at']))
}

async function listIndexes(knex: Knex): Promise<string[]> {
  if (knex.client.config.client === 'mysql2') {
    const [rows] = await knex.raw('SHOW INDEX FROM delivery_events')
    return (rows as Array<{ Key_name: string }>).map((r) => r.Key_name)
  }
  const rows = await knex.raw(
    "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'delivery_events'",
  )
  return (rows as Array<{ name: string }>).map((r) => r.name)
}
