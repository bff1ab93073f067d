import crypto from 'node:crypto'
import type { Db } from './connection'
import { ValidationError, type Account, toAccount } from './accounts'
import { isUniqueViolation } from './errors'
import { bumpCacheVersion } from './versions'
import { hashSecretToken, isSecretTokenShape, newSecretToken } from '../auth/tokens'
import { normaliseEmail, toSender, type Sender, type SenderStatus } from './senders'

/**
 * Invitations of senders ("Utilisateurs"): the admin adds an address, which stays pending until
 * its owner follows the emailed link. The link holds a random token; the table keeps only its
 * sha256 and an expiry.
 *
 * A pending address has one working link at a time: inviting it again or resending gives it a
 * new link and the earlier one stops working, so that only the latest mail can activate the
 * address (an earlier mail may have gone astray, which is often why the admin resends). Links
 * that stopped working are remembered (sha256 only) in sender_invitation_links, so that their
 * page says why: replaced by a newer invitation, or already used.
 */
export class SenderAlreadyAcceptedError extends ValidationError {
  override name = 'SenderAlreadyAcceptedError'
}

function newToken(): { token: string; hash: string } {
  const token = newSecretToken()
  return { token, hash: hashSecretToken(token) }
}

export interface InvitedSender {
  sender: Sender
  token: string
  expiresAt: number
  /** False when the address was already pending and only got a fresh link. */
  created: boolean
  /** The link it replaced, put back by restorePreviousInvitation when the mail does not leave. */
  previous: { tokenHash: string | null; expiresAt: number | null } | null
}

function previousOf(row: Record<string, unknown> | undefined): InvitedSender['previous'] {
  if (!row) return null
  return {
    tokenHash: (row.invitation_token_hash as string | null) ?? null,
    expiresAt: row.invitation_expires_at == null ? null : Number(row.invitation_expires_at),
  }
}

/**
 * The two mail quotas of an invitation, per invited address (any account) and per account. The
 * address is digested, so that any address fits a counter key.
 */
export function inviteAddressKey(email: string): string {
  const digest = crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('hex')
  return `invite-to:${digest.slice(0, 32)}`
}

export function inviteAccountKey(accountId: number): string {
  return `invite-account:${accountId}`
}

type LinkOutcome = 'replaced' | 'accepted'

/** Remembers that a link stopped working, and why, for the page that link opens. */
async function rememberDeadLink(
  trx: Db,
  senderId: number,
  tokenHash: string | null | undefined,
  outcome: LinkOutcome,
  now: number,
): Promise<void> {
  if (!tokenHash) return
  // A link given back by restorePreviousInvitation may be replaced a second time.
  await trx('sender_invitation_links').where({ token_hash: tokenHash }).delete()
  await trx('sender_invitation_links').insert({
    token_hash: tokenHash,
    sender_id: senderId,
    outcome,
    at: now,
  })
}

/**
 * Adds a pending sender with a fresh invitation, or gives an address still pending a new link
 * (the old one stops working, and says it was replaced). An address already accepted is refused.
 */
export async function inviteSender(
  db: Db,
  accountId: number,
  emailInput: string,
  ttlMs: number,
  now = Date.now(),
): Promise<InvitedSender> {
  const email = normaliseEmail(emailInput)
  const { token, hash } = newToken()
  const expiresAt = now + ttlMs
  try {
    return await db.transaction(async (trx) => {
      const existing = await trx('account_senders').where({ account_id: accountId, email }).first()
      if (existing?.status === 'accepted') {
        throw new SenderAlreadyAcceptedError(`${email} has already accepted its invitation`)
      }
      const invitation = {
        invitation_token_hash: hash,
        invitation_expires_at: expiresAt,
        updated_at: now,
      }
      if (existing) {
        await trx('account_senders').where({ id: existing.id }).update(invitation)
        await rememberDeadLink(trx, existing.id, existing.invitation_token_hash, 'replaced', now)
      } else {
        await trx('account_senders').insert({
          account_id: accountId,
          email,
          status: 'pending',
          is_default: false,
          created_at: now,
          ...invitation,
        })
      }
      await bumpCacheVersion(trx, 'directory')
      const row = await trx('account_senders').where({ account_id: accountId, email }).first()
      return {
        sender: toSender(row),
        token,
        expiresAt,
        created: !existing,
        previous: previousOf(existing),
      }
    })
  } catch (err) {
    // Two admins inviting the same address at the same moment: the other one won.
    if (isUniqueViolation(err)) {
      throw new ValidationError(`${email} was invited at the same moment; reload the list`)
    }
    throw err
  }
}

/**
 * A new link for a pending sender of the account (the earlier one stops working, and says it was
 * replaced); null when there is none by that id.
 */
export async function resendInvitation(
  db: Db,
  accountId: number,
  senderId: number,
  ttlMs: number,
  now = Date.now(),
): Promise<InvitedSender | null> {
  const { token, hash } = newToken()
  const expiresAt = now + ttlMs
  return db.transaction(async (trx) => {
    const before = await trx('account_senders')
      .where({ id: senderId, account_id: accountId, status: 'pending' })
      .first()
    if (!before) return null
    const changed = await trx('account_senders')
      .where({ id: senderId, account_id: accountId, status: 'pending' })
      .update({ invitation_token_hash: hash, invitation_expires_at: expiresAt, updated_at: now })
    if (changed === 0) return null
    await rememberDeadLink(trx, senderId, before.invitation_token_hash, 'replaced', now)
    await bumpCacheVersion(trx, 'directory')
    const row = await trx('account_senders').where({ id: senderId }).first()
    return { sender: toSender(row), token, expiresAt, created: false, previous: previousOf(before) }
  })
}

/** A pending sender of the account, by id: whom a resend would write to; null otherwise. */
export async function findPendingSender(
  db: Db,
  accountId: number,
  senderId: number,
): Promise<Sender | null> {
  const row = await db('account_senders')
    .where({ id: senderId, account_id: accountId, status: 'pending' })
    .first()
  return row ? toSender(row) : null
}

/**
 * Puts back the link a new invitation replaced, when the mail with the new one could not be
 * sent: the link the person already has keeps working. Only while the new link is still the
 * current one, so that a newer invitation or an acceptance meanwhile is not undone.
 */
export async function restorePreviousInvitation(db: Db, invited: InvitedSender): Promise<void> {
  const previous = invited.previous
  if (!previous) return
  await db.transaction(async (trx) => {
    const changed = await trx('account_senders')
      .where({
        id: invited.sender.id,
        status: 'pending',
        invitation_token_hash: hashSecretToken(invited.token),
      })
      .update({
        invitation_token_hash: previous.tokenHash,
        invitation_expires_at: previous.expiresAt,
      })
    if (changed > 0 && previous.tokenHash) {
      await trx('sender_invitation_links').where({ token_hash: previous.tokenHash }).delete()
    }
  })
}

/**
 * What a link opens: 'valid' (the confirmation), 'expired', 'replaced' (a newer invitation was
 * sent to the same address, still pending), 'accepted' (the address is activated, by this link
 * or a newer one), 'invalid' (never issued, or its sender was deleted).
 */
export type InvitationState = 'valid' | 'expired' | 'replaced' | 'accepted' | 'invalid'

export interface InvitationLookup {
  state: InvitationState
  /** Set for every state but 'invalid'. */
  sender?: Sender
  account?: Account
  /** For 'valid' and 'expired': when this link stops (stopped) working. */
  expiresAt?: number
  /** For 'replaced': when the newer invitation replaced this link. */
  replacedAt?: number
}

async function accountOf(db: Db, row: Record<string, unknown>): Promise<Account> {
  return toAccount(await db('accounts').where({ id: row.account_id }).first())
}

/** A link that no longer opens the confirmation: why, from sender_invitation_links. */
async function findDeadLink(db: Db, tokenHash: string): Promise<InvitationLookup> {
  const dead = await db('sender_invitation_links').where({ token_hash: tokenHash }).first()
  if (!dead) return { state: 'invalid' }
  const row = await db('account_senders').where({ id: dead.sender_id }).first()
  if (!row) return { state: 'invalid' }
  const found = { sender: toSender(row), account: await accountOf(db, row) }
  // Whichever link was used, an activated address is what the person wants to know about.
  if (row.status === 'accepted') return { state: 'accepted', ...found }
  if (dead.outcome === 'replaced')
    return { state: 'replaced', replacedAt: Number(dead.at), ...found }
  return { state: 'invalid' }
}

export async function findInvitation(
  db: Db,
  token: string,
  now = Date.now(),
): Promise<InvitationLookup> {
  if (!isSecretTokenShape(token)) return { state: 'invalid' }
  const hash = hashSecretToken(token)
  const row = await db('account_senders').where({ invitation_token_hash: hash }).first()
  if (!row || row.status !== 'pending') return findDeadLink(db, hash)
  const expiresAt = Number(row.invitation_expires_at)
  return {
    state: expiresAt > now ? 'valid' : 'expired',
    sender: toSender(row),
    account: await accountOf(db, row),
    expiresAt,
  }
}

/**
 * Accepts the invitation: the sender may send from now on (the MX reloads within its refresh
 * delay). The token is cleared, so the link works once; it is remembered as used, so that it
 * opens the "activated" page afterwards. The account becomes the sender's default when the
 * address has no default account yet. Null when the link is not valid (any more): call
 * findInvitation to tell why.
 */
export async function acceptInvitation(
  db: Db,
  token: string,
  now = Date.now(),
): Promise<{ sender: Sender; account: Account } | null> {
  if (!isSecretTokenShape(token)) return null
  const hash = hashSecretToken(token)
  return db.transaction(async (trx) => {
    const row = await trx('account_senders')
      .where({ invitation_token_hash: hash, status: 'pending' })
      .andWhere('invitation_expires_at', '>', now)
      .first()
    if (!row) return null
    const hasDefault = await trx('account_senders')
      .where({ email: row.email, is_default: true })
      .first('id')
    const changed = await trx('account_senders')
      .where({ id: row.id, invitation_token_hash: hash, status: 'pending' })
      .update({
        status: 'accepted',
        accepted_at: now,
        invitation_token_hash: null,
        invitation_expires_at: null,
        is_default: !hasDefault,
        updated_at: now,
      })
    // Someone else accepted it between our read and our write.
    if (changed === 0) return null
    await rememberDeadLink(trx, row.id, hash, 'accepted', now)
    await bumpCacheVersion(trx, 'directory')
    const sender = toSender(await trx('account_senders').where({ id: row.id }).first())
    const account = toAccount(await trx('accounts').where({ id: row.account_id }).first())
    return { sender, account }
  })
}

/** Removes a sender of this account only; null when the account has no sender by that id. */
export async function deleteSender(
  db: Db,
  accountId: number,
  senderId: number,
): Promise<Sender | null> {
  return db.transaction(async (trx) => {
    const row = await trx('account_senders').where({ id: senderId, account_id: accountId }).first()
    if (!row) return null
    const n = await trx('account_senders').where({ id: senderId, account_id: accountId }).delete()
    if (n === 0) return null
    await bumpCacheVersion(trx, 'directory')
    return toSender(row)
  })
}

export interface SenderListing {
  id: number
  email: string
  status: SenderStatus
  isDefault: boolean
  invitedAt: number
  acceptedAt: number | null
  /** For pending senders: when the current link stops working. */
  expiresAt: number | null
}

/** The account's senders with their dates, for the "Utilisateurs" page. */
export async function listSenderInvitations(db: Db, accountId: number): Promise<SenderListing[]> {
  const rows = await db('account_senders').where({ account_id: accountId }).orderBy('email')
  return rows.map((row: Record<string, unknown>) => ({
    ...toSender(row),
    invitedAt: Number(row.created_at),
    acceptedAt: row.accepted_at == null ? null : Number(row.accepted_at),
    expiresAt: row.invitation_expires_at == null ? null : Number(row.invitation_expires_at),
  }))
}
