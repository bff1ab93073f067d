import type { Knex } from 'knex'

// While a worker holds an SMS (status 'sending'), next_attempt_at is the end of its lease: one
// index on (status, next_attempt_at) then finds both due SMS and abandoned leases.
const COLUMNS: Array<[string, (t: Knex.AlterTableBuilder) => void]> = [
  ['lease_owner', (t) => t.string('lease_owner', 64).nullable()],
  ['error_code', (t) => t.integer('error_code').nullable()],
  ['parts', (t) => t.integer('parts').nullable()],
  ['sent_at', (t) => t.bigInteger('sent_at').nullable()],
  ['final_at', (t) => t.bigInteger('final_at').nullable()],
]

export async function up(knex: Knex): Promise<void> {
  // One column per statement, each skipped when present: MySQL commits DDL one statement at a
  // time, so an interrupted run must be able to start again.
  for (const [name, add] of COLUMNS) {
    if (!(await knex.schema.hasColumn('outbound_sms', name))) {
      await knex.schema.alterTable('outbound_sms', add)
    }
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [name] of [...COLUMNS].reverse()) {
    if (await knex.schema.hasColumn('outbound_sms', name)) {
      await knex.schema.alterTable('outbound_sms', (t) => t.dropColumn(name))
    }
  }
}
