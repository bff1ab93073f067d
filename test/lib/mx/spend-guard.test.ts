import assert from 'node:assert/strict'
import type { Db } from '../../../lib/db/connection'
import type { LimitsConfig } from '../../../lib/config'
import type { NewSms } from '../../../lib/db/outbound'
import type { SmsDraft } from '../../../lib/mx/message'
import { SpendGuard } from '../../../lib/mx/spend-guard'
import { testRecipient } from '../../support/accounts'
import { createTestDatabase } from '../../support/databases'

const OFF: LimitsConfig = {
  accountSmsPerMinute: 0,
  senderSmsPerMinute: 0,
  segmentsPerDay: 0,
  segmentsPerMonth: 0,
  allowedDestinations: [],
  loopMaxRepeats: 0,
  loopWindowMinutes: 10,
}

const draft = {
  recipient: testRecipient(),
  text: 'hi',
  analysis: { segments: 1 },
} as unknown as SmsDraft
const row = { senderEmail: 'a@b.test', dedupeKey: 'k' } as NewSms

/** A database any query to which fails: the check must make none, or show that it tried. */
const refusingDb = Object.assign(
  () => {
    throw new Error('queried')
  },
  {
    raw: () => Promise.reject(new Error('queried')),
    client: { config: { client: 'mysql2' } },
  },
) as unknown as Db

describe('SpendGuard', () => {
  it('reads nothing when no limit applies at all', async () => {
    const plan = await new SpendGuard(refusingDb, OFF).check([draft], [row])
    assert.deepEqual(plan, {
      decision: { action: 'accept', message: undefined },
      deltas: [],
      alerts: [],
    })
  })

  it('reads the counters as soon as one limit applies', async () => {
    await assert.rejects(
      new SpendGuard(refusingDb, { ...OFF, loopMaxRepeats: 5 }).check([draft], [row]),
      /queried/,
    )
  })

  it('makes one statement per message on the hot path, none more while no alert is due', async () => {
    const t = await createTestDatabase('sqlite')
    try {
      const statements: string[] = []
      t.db.on('query', (q: { sql: string }) => statements.push(q.sql))
      const guard = new SpendGuard(t.db, { ...OFF, loopMaxRepeats: 5, segmentsPerDay: 1000 })
      const plan = await guard.check([draft], [row])
      assert.equal(plan.decision.action, 'accept')
      assert.equal(plan.deltas.length, 5)
      assert.equal(statements.length, 1, statements.join('\n'))
    } finally {
      await t.drop()
    }
  })
})
