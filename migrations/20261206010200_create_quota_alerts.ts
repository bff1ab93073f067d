import type { Knex } from 'knex'

// One row per account, quota period and threshold reached (80 %, 100 %): the unique key makes
// "one email per threshold" hold across MX nodes; the worker mails the due ones.
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('quota_alerts')) return
  await knex.schema.createTable('quota_alerts', (t) => {
    t.increments('id').primary()
    t.integer('account_id').unsigned().notNullable().references('accounts.id').onDelete('CASCADE')
    t.string('period', 8).notNullable()
    t.string('period_label', 10).notNullable()
    t.integer('threshold').unsigned().notNullable()
    t.integer('limit_segments').unsigned().notNullable()
    t.integer('used_segments').unsigned().notNullable()
    t.string('status', 10).notNullable()
    t.bigInteger('lease_until').nullable()
    t.integer('attempts').unsigned().notNullable().defaultTo(0)
    t.bigInteger('created_at').notNullable()
    t.bigInteger('sent_at').nullable()
    t.unique(['account_id', 'period', 'period_label', 'threshold'], {
      indexName: 'quota_alerts_once',
    })
    t.index(['status', 'lease_until'], 'quota_alerts_due')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('quota_alerts')
}
