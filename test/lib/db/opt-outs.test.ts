import assert from 'node:assert/strict'
import type { Knex } from 'knex'
import { createAccount } from '../../../lib/db/accounts'
import { isMysql, type Db } from '../../../lib/db/connection'
import {
  addOptOut,
  findOptOut,
  isOptedOut,
  listOptOuts,
  loadOptOutsByAccount,
  removeOptOut,
  type OptOutCursor,
} from '../../../lib/db/opt-outs'
import { matchesNumberSearch, type NumberSearch } from '../../../lib/phone-search'
import { readCacheVersion } from '../../../lib/db/versions'
import { loadDirectory } from '../../../lib/mx/directory'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

for (const kind of databaseKinds()) {
  describe(`lib/db/opt-outs (${kind})`, () => {
    let t: TestDatabase
    let acme: number
    let other: number

    before(async () => {
      t = await createTestDatabase(kind)
      acme = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      other = (await createAccount(t.db, { ref: 'other', name: 'Other' })).id
    })

    after(() => t?.drop())

    it('records an opt-out per account and bumps the directory version', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      await addOptOut(t.db, acme, '+33612345678', 'STOP', 1000)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await isOptedOut(t.db, acme, '+33612345678'), true)
      assert.equal(await isOptedOut(t.db, other, '+33612345678'), false)
    })

    it('refreshes the keyword when the number opts out again', async () => {
      await addOptOut(t.db, acme, '+33612345678', 'ARRET', 2000)
      const row = (await loadOptOutsByAccount(t.db)).get(acme)?.get('+33612345678')
      assert.deepEqual(row, {
        accountId: acme,
        number: '+33612345678',
        keyword: 'ARRET',
        createdAt: 2000,
      })
    })

    it('is in the MX directory, reloaded with the version', async () => {
      await addOptOut(t.db, acme, '+33612345679', 'STOP', 3000)
      await addOptOut(t.db, acme, '+33612345670', 'STOP', 3000)
      const directory = await loadDirectory(t.db)
      assert.equal(directory.optOuts.get(acme)?.get('+33612345678')?.keyword, 'ARRET')
      assert.equal(directory.optOuts.get(other), undefined)
      const byAccount = await loadOptOutsByAccount(t.db)
      assert.equal(byAccount.get(acme)?.size, 3)
    })

    it('removes an opt-out, bumping the version only when there was one', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await removeOptOut(t.db, acme, '+33612345678'), true)
      assert.equal(await isOptedOut(t.db, acme, '+33612345678'), false)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await removeOptOut(t.db, acme, '+33612345678'), false)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
    })

    describe('the admin’s list', () => {
      let list: number
      let theirs: number
      const numbers: Array<{ number: string; createdAt: number }> = []

      /** Every page of a search, following `next`. */
      async function walk(db: Db, accountId: number, number: NumberSearch | undefined) {
        const shown: string[] = []
        let before: OptOutCursor | undefined
        for (let pages = 0; pages < 100; pages++) {
          const page = await listOptOuts(db, accountId, { number, before }, 4)
          shown.push(...page.rows.map((r) => r.number))
          if (!page.next) return shown
          assert.equal(page.rows.length, 4)
          before = page.next
        }
        throw new Error('no last page')
      }

      const expected = (search?: NumberSearch) =>
        numbers
          .filter((n) => !search || matchesNumberSearch(n.number, search))
          .sort((a, b) => b.createdAt - a.createdAt || (a.number < b.number ? 1 : -1))
          .map((n) => n.number)

      before(async () => {
        list = (await createAccount(t.db, { ref: 'list', name: 'List' })).id
        theirs = (await createAccount(t.db, { ref: 'theirs', name: 'Theirs' })).id
        // 23 numbers, several opted out in the same millisecond, and another account's.
        for (let i = 0; i < 23; i++) {
          const number = `+336${String(10_000_000 + i * 37).padStart(8, '0')}`
          const createdAt = 10_000 + Math.floor(i / 3) * 1000
          numbers.push({ number, createdAt })
          await addOptOut(t.db, list, number, i % 2 ? 'STOP' : 'ARRET', createdAt)
          await addOptOut(t.db, theirs, `+337${String(i).padStart(8, '0')}`, 'STOP', createdAt)
        }
        await addOptOut(t.db, theirs, numbers[0].number, 'STOP', 99_000)
      })

      it('pages newest first without skipping or repeating a number', async () => {
        assert.deepEqual(await walk(t.db, list, undefined), expected())
        const first = await listOptOuts(t.db, list, {}, 2)
        assert.deepEqual(first.rows[0], {
          accountId: list,
          number: expected()[0],
          keyword: 'ARRET',
          createdAt: 17_000,
        })
      })

      it('finds a whole number, its beginning, or digits anywhere in it', async () => {
        const searches: NumberSearch[] = [
          { kind: 'exact', number: numbers[5].number },
          { kind: 'prefix', prefix: '+336100002' },
          { kind: 'digits', digits: '7' },
          { kind: 'digits', digits: '999' },
        ]
        for (const search of searches) {
          assert.deepEqual(await walk(t.db, list, search), expected(search), JSON.stringify(search))
        }
        assert.equal(expected(searches[2]).length, 7)
      })

      it('never lists another account’s opt-outs', async () => {
        const all = await walk(t.db, theirs, undefined)
        assert.equal(all.length, 24)
        assert.ok(all.every((n) => n.startsWith('+337') || n === numbers[0].number))
        assert.deepEqual(await walk(t.db, list, { kind: 'prefix', prefix: '+337' }), [])
        assert.equal(await findOptOut(t.db, theirs, numbers[1].number), undefined)
        assert.equal((await findOptOut(t.db, list, numbers[1].number))?.keyword, 'STOP')
      })

      it('reads its pages through the list index (or the primary key for a whole number)', async () => {
        const statements: Array<{ sql: string; bindings: readonly Knex.RawBinding[] }> = []
        const record = (q: { sql: string; bindings?: readonly Knex.RawBinding[] }) =>
          statements.push({ sql: q.sql, bindings: q.bindings ?? [] })
        t.db.on('query', record)
        try {
          const before = { createdAt: 14_000, number: numbers[12].number }
          await listOptOuts(t.db, list, { before }, 4)
          await listOptOuts(t.db, list, { before, number: { kind: 'digits', digits: '1' } }, 4)
          await listOptOuts(t.db, list, { number: { kind: 'exact', number: numbers[3].number } }, 4)
        } finally {
          t.db.removeListener('query', record)
        }
        assert.equal(statements.length, 3)
        for (const { sql, bindings } of statements) {
          if (isMysql(t.db)) {
            const [plan] = (await t.db.raw(`EXPLAIN ${sql}`, bindings)) as [
              Array<{ type: string; key: string | null; Extra: string }>,
            ]
            assert.equal(plan.length, 1)
            assert.match(plan[0].type, /^(range|const|eq_ref|ref)$/, JSON.stringify(plan))
            assert.match(String(plan[0].key), /^(opt_outs_account_created|PRIMARY)$/, sql)
            assert.doesNotMatch(plan[0].Extra, /filesort/, sql)
          } else {
            const plan = (await t.db.raw(`EXPLAIN QUERY PLAN ${sql}`, bindings)) as Array<{
              detail: string
            }>
            const text = plan.map((p) => p.detail).join('; ')
            assert.match(
              text,
              /^SEARCH opt_outs USING (COVERING )?INDEX (opt_outs_account_created|sqlite_autoindex_opt_outs_1) \(account_id=\?/,
              sql,
            )
            assert.doesNotMatch(text, /TEMP B-TREE/, sql)
          }
        }
      })
    })
  })
}
