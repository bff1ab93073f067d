import type { Knex } from 'knex'

// SMS counted per account, local day (outbound_sms.local_day), status and sender, so that the
// admin's chart and the usage figures cost the same at ten million SMS as at a thousand.
//
// sms_daily_delta is append-only: database triggers on outbound_sms (20261206120300) add one row
// per change (+1 when an SMS is stored, −1/+1 when its status changes), in the transaction of the
// change. Appending, rather than adding to a counter row, keeps the MX's inserts from queueing
// on one hot row per account and day. The worker folds the deltas into sms_daily_rollup and
// deletes them (lib/db/outbound/daily-rollup.ts); readers add both, so they never wait for it.
// The same fold keeps sms_daily_totals, the same counts without the sender: the admin's chart
// reads a few rows a day there (0.2 ms for 30 days) instead of one per sender (4 ms with 40).
//
// No foreign keys: a check on accounts for every delta would cost the MX's inserts a lookup and
// a shared lock for nothing (the SMS row itself refers to the account).
export async function up(knex: Knex): Promise<void> {
  if (!(await knex.schema.hasTable('sms_daily_rollup'))) {
    await knex.schema.createTable('sms_daily_rollup', (t) => {
      t.integer('account_id').unsigned().notNullable()
      t.integer('day').notNullable()
      t.string('status', 16).notNullable()
      t.string('sender_email', 254).notNullable()
      t.integer('sms').notNullable()
      t.integer('segments').notNullable()
      t.primary(['account_id', 'day', 'status', 'sender_email'])
    })
  }
  if (!(await knex.schema.hasTable('sms_daily_totals'))) {
    await knex.schema.createTable('sms_daily_totals', (t) => {
      t.integer('account_id').unsigned().notNullable()
      t.integer('day').notNullable()
      t.string('status', 16).notNullable()
      t.integer('sms').notNullable()
      t.integer('segments').notNullable()
      t.primary(['account_id', 'day', 'status'])
    })
  }
  if (!(await knex.schema.hasTable('sms_daily_delta'))) {
    await knex.schema.createTable('sms_daily_delta', (t) => {
      t.bigIncrements('id').primary()
      t.integer('account_id').unsigned().notNullable()
      t.integer('day').notNullable()
      t.string('status', 16).notNullable()
      t.string('sender_email', 254).notNullable()
      t.integer('sms').notNullable()
      t.integer('segments').notNullable()
      // Readers add the deltas of their account and days that are not folded yet.
      t.index(['account_id', 'day'], 'sms_daily_delta_account_day')
    })
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sms_daily_delta')
  await knex.schema.dropTableIfExists('sms_daily_totals')
  await knex.schema.dropTableIfExists('sms_daily_rollup')
}
