import assert from 'node:assert/strict'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'
import { expectedOutcome, habitDeadlineMs, HABITS, runHabit } from '../support/smsc/carrier-habits'

/**
 * Every carrier habit, end to end: the worker against the carrier-like SMSC. Each SMS must
 * reach the habit's final status and no part may be accepted twice.
 */
const COUNT = 10

for (const kind of databaseKinds()) {
  describe(`carrier habits (${kind})`, function () {
    let database: TestDatabase

    before(async function () {
      database = await createTestDatabase(kind)
    })

    after(async function () {
      await database.drop()
    })

    for (const habit of HABITS) {
      it(`${habit}: every SMS ${expectedOutcome(habit).status}, no part accepted twice`, async function () {
        this.timeout(habitDeadlineMs(habit, COUNT) + 10_000)
        const result = await runHabit(habit, { db: database.db, count: COUNT })
        const expected = expectedOutcome(habit)
        assert.deepEqual(
          { duplicates: result.duplicates, statuses: result.statuses },
          { duplicates: expected.duplicates, statuses: { [expected.status]: COUNT } },
        )
      })
    }
  })
}
