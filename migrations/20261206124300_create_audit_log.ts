import type { Knex } from 'knex'

// What admins changed in an account, and who: written by lib/db/audit.ts, shown on the
// admin's audit page. The admin's email is kept as text, so an entry still says who did it
// after that login is deleted (admin_id then becomes NULL). Secrets never reach this table:
// a changed password or webhook secret is recorded as "changed".
export async function up(knex: Knex): Promise<void> {
  if (await knex.schema.hasTable('audit_log')) return
  await knex.schema.createTable('audit_log', (t) => {
    t.bigIncrements('id').primary()
    // NULL for a change that belongs to no account (none is recorded so far).
    t.integer('account_id').unsigned().nullable().references('accounts.id').onDelete('CASCADE')
    t.integer('admin_id').unsigned().nullable().references('admins.id').onDelete('SET NULL')
    t.string('admin_email', 254).notNullable()
    // e.g. opt_out.remove: what was done.
    t.string('action', 64).notNullable()
    // What it was done to, as people name it: a number, an address, a setting.
    t.string('subject', 255).notNullable()
    // JSON objects of the fields before and after; NULL for a creation / a deletion.
    t.text('before_json').nullable()
    t.text('after_json').nullable()
    t.string('client_ip', 45).nullable()
    t.bigInteger('created_at').notNullable()
    // The page reads one account newest first by id, whole or by action or by admin.
    t.index(['account_id', 'id'], 'audit_log_account_id')
    t.index(['account_id', 'action', 'id'], 'audit_log_account_action_id')
    t.index(['account_id', 'admin_email', 'id'], 'audit_log_account_admin_id')
  })
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit_log')
}
