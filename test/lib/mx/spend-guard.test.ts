import assert from 'node:assert/strict'
import type { Db } from '../../../lib/db/connection'
import type { LimitsConfig } from '../../../lib/config'
import { createAccount } from '../../../lib/db/accounts'
import {
  dedupeKeyFor,
  insertEmails,
  legacyDedupeKeyFor,
  type NewSms,
} from '../../../lib/db/outbound'
import type { SmsDraft } from '../../../lib/mx/message'
import { SpendGuard } from '../../../lib/mx/spend-guard'
import { addToCounters } from '../../../lib/db/usage-counters'
import { testAccount, testRecipient } from '../../support/accounts'
import { createTestDatabase, databaseKinds } from '../../support/databases'

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

/** An SMS the MX stored earlier under `dedupeKey`: what a retried email finds. */
async function storeSms(db: Db, accountId: number, dedupeKey: string): Promise<void> {
  await insertEmails(db, [
    [
      {
        accountId,
        senderId: null,
        senderEmail: row.senderEmail,
        recipient: '+33612345678',
        body: 'hi',
        encoding: 'gsm7',
        segments: 1,
        sourceMessageId: null,
        dedupeKey,
        mxTransaction: `stored-${dedupeKey.slice(0, 16)}`,
        timeZone: 'UTC',
      },
    ],
  ])
}

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

  for (const kind of databaseKinds()) {
    it(`never refuses an email whose SMS are stored already, and asks only when refusing (${kind})`, async () => {
      const t = await createTestDatabase(kind)
      try {
        const account = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
        const d = { ...draft, recipient: testRecipient({ ...testAccount(), id: account.id }) }
        const retried = { ...row, dedupeKey: 'r'.repeat(64) }
        await storeSms(t.db, account.id, retried.dedupeKey)
        // The daily quota is spent: a new message is refused, the retry of a stored one is not.
        const guard = new SpendGuard(t.db, { ...OFF, segmentsPerDay: 1 })
        const statements: string[] = []
        t.db.on('query', (q: { sql: string }) => statements.push(q.sql))
        const first = await guard.check([d], [{ ...row, dedupeKey: 'n'.repeat(64) }])
        assert.equal(first.decision.action, 'accept')
        await addToCounters(t.db, first.deltas)
        statements.length = 0
        const fresh = await guard.check([d], [{ ...row, dedupeKey: 'm'.repeat(64) }])
        assert.equal(fresh.decision.action, 'deny')
        assert.ok(
          statements.some((sql) => /dedupe_key in/.test(sql)),
          'a refusal looks for stored SMS',
        )
        const retry = await guard.check([d], [retried])
        assert.equal(retry.decision.action, 'accept')
        assert.deepEqual(retry.deltas, [], 'a retry counts nothing again')
      } finally {
        await t.drop()
      }
    })
  }
})

for (const kind of databaseKinds()) {
  describe(`SpendGuard after the keys became time-ordered (${kind})`, () => {
    const upgradedAt = Date.now() - 3_600_000
    const keyed = (source: string, writtenAt: number): NewSms => ({
      ...row,
      dedupeKey: dedupeKeyFor(source, '+33612345678', writtenAt),
      legacyDedupeKey: legacyDedupeKeyFor(source, '+33612345678'),
    })

    it('never refuses the retry of an email stored under its legacy key', async () => {
      const t = await createTestDatabase(kind)
      try {
        await t.db('format_changes').update({ changed_at: upgradedAt })
        const account = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
        const d = { ...draft, recipient: testRecipient({ ...testAccount(), id: account.id }) }
        await storeSms(t.db, account.id, legacyDedupeKeyFor('mid:old', '+33612345678'))
        // The daily quota is spent: only a retry of a stored SMS is accepted.
        const guard = new SpendGuard(t.db, { ...OFF, segmentsPerDay: 1 })
        const first = await guard.check([d], [keyed('mid:first', upgradedAt)])
        assert.equal(first.decision.action, 'accept')
        await addToCounters(t.db, first.deltas)
        const retry = await guard.check([d], [keyed('mid:old', upgradedAt - 60_000)])
        assert.equal(retry.decision.action, 'accept')
        assert.deepEqual(retry.deltas, [], 'a retry counts nothing again')
        // Dated past the margin: not looked for under its legacy key, so taken for new mail.
        const late = await guard.check([d], [keyed('mid:old', upgradedAt + 86_460_000)])
        assert.equal(late.decision.action, 'deny')
      } finally {
        await t.drop()
      }
    })
  })
}
