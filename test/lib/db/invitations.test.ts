import assert from 'node:assert/strict'
import { createAccount, type Account } from '../../../lib/db/accounts'
import { addSender } from '../../../lib/db/senders'
import {
  acceptInvitation,
  deleteSender,
  findInvitation,
  inviteSender,
  listSenderInvitations,
  resendInvitation,
  restorePreviousInvitation,
  SenderAlreadyAcceptedError,
} from '../../../lib/db/invitations'
import { hashSecretToken } from '../../../lib/auth/tokens'
import { readCacheVersion } from '../../../lib/db/versions'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const TTL = 72 * 3_600_000

for (const kind of databaseKinds()) {
  describe(`lib/db/invitations (${kind})`, function () {
    this.timeout(20_000)
    let t: TestDatabase
    let acme: Account
    let globex: Account
    const now = 1_800_000_000_000

    beforeEach(async () => {
      t = await createTestDatabase(kind, { migrate: true })
      acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      globex = await createAccount(t.db, { ref: 'globex', name: 'Globex' })
    })
    afterEach(() => t.drop())

    const row = (id: number) => t.db('account_senders').where({ id }).first()

    it('invites a new address as pending, storing the token hash and expiry', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      const invited = await inviteSender(t.db, acme.id, ' New@Example.COM ', TTL, now)
      assert.equal(invited.created, true)
      assert.match(invited.token, /^[A-Za-z0-9_-]{43}$/)
      assert.equal(invited.expiresAt, now + TTL)
      assert.deepEqual(
        { email: invited.sender.email, status: invited.sender.status },
        { email: 'new@example.com', status: 'pending' },
      )
      const stored = await row(invited.sender.id)
      assert.equal(stored.invitation_token_hash, hashSecretToken(invited.token))
      assert.equal(Number(stored.invitation_expires_at), now + TTL)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
    })

    it('gives a pending address a fresh token and refuses an accepted one', async () => {
      const first = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const second = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now + 10)
      assert.equal(second.created, false)
      assert.equal(second.sender.id, first.sender.id)
      const replaced = await findInvitation(t.db, first.token, now + 20)
      assert.equal(replaced.state, 'replaced')
      assert.equal(replaced.replacedAt, now + 10)
      assert.equal(replaced.sender?.email, 'p@example.com')
      assert.equal(replaced.account?.ref, 'acme')
      assert.equal((await findInvitation(t.db, second.token, now + 20)).state, 'valid')
      // The link it replaced cannot be accepted: one working link at a time.
      assert.equal(await acceptInvitation(t.db, first.token, now + 20), null)
      await addSender(t.db, acme.id, 'a@example.com', { status: 'accepted' })
      await assert.rejects(
        inviteSender(t.db, acme.id, 'A@example.com', TTL, now),
        (err: Error) => err instanceof SenderAlreadyAcceptedError,
      )
      await assert.rejects(inviteSender(t.db, acme.id, 'bad', TTL, now), /not a valid email/)
    })

    it('resends for a pending sender of the account only', async () => {
      const invited = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      assert.equal(await resendInvitation(t.db, globex.id, invited.sender.id, TTL, now), null)
      const again = await resendInvitation(t.db, acme.id, invited.sender.id, TTL, now + 5)
      assert.ok(again)
      assert.equal(again.expiresAt, now + 5 + TTL)
      assert.equal((await findInvitation(t.db, invited.token, now)).state, 'replaced')
      assert.equal((await findInvitation(t.db, again.token, now)).state, 'valid')
      const accepted = await addSender(t.db, acme.id, 'a@example.com', { status: 'accepted' })
      assert.equal(await resendInvitation(t.db, acme.id, accepted.id, TTL, now), null)
    })

    it('tells valid, expired and unknown links apart', async () => {
      const invited = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const valid = await findInvitation(t.db, invited.token, now + TTL - 1)
      assert.equal(valid.state, 'valid')
      assert.equal(valid.account?.ref, 'acme')
      assert.equal(valid.sender?.email, 'p@example.com')
      assert.equal((await findInvitation(t.db, invited.token, now + TTL)).state, 'expired')
      assert.equal((await findInvitation(t.db, 'A'.repeat(43), now)).state, 'invalid')
      assert.equal((await findInvitation(t.db, 'short', now)).state, 'invalid')
    })

    it('says an activated address is activated, from its own link or a replaced one', async () => {
      const first = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const second = await resendInvitation(t.db, acme.id, first.sender.id, TTL, now + 10)
      assert.ok(second)
      assert.ok(await acceptInvitation(t.db, second.token, now + 20))
      for (const token of [first.token, second.token]) {
        const found = await findInvitation(t.db, token, now + 30)
        assert.equal(found.state, 'accepted')
        assert.equal(found.sender?.email, 'p@example.com')
        assert.equal(found.account?.ref, 'acme')
      }
    })

    it('forgets the links of a deleted sender: they are simply not valid', async () => {
      const first = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const second = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now + 10)
      await deleteSender(t.db, acme.id, first.sender.id)
      assert.equal((await findInvitation(t.db, first.token, now + 20)).state, 'invalid')
      assert.equal((await findInvitation(t.db, second.token, now + 20)).state, 'invalid')
      assert.equal((await t.db('sender_invitation_links')).length, 0)
    })

    it('gives back the replaced link, working, when the new mail could not leave', async () => {
      const first = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const second = await resendInvitation(t.db, acme.id, first.sender.id, TTL, now + 10)
      assert.ok(second)
      await restorePreviousInvitation(t.db, second)
      assert.equal((await findInvitation(t.db, first.token, now + 20)).state, 'valid')
      assert.equal((await findInvitation(t.db, second.token, now + 20)).state, 'invalid')
      // Replaced again later: said so again.
      const third = await resendInvitation(t.db, acme.id, first.sender.id, TTL, now + 30)
      assert.ok(third)
      assert.equal((await findInvitation(t.db, first.token, now + 40)).state, 'replaced')
    })

    it('accepts once, clearing the token and making the account the default', async () => {
      const invited = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await acceptInvitation(t.db, invited.token, now + TTL), null)
      const accepted = await acceptInvitation(t.db, invited.token, now + 100)
      assert.ok(accepted)
      assert.equal(accepted.account.ref, 'acme')
      assert.equal(accepted.sender.status, 'accepted')
      assert.equal(accepted.sender.isDefault, true)
      const stored = await row(invited.sender.id)
      assert.equal(Number(stored.accepted_at), now + 100)
      assert.equal(stored.invitation_token_hash, null)
      assert.equal(stored.invitation_expires_at, null)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
      assert.equal(await acceptInvitation(t.db, invited.token, now + 200), null)
      assert.equal((await findInvitation(t.db, invited.token, now + 200)).state, 'accepted')
    })

    it('leaves the default account of an address that already has one', async () => {
      await addSender(t.db, globex.id, 'p@example.com', { status: 'accepted', isDefault: true })
      const invited = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const accepted = await acceptInvitation(t.db, invited.token, now)
      assert.equal(accepted?.sender.isDefault, false)
    })

    it('accepts a link only once when two confirmations race', async () => {
      const invited = await inviteSender(t.db, acme.id, 'p@example.com', TTL, now)
      const results = await Promise.all([
        acceptInvitation(t.db, invited.token, now),
        acceptInvitation(t.db, invited.token, now),
      ])
      assert.equal(results.filter(Boolean).length, 1)
    })

    it('deletes a sender within its account only', async () => {
      const s = await addSender(t.db, acme.id, 'p@example.com', { status: 'accepted' })
      const before = await readCacheVersion(t.db, 'directory')
      assert.equal(await deleteSender(t.db, globex.id, s.id), null)
      assert.ok(await row(s.id))
      assert.equal(await readCacheVersion(t.db, 'directory'), before)
      assert.equal((await deleteSender(t.db, acme.id, s.id))?.email, 'p@example.com')
      assert.equal(await row(s.id), undefined)
      assert.equal(await readCacheVersion(t.db, 'directory'), before + 1)
    })

    it('lists the senders of the account with their dates', async () => {
      await inviteSender(t.db, acme.id, 'b@example.com', TTL, now)
      await addSender(t.db, acme.id, 'a@example.com', { status: 'accepted' }, now + 1)
      await addSender(t.db, globex.id, 'c@example.com', { status: 'accepted' }, now)
      const list = await listSenderInvitations(t.db, acme.id)
      assert.deepEqual(
        list.map((s) => [s.email, s.status, s.invitedAt, s.acceptedAt, s.expiresAt]),
        [
          ['a@example.com', 'accepted', now + 1, now + 1, null],
          ['b@example.com', 'pending', now, null, now + TTL],
        ],
      )
    })
  })
}
