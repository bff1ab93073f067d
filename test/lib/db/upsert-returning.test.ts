import assert from 'node:assert/strict'
import { mariadbAtLeast, upsertReturns } from '../../../lib/db/upsert-returning'
import { createTestDatabase, databaseKinds } from '../../support/databases'

describe('lib/db/upsert-returning', () => {
  it('tells MariaDB 10.5 and later from older MariaDB and from MySQL', () => {
    assert.equal(mariadbAtLeast('10.11.19-MariaDB-0+deb12u1', 10, 5), true)
    assert.equal(mariadbAtLeast('11.4.2-MariaDB', 10, 5), true)
    assert.equal(mariadbAtLeast('10.5.0-MariaDB', 10, 5), true)
    assert.equal(mariadbAtLeast('10.4.32-MariaDB', 10, 5), false)
    // MariaDB 10.x announced itself to old clients behind a 5.5.5- prefix.
    assert.equal(mariadbAtLeast('5.5.5-10.6.12-MariaDB-log', 10, 5), true)
    assert.equal(mariadbAtLeast('8.0.36', 10, 5), false)
    assert.equal(mariadbAtLeast('8.4.0-log', 10, 5), false)
  })

  for (const kind of databaseKinds()) {
    it(`answers for the server it is given, once (${kind})`, async () => {
      const t = await createTestDatabase(kind)
      try {
        const statements: string[] = []
        t.db.on('query', (q: { sql: string }) => statements.push(q.sql))
        const expected =
          kind === 'sqlite'
            ? true
            : mariadbAtLeast(String((await t.db.raw('select version() as v'))[0][0].v), 10, 5)
        statements.length = 0
        assert.equal(await upsertReturns(t.db), expected)
        assert.equal(await upsertReturns(t.db), expected)
        assert.ok(statements.length <= 1, statements.join('\n'))
      } finally {
        await t.drop()
      }
    })
  }
})
