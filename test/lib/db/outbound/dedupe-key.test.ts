import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import {
  dedupeKeyFor,
  keyWrittenAt,
  LEGACY_DATE_MARGIN_MS,
  LEGACY_RETRY_HORIZON_MS,
  legacyDedupeKeyFor,
  mayHaveLegacyKey,
  readKeyUpgrade,
} from '../../../../lib/db/outbound'
import { createAccount } from '../../../../lib/db/accounts'
import { createTestDatabase, databaseKinds } from '../../../support/databases'
import * as formatChanges from '../../../../migrations/20261206140000_create_format_changes'

const WRITTEN = Date.parse('2026-12-06T14:05:09Z')
const MINUTE = 60_000

describe('lib/db/outbound/dedupe-key', () => {
  it('is 64 hex digits: the minute the email was written, then its digest', () => {
    const key = dedupeKeyFor('mid:a@b.test:<1@b.test>', '+33612345678', WRITTEN)
    assert.match(key, /^[0-9a-f]{64}$/)
    assert.equal(
      key.slice(0, 8),
      Math.floor(WRITTEN / MINUTE)
        .toString(16)
        .padStart(8, '0'),
    )
    const digest = crypto
      .createHash('sha256')
      .update('mid:a@b.test:<1@b.test>\0+33612345678')
      .digest('hex')
    assert.equal(key.slice(8), digest.slice(8))
    assert.equal(keyWrittenAt(key), Math.floor(WRITTEN / MINUTE) * MINUTE)
  })

  it('depends on the email only: the same email gives the same key at any time', () => {
    const a = dedupeKeyFor('digest:x', '+33612345678', WRITTEN)
    assert.equal(dedupeKeyFor('digest:x', '+33612345678', WRITTEN + 59_000 - 9_000), a)
    assert.notEqual(dedupeKeyFor('digest:x', '+33612345679', WRITTEN), a)
    assert.notEqual(dedupeKeyFor('digest:y', '+33612345678', WRITTEN), a)
  })

  it('orders keys by the minute their email was written, so new ones land at the end', () => {
    const keys = Array.from({ length: 200 }, (_, i) =>
      dedupeKeyFor(`mid:${i}`, '+33612345678', WRITTEN + Math.floor(i / 20) * MINUTE),
    )
    const sorted = [...keys].sort()
    for (let i = 20; i < keys.length; i++) {
      const minute = Math.floor(i / 20)
      // Every key of a minute sorts after every key of the minutes before.
      assert.ok(sorted.indexOf(keys[i]) >= minute * 20, `key ${i}`)
    }
  })

  it('gives mail without a usable date the prefix 00000000', () => {
    for (const at of [null, -1, NaN, 16 ** 8 * MINUTE]) {
      assert.equal(dedupeKeyFor('mid:x', '+33612345678', at).slice(0, 8), '00000000', String(at))
    }
    assert.equal(keyWrittenAt(dedupeKeyFor('mid:x', '+33612345678', null)), null)
  })

  it('keeps the legacy key: the plain sha256 of the same identity', () => {
    assert.equal(
      legacyDedupeKeyFor('mid:x', '+33612345678'),
      crypto.createHash('sha256').update('mid:x\0+33612345678').digest('hex'),
    )
  })

  describe('mayHaveLegacyKey', () => {
    const upgradedAt = WRITTEN
    const key = (at: number | null) => dedupeKeyFor('mid:x', '+33612345678', at)
    const now = upgradedAt + 3 * 86_400_000

    it('looks for mail written before the upgrade plus the margin, and undated mail', () => {
      assert.equal(mayHaveLegacyKey(key(upgradedAt - 86_400_000), upgradedAt, now), true)
      assert.equal(
        mayHaveLegacyKey(key(upgradedAt + LEGACY_DATE_MARGIN_MS - MINUTE), upgradedAt, now),
        true,
      )
      assert.equal(mayHaveLegacyKey(key(null), upgradedAt, now), true)
    })

    it('not for mail written after that', () => {
      const after = upgradedAt + LEGACY_DATE_MARGIN_MS + MINUTE
      assert.equal(mayHaveLegacyKey(key(after), upgradedAt, now), false)
    })

    it('not at all past the horizon, nor on a database that never had legacy keys', () => {
      const late = upgradedAt + LEGACY_RETRY_HORIZON_MS
      assert.equal(mayHaveLegacyKey(key(upgradedAt - 86_400_000), upgradedAt, late), false)
      assert.equal(mayHaveLegacyKey(key(null), upgradedAt, late), false)
      assert.equal(mayHaveLegacyKey(key(null), 0, now), false)
    })
  })

  for (const kind of databaseKinds()) {
    describe(`the upgrade's instant (${kind})`, () => {
      it('is 0 on a database migrated before it held any SMS', async () => {
        const t = await createTestDatabase(kind)
        try {
          assert.equal(await readKeyUpgrade(t.db), 0)
        } finally {
          await t.drop()
        }
      })

      it('is when the migration ran on a database that held SMS, read once', async () => {
        const t = await createTestDatabase(kind)
        try {
          await formatChanges.down(t.db)
          const account = await createAccount(t.db, { ref: 'a', name: 'A' })
          await t.db('outbound_sms').insert({
            account_id: account.id,
            sender_email: 'a@b.test',
            recipient: '+33612345678',
            body: 'x',
            encoding: 'gsm7',
            segments: 1,
            next_attempt_at: 1,
            dedupe_key: legacyDedupeKeyFor('mid:x', '+33612345678'),
            created_at: 1,
            updated_at: 1,
          })
          const before = Date.now()
          await formatChanges.up(t.db)
          const upgradedAt = await readKeyUpgrade(t.db)
          assert.ok(upgradedAt >= before && upgradedAt <= Date.now(), String(upgradedAt))
          // Run again (a node that starts later): the instant stays the first one.
          await formatChanges.up(t.db)
          const row = await t.db('format_changes').first('changed_at')
          assert.equal(Number(row.changed_at), upgradedAt)
          // Read once per process: a change after that is not seen.
          await t.db('format_changes').update({ changed_at: 1 })
          assert.equal(await readKeyUpgrade(t.db), upgradedAt)
        } finally {
          await t.drop()
        }
      })
    })
  }
})
