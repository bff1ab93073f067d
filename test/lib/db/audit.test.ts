import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { createAccount } from '../../../lib/db/accounts'
import { createAdmin } from '../../../lib/db/admins'
import {
  SECRET_CHANGED,
  auditFilterChoices,
  changedFields,
  listAuditEntries,
  recordAuditEntry,
  redactAuditFields,
  type AuditRecord,
} from '../../../lib/db/audit'
import { isMysql } from '../../../lib/db/connection'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

describe('lib/db/audit redactAuditFields', () => {
  it('keeps ordinary fields, and turns a secret into "changed" on the sides that had one', () => {
    const { before, after } = redactAuditFields(
      { name: 'Acme', webhookSecret: 'old-secret', passwordHash: 'scrypt$1', token: 'same' },
      { name: 'Acme SA', webhookSecret: 'new-secret', passwordHash: 'scrypt$2', token: 'same' },
    )
    assert.deepEqual(before, {
      name: 'Acme',
      webhookSecret: SECRET_CHANGED,
      passwordHash: SECRET_CHANGED,
    })
    assert.deepEqual(after, {
      name: 'Acme SA',
      webhookSecret: SECRET_CHANGED,
      passwordHash: SECRET_CHANGED,
    })
  })

  it('says a secret was set or removed without its value, and takes more names to hide', () => {
    assert.deepEqual(redactAuditFields(null, { apiKey: 'k', pin: '1234', note: 'n' }, ['pin']), {
      before: null,
      after: { apiKey: SECRET_CHANGED, pin: SECRET_CHANGED, note: 'n' },
    })
    assert.deepEqual(redactAuditFields({ secret: 's' }, { secret: null }), {
      before: { secret: SECRET_CHANGED },
      after: {},
    })
  })

  it('cuts long strings, in lists too', () => {
    const long = 'x'.repeat(5000)
    const { after } = redactAuditFields(null, { text: long, list: [long] })
    assert.equal((after?.text as string).length, 1001)
    assert.equal((after?.list as string[])[0].length, 1001)
  })
})

describe('lib/db/audit changedFields', () => {
  it('lists the fields whose value changed, secrets always, in the order written', () => {
    assert.deepEqual(
      changedFields(
        { a: 1, b: ['x'], c: 'same', s: SECRET_CHANGED },
        { c: 'same', b: ['x', 'y'], a: 1, d: true, s: SECRET_CHANGED },
      ),
      [
        { field: 'b', before: ['x'], after: ['x', 'y'], secret: false },
        { field: 's', before: SECRET_CHANGED, after: SECRET_CHANGED, secret: true },
        { field: 'd', before: undefined, after: true, secret: false },
      ],
    )
    assert.deepEqual(changedFields({ n: '+336' }, null), [
      { field: 'n', before: '+336', after: undefined, secret: false },
    ])
  })
})

for (const kind of databaseKinds()) {
  describe(`lib/db/audit (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let globex: number
    let alice: number
    let bob: number

    const entry = (fields: Partial<AuditRecord> = {}): AuditRecord => ({
      accountId: acme,
      adminId: alice,
      adminEmail: 'alice@acme.example',
      action: 'opt_out.remove',
      subject: '+33612345678',
      before: { number: '+33612345678' },
      after: { reason: 'asked by phone' },
      clientIp: '203.0.113.9',
      at: 1000,
      ...fields,
    })

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      globex = (await createAccount(t.db, { ref: 'globex', name: 'Globex' })).id
      const hash = 'scrypt$not-a-real-hash'
      alice = (
        await createAdmin(t.db, { email: 'alice@acme.example', name: 'A', passwordHash: hash })
      ).id
      bob = (await createAdmin(t.db, { email: 'bob@acme.example', name: 'B', passwordHash: hash }))
        .id
    })

    after(async () => t?.drop())

    it('stores an entry and reads it back, secrets as "changed" and nowhere in the table', async () => {
      const id = await recordAuditEntry(
        t.db,
        entry({
          action: 'receiving.update',
          subject: 'webhook',
          before: { webhookSecret: 'hunter2-old', forward: ['a@acme.example'] },
          after: { webhookSecret: 'hunter2-new', forward: [] },
        }),
      )
      const [shown] = (await listAuditEntries(t.db, acme, { action: 'receiving.update' }, 5)).rows
      assert.deepEqual(shown, {
        id,
        accountId: acme,
        adminId: alice,
        adminEmail: 'alice@acme.example',
        action: 'receiving.update',
        subject: 'webhook',
        before: { webhookSecret: SECRET_CHANGED, forward: ['a@acme.example'] },
        after: { webhookSecret: SECRET_CHANGED, forward: [] },
        clientIp: '203.0.113.9',
        createdAt: 1000,
      })
      assert.equal(shown.before?.webhookSecret, SECRET_CHANGED)
      const raw = JSON.stringify(await t.db('audit_log').where({ id }).first())
      assert.doesNotMatch(raw, /hunter2/)
    })

    it('refuses an action that is not thing.verb', async () => {
      for (const action of ['', 'remove', 'Opt.Remove', 'a.b c', `a.${'b'.repeat(70)}`]) {
        await assert.rejects(recordAuditEntry(t.db, entry({ action })), RangeError, action)
      }
    })

    it('pages an account’s log newest first, by action and by admin, and no other account’s', async () => {
      await t.db('audit_log').delete()
      const ids: Array<{ id: number; action: string; email: string; account: number }> = []
      for (let i = 0; i < 17; i++) {
        const action = ['opt_out.remove', 'ip.add', 'ip.remove'][i % 3]
        const email = i % 2 ? 'bob@acme.example' : 'alice@acme.example'
        const account = i % 5 === 4 ? globex : acme
        const id = await recordAuditEntry(
          t.db,
          entry({ action, adminEmail: email, adminId: i % 2 ? bob : alice, accountId: account }),
        )
        ids.push({ id, action, email, account })
      }
      const walk = async (accountId: number, filter: { action?: string; adminEmail?: string }) => {
        const seen: number[] = []
        let before: number | undefined
        for (;;) {
          const page = await listAuditEntries(t.db, accountId, { ...filter, before }, 3)
          seen.push(...page.rows.map((r) => r.id))
          if (page.nextBefore === null) return seen
          before = page.nextBefore
        }
      }
      const want = (accountId: number, keep: (e: (typeof ids)[number]) => boolean) =>
        ids
          .filter((e) => e.account === accountId && keep(e))
          .map((e) => e.id)
          .reverse()
      assert.deepEqual(
        await walk(acme, {}),
        want(acme, () => true),
      )
      assert.deepEqual(
        await walk(acme, { action: 'ip.add' }),
        want(acme, (e) => e.action === 'ip.add'),
      )
      assert.deepEqual(
        await walk(acme, { adminEmail: 'bob@acme.example' }),
        want(acme, (e) => e.email === 'bob@acme.example'),
      )
      assert.deepEqual(
        await walk(acme, { action: 'ip.remove', adminEmail: 'alice@acme.example' }),
        want(acme, (e) => e.action === 'ip.remove' && e.email === 'alice@acme.example'),
      )
      assert.deepEqual(
        await walk(globex, {}),
        want(globex, () => true),
      )
      assert.deepEqual(await auditFilterChoices(t.db, acme), {
        actions: ['ip.add', 'ip.remove', 'opt_out.remove'],
        admins: ['alice@acme.example', 'bob@acme.example'],
      })
    })

    it('keeps the admin’s email when the login is deleted', async () => {
      const id = await recordAuditEntry(
        t.db,
        entry({ adminId: bob, adminEmail: 'bob@acme.example' }),
      )
      await t.db('admins').where({ id: bob }).delete()
      const row = (await listAuditEntries(t.db, acme, {}, 50)).rows.find((r) => r.id === id)
      assert.equal(row?.adminId, null)
      assert.equal(row?.adminEmail, 'bob@acme.example')
    })

    it('reads its pages through the named indexes', async () => {
      const statements: Array<{ sql: string; bindings: readonly Knex.RawBinding[] }> = []
      const record = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) =>
        statements.push({ sql: q.sql, bindings: q.bindings ?? [] })
      t.db.on('query', record)
      try {
        for (const filter of [{}, { action: 'ip.add' }, { adminEmail: 'alice@acme.example' }]) {
          await listAuditEntries(t.db, acme, { ...filter, before: 10 }, 3)
        }
      } finally {
        t.db.removeListener('query', record)
      }
      assert.equal(statements.length, 3)
      for (const { sql, bindings } of statements) {
        if (isMysql(t.db)) {
          const [plan] = (await t.db.raw(`EXPLAIN ${sql}`, bindings)) as [
            Array<{ type: string; key: string | null; Extra: string }>,
          ]
          assert.equal(plan[0].type, 'range', JSON.stringify(plan))
          assert.match(String(plan[0].key), /^audit_log_account_/, sql)
          assert.doesNotMatch(plan[0].Extra, /filesort/, sql)
        } else {
          const plan = (await t.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings)) as Array<{
            detail: string
          }>
          const text = plan.map((p) => p.detail).join('; ')
          assert.match(text, /^SEARCH audit_log USING INDEX audit_log_account_\w+ \(account_id=\?/)
          assert.doesNotMatch(text, /TEMP B-TREE/, sql)
        }
      }
    })
  })
}
