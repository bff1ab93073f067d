import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { createAccount } from '../../../lib/db/accounts'
import {
  FieldErrors,
  clearWebhookSecret,
  getAccountSettings,
  rotateWebhookSecret,
  setGsmOnly,
  setTimeZone,
  updatePreferences,
  updateReceiving,
  type PreferencesInput,
} from '../../../lib/db/account-settings'
import { hashSecretToken } from '../../../lib/auth/tokens'
import { readCacheVersion } from '../../../lib/db/versions'
import * as gsmOnlyMigration from '../../../migrations/20261206020000_add_account_gsm_only'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const GOOD: PreferencesInput = {
  signatureMarker: 'Jeanne Martin',
  senderName: 'Acme',
  defaultCountry: 'fr',
  segmentCap: '3',
}

/** The FieldErrors a promise rejects with; fails when it resolves or throws anything else. */
async function fieldErrors(promise: Promise<unknown>): Promise<FieldErrors> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof FieldErrors, `expected FieldErrors, got ${String(err)}`)
    return err
  }
  assert.fail('expected the update to be refused')
}

for (const kind of databaseKinds()) {
  describe(`lib/db/account-settings (${kind})`, () => {
    let t: TestDatabase
    let accountId: number
    let otherId: number

    before(async () => {
      t = await createTestDatabase(kind)
      accountId = (await createAccount(t.db, { ref: 'acme', name: 'Acme' })).id
      otherId = (
        await createAccount(t.db, {
          ref: 'globex',
          name: 'Globex',
          virtualNumber: '+33700000001',
          senderName: 'Globex',
        })
      ).id
    })

    after(async () => t?.drop())

    const row = (id = accountId) => t.db('accounts').where({ id }).first()

    it('reads the defaults of a new account', async () => {
      const s = await getAccountSettings(t.db, accountId)
      assert.deepEqual(s, {
        accountId,
        ref: 'acme',
        signatureMarker: null,
        senderName: null,
        defaultCountry: 'FR',
        segmentCap: 4,
        virtualNumber: null,
        gsmOnly: false,
        timeZone: 'UTC',
        forwardAddresses: [],
        directReply: false,
        failureNotices: true,
        webhookSecretSet: false,
      })
      assert.equal((await getAccountSettings(t.db, otherId))?.virtualNumber, '+33700000001')
      assert.equal(await getAccountSettings(t.db, 999999), null)
    })

    it('saves preferences, bumping the directory version and updated_at', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await updatePreferences(t.db, accountId, GOOD, 1_900_000_000_000), true)
      const s = await getAccountSettings(t.db, accountId)
      assert.equal(s?.signatureMarker, 'Jeanne Martin')
      assert.equal(s?.senderName, 'Acme')
      assert.equal(s?.defaultCountry, 'FR')
      assert.equal(s?.segmentCap, 3)
      assert.equal(Number((await row()).updated_at), 1_900_000_000_000)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      // The other account is untouched.
      assert.equal((await getAccountSettings(t.db, otherId))?.senderName, 'Globex')
    })

    it('saves the time zone under its canonical name, and keeps it when not posted', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      await updatePreferences(t.db, accountId, { ...GOOD, timeZone: ' pacific/auckland ' })
      assert.equal((await getAccountSettings(t.db, accountId))?.timeZone, 'Pacific/Auckland')
      // The MX reloads the account, and with it the zone its SMS are counted in.
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      await updatePreferences(t.db, accountId, GOOD)
      assert.equal((await getAccountSettings(t.db, accountId))?.timeZone, 'Pacific/Auckland')
      assert.equal(await setTimeZone(t.db, accountId, 'UTC'), true)
      assert.equal((await getAccountSettings(t.db, accountId))?.timeZone, 'UTC')
      const err = await fieldErrors(setTimeZone(t.db, accountId, 'Mars/Olympus'))
      assert.equal(err.forField('timeZone')?.problem, 'time_zone_unknown')
      assert.equal((await getAccountSettings(t.db, accountId))?.timeZone, 'UTC')
    })

    it('keeps only the first line of a pasted signature, and clears empty fields', async () => {
      await updatePreferences(t.db, accountId, {
        ...GOOD,
        signatureMarker: '\n  Jeanne Martin — Acme  \nDirectrice\n+33 1 23 45 67 89',
      })
      assert.equal(
        (await getAccountSettings(t.db, accountId))?.signatureMarker,
        'Jeanne Martin — Acme',
      )
      await updatePreferences(t.db, accountId, { ...GOOD, signatureMarker: ' ', senderName: '' })
      const s = await getAccountSettings(t.db, accountId)
      assert.equal(s?.signatureMarker, null)
      assert.equal(s?.senderName, null)
    })

    it('refuses each bad field with its own error, and changes nothing', async () => {
      await updatePreferences(t.db, accountId, GOOD)
      const before = await readCacheVersion(t.db, 'directory')
      const err = await fieldErrors(
        updatePreferences(t.db, accountId, {
          signatureMarker: 'x'.repeat(201),
          senderName: 'Acme Corp',
          defaultCountry: 'XX',
          segmentCap: '21',
          timeZone: 'Europe/Pariss',
        }),
      )
      assert.deepEqual(
        err.errors.map((e) => [e.field, e.problem]),
        [
          ['signatureMarker', 'signature_too_long'],
          ['senderName', 'sender_name_format'],
          ['defaultCountry', 'country_unknown'],
          ['segmentCap', 'segment_cap_range'],
          ['timeZone', 'time_zone_unknown'],
        ],
      )
      assert.equal(err.forField('timeZone')?.value, 'Europe/Pariss')
      assert.equal(err.forField('defaultCountry')?.value, 'XX')
      assert.equal(err.forField('senderName')?.value, 'Acme Corp')
      assert.equal(await readCacheVersion(t.db, 'directory'), before)
      assert.equal((await getAccountSettings(t.db, accountId))?.senderName, 'Acme')
    })

    for (const [senderName, ok] of [
      ['Abcdefghijk', true],
      ['Abcdefghijkl', false],
      ['Acme-Corp', false],
      ['Café', false],
    ] as const) {
      it(`${ok ? 'accepts' : 'refuses'} the sender name "${senderName}"`, async () => {
        const update = updatePreferences(t.db, accountId, { ...GOOD, senderName })
        if (ok) assert.equal(await update, true)
        else assert.equal((await fieldErrors(update)).errors[0].field, 'senderName')
      })
    }

    for (const segmentCap of ['0', '2.5', 'four', '', 21, -1]) {
      it(`refuses the segment cap ${JSON.stringify(segmentCap)}`, async () => {
        const err = await fieldErrors(updatePreferences(t.db, accountId, { ...GOOD, segmentCap }))
        assert.equal(err.errors[0].field, 'segmentCap')
      })
    }

    it('accepts the segment cap bounds 1 and 20', async () => {
      await updatePreferences(t.db, accountId, { ...GOOD, segmentCap: 1 })
      assert.equal((await getAccountSettings(t.db, accountId))?.segmentCap, 1)
      await updatePreferences(t.db, accountId, { ...GOOD, segmentCap: ' 20 ' })
      assert.equal((await getAccountSettings(t.db, accountId))?.segmentCap, 20)
    })

    it('saves receiving settings: addresses split, lower-cased and deduplicated', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      await updateReceiving(t.db, accountId, {
        forwardAddresses:
          ' Ops@Acme.example, it@acme.example;ops@acme.example\nboss@acme.example ,',
        directReply: true,
        failureNotices: false,
      })
      const s = await getAccountSettings(t.db, accountId)
      assert.deepEqual(s?.forwardAddresses, [
        'ops@acme.example',
        'it@acme.example',
        'boss@acme.example',
      ])
      assert.equal(s?.directReply, true)
      assert.equal(s?.failureNotices, false)
      assert.equal(
        (await row()).forward_addresses,
        'ops@acme.example,it@acme.example,boss@acme.example',
      )
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
    })

    it('stores no addresses as NULL', async () => {
      await updateReceiving(t.db, accountId, {
        forwardAddresses: ' , ',
        directReply: false,
        failureNotices: true,
      })
      assert.equal((await row()).forward_addresses, null)
      assert.deepEqual((await getAccountSettings(t.db, accountId))?.forwardAddresses, [])
    })

    it('names the bad forward address and changes nothing', async () => {
      await updateReceiving(t.db, accountId, {
        forwardAddresses: 'ops@acme.example',
        directReply: false,
        failureNotices: true,
      })
      const err = await fieldErrors(
        updateReceiving(t.db, accountId, {
          forwardAddresses: 'it@acme.example, bob@, ops@acme.example',
          directReply: true,
          failureNotices: true,
        }),
      )
      assert.equal(err.errors[0].field, 'forwardAddresses')
      assert.equal(err.errors[0].problem, 'forward_address_invalid')
      assert.equal(err.errors[0].value, 'bob@')
      assert.match(err.message, /"bob@"/)
      const s = await getAccountSettings(t.db, accountId)
      assert.deepEqual(s?.forwardAddresses, ['ops@acme.example'])
      assert.equal(s?.directReply, false)
    })

    it('refuses more than 20 forward addresses, counting duplicates once', async () => {
      const list = (n: number) => Array.from({ length: n }, (_, i) => `u${i}@acme.example`)
      await updateReceiving(t.db, accountId, {
        forwardAddresses: [...list(20), ...list(20)].join(','),
        directReply: false,
        failureNotices: true,
      })
      assert.equal((await getAccountSettings(t.db, accountId))?.forwardAddresses.length, 20)
      const err = await fieldErrors(
        updateReceiving(t.db, accountId, {
          forwardAddresses: list(21).join(','),
          directReply: false,
          failureNotices: true,
        }),
      )
      assert.equal(err.errors[0].problem, 'forward_too_many')
    })

    it('stores only the hash of a new webhook secret, and replaces it on rotation', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      const secret = await rotateWebhookSecret(t.db, accountId)
      assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(Buffer.from(secret, 'base64url').length, 32)
      const stored = (await row()).webhook_secret_hash
      assert.equal(stored, crypto.createHash('sha256').update(secret).digest('hex'))
      assert.equal(stored, hashSecretToken(secret))
      assert.equal((await getAccountSettings(t.db, accountId))?.webhookSecretSet, true)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)

      const next = await rotateWebhookSecret(t.db, accountId)
      assert.notEqual(next, secret)
      assert.equal((await row()).webhook_secret_hash, hashSecretToken(next))
      assert.equal((await row(otherId)).webhook_secret_hash, null)

      assert.equal(await clearWebhookSecret(t.db, accountId), true)
      assert.equal((await row()).webhook_secret_hash, null)
      assert.equal((await getAccountSettings(t.db, accountId))?.webhookSecretSet, false)
    })

    it('refuses to rotate the secret of an account that does not exist', async () => {
      await assert.rejects(rotateWebhookSecret(t.db, 999999), /no account/)
    })

    it('saves "stay in GSM" with the preferences, and leaves it alone when not given', async () => {
      await updatePreferences(t.db, accountId, { ...GOOD, gsmOnly: true })
      assert.equal((await getAccountSettings(t.db, accountId))?.gsmOnly, true)
      assert.equal(Boolean((await row(otherId)).gsm_only), false)
      await updatePreferences(t.db, accountId, GOOD)
      assert.equal((await getAccountSettings(t.db, accountId))?.gsmOnly, true)
      await updatePreferences(t.db, accountId, { ...GOOD, gsmOnly: false })
      assert.equal((await getAccountSettings(t.db, accountId))?.gsmOnly, false)
    })

    it('turns "stay in GSM" on and off alone, bumping the directory version', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await setGsmOnly(t.db, accountId, true, 1_900_000_000_000), true)
      assert.equal(Boolean((await row()).gsm_only), true)
      assert.equal(Number((await row()).updated_at), 1_900_000_000_000)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await setGsmOnly(t.db, accountId, false), true)
      assert.equal(Boolean((await row()).gsm_only), false)
      assert.equal(await setGsmOnly(t.db, 999999, true), false)
    })

    it('has "stay in GSM" off for a row written without it, and a migration that reverses', async () => {
      await t.db('accounts').insert({
        ref: 'bare',
        name: 'Bare',
        default_country: 'FR',
        segment_cap: 4,
        is_active: true,
        created_at: 0,
        updated_at: 0,
      })
      assert.equal(Boolean((await t.db('accounts').where({ ref: 'bare' }).first()).gsm_only), false)
      await gsmOnlyMigration.down(t.db)
      assert.equal(await t.db.schema.hasColumn('accounts', 'gsm_only'), false)
      await gsmOnlyMigration.down(t.db)
      await gsmOnlyMigration.up(t.db)
      await gsmOnlyMigration.up(t.db)
      assert.equal(await t.db.schema.hasColumn('accounts', 'gsm_only'), true)
      assert.equal(Boolean((await t.db('accounts').where({ ref: 'bare' }).first()).gsm_only), false)
    })
  })
}
