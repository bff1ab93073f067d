import type { Knex } from 'knex'

// A failed SMS owes its sender a notice: notice_status is 'due' until the mail is handed to the
// relay ('sent'), so a crash between the two sends it again rather than never.
const COLUMNS: Array<[string, (t: Knex.AlterTableBuilder) => void]> = [
  ['notice_status', (t) => t.string('notice_status', 8).nullable()],
  ['notice_attempts', (t) => t.integer('notice_attempts').notNullable().defaultTo(0)],
  ['notice_next_at', (t) => t.bigInteger('notice_next_at').nullable()],
]

export async function up(knex: Knex): Promise<void> {
  for (const [name, add] of COLUMNS) {
    if (!(await knex.schema.hasColumn('outbound_sms', name))) {
      await knex.schema.alterTable('outbound_sms', add)
    }
  }
  const indexName = 'outbound_sms_notice_status_next_at'
  const exists =
    knex.client.config.client === 'mysql2'
      ? (
          (await knex.raw('SHOW INDEX FROM outbound_sms WHERE Key_name = ?', [indexName])) as [
            unknown[],
          ]
        )[0].length > 0
      : (
          (await knex.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?", [
            indexName,
          ])) as unknown[]
        ).length > 0
  if (!exists) {
    await knex.schema.alterTable('outbound_sms', (t) =>
      t.index(['notice_status', 'notice_next_at'], indexName),
    )
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...COLUMNS].reverse()) {
    if (await knex.schema.hasColumn('outbound_sms', name)) {
      if (name === 'notice_next_at') {
        await knex.schema.alterTable('outbound_sms', (t) =>
          t.dropIndex(['notice_status', 'notice_next_at'], 'outbound_sms_notice_status_next_at'),
        )
      }
      await knex.schema.alterTable('outbound_sms', (t) => t.dropColumn(name))
    }
  }
}
