import { Hono, type Context } from 'hono'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath } from '../account'
import { parseId } from '../ids'
import { setFlash } from '../flash'
import { Field, PostButton, formatDateTime } from '../components/form'
import { ConfirmAction, ConfirmFirstButton, isConfirmed } from '../components/confirm'
import { invitationMail } from '../pages/invitation-mail'
import { findAccountByRef, ValidationError } from '../../lib/db/accounts'
import { findSender, normaliseEmail, type Sender } from '../../lib/db/senders'
import {
  deleteSender,
  findPendingSender,
  inviteAccountKey,
  inviteAddressKey,
  inviteSender,
  listSenderInvitations,
  resendInvitation,
  restorePreviousInvitation,
  SenderAlreadyAcceptedError,
  type InvitedSender,
  type SenderListing,
} from '../../lib/db/invitations'
import { giveBackQuota, takeQuota, type Quota } from '../../lib/db/usage-counters'
import { hashSecretToken } from '../../lib/auth/tokens'
import { auditedChange, type AuditChange } from '../audit'

const t = defineMessages(
  {
    title: 'Utilisateurs',
    intro:
      'Les adresses e-mail qui peuvent envoyer des SMS avec ce compte. Chaque nouvelle adresse reçoit un e-mail pour confirmer ; en attendant elle est « En attente ».',
    email: 'Email',
    status: 'Statut',
    invited: 'Invité le',
    accepted: 'Accepté le',
    actions: 'Actions',
    pending: 'En attente',
    acceptedStatus: 'Utilisateur accepté',
    expires: (when: string) => `lien valable jusqu’au ${when}`,
    expired: 'lien expiré',
    resend: 'Renvoyer',
    resendLabel: (email: string) => `Renvoyer l’invitation à ${email}`,
    remove: 'Effacer',
    removeLabel: (email: string) => `Effacer ${email}`,
    none: 'Aucun utilisateur pour l’instant.',
    addTitle: 'Ajouter un nouvel utilisateur',
    add: 'Ajouter',
    badEmail: 'Saisissez une adresse e-mail valide, par exemple prenom.nom@exemple.fr.',
    alreadyAccepted: (email: string) => `${email} est déjà un utilisateur accepté de ce compte.`,
    invitedOk: (email: string) => `Invitation envoyée à ${email}.`,
    reinvitedOk: (email: string) =>
      `${email} était en attente : une nouvelle invitation est partie. Le lien de l’invitation précédente ne fonctionne plus ; seul celui du nouvel e-mail est valable.`,
    resentOk: (email: string) =>
      `Invitation renvoyée à ${email}. Le lien de l’invitation précédente ne fonctionne plus ; seul celui du nouvel e-mail est valable.`,
    mailFailed: (email: string) =>
      `${email} est ajouté, mais l’e-mail d’invitation n’a pas pu partir. Réessayez avec « Renvoyer ».`,
    resendFailed: (email: string, earlierWorks: boolean) =>
      `L’e-mail d’invitation à ${email} n’a pas pu partir${earlierWorks ? ' : le lien de l’invitation précédente reste valable' : ''}. Réessayez avec « Renvoyer ».`,
    removed: (email: string) => `${email} a été effacé.`,
    confirmTitle: 'Effacer un utilisateur',
    confirmWhat: (email: string, account: string) =>
      `Effacer l’utilisateur ${email} du compte « ${account} » ?`,
    confirmAccepted: (email: string) =>
      `${email} ne pourra plus envoyer de SMS avec ce compte. Pour le lui permettre ensuite, il faudra l’inviter de nouveau.`,
    confirmPending: (email: string) =>
      `L’invitation envoyée à ${email} ne fonctionnera plus : son lien dira qu’il n’est pas valable.`,
    race: 'Cette adresse vient d’être ajoutée par quelqu’un d’autre ; rechargez la liste.',
    tooManyToAddress: (email: string, max: number, when: string) =>
      `${email} a déjà reçu ${max} invitation${max > 1 ? 's' : ''} récemment : aucun e-mail n’est parti et le lien actuel reste valable. Vous pourrez réessayer à partir du ${when}.`,
    tooManyForAccount: (max: number, when: string) =>
      `Ce compte a déjà envoyé ${max} invitation${max > 1 ? 's' : ''} récemment : aucun e-mail n’est parti. Vous pourrez réessayer à partir du ${when}.`,
  },
  {
    title: 'Users',
    intro:
      'The email addresses that may send SMS with this account. Each new address gets an email to confirm; until then it is "Pending".',
    email: 'Email',
    status: 'Status',
    invited: 'Invited',
    accepted: 'Accepted',
    actions: 'Actions',
    pending: 'Pending',
    acceptedStatus: 'Accepted',
    expires: (when: string) => `link valid until ${when}`,
    expired: 'link expired',
    resend: 'Resend',
    resendLabel: (email: string) => `Resend the invitation to ${email}`,
    remove: 'Delete',
    removeLabel: (email: string) => `Delete ${email}`,
    none: 'No users yet.',
    addTitle: 'Add a new user',
    add: 'Add',
    badEmail: 'Enter a valid email address, for example first.last@example.com.',
    alreadyAccepted: (email: string) => `${email} is already an accepted user of this account.`,
    invitedOk: (email: string) => `Invitation sent to ${email}.`,
    reinvitedOk: (email: string) =>
      `${email} was pending: a new invitation has been sent. The link in the earlier invitation no longer works; only the link in the new email does.`,
    resentOk: (email: string) =>
      `Invitation sent again to ${email}. The link in the earlier invitation no longer works; only the link in the new email does.`,
    mailFailed: (email: string) =>
      `${email} was added, but the invitation email could not be sent. Try again with "Resend".`,
    resendFailed: (email: string, earlierWorks: boolean) =>
      `The invitation email to ${email} could not be sent${earlierWorks ? ': the link in the earlier invitation still works' : ''}. Try again with "Resend".`,
    removed: (email: string) => `${email} has been deleted.`,
    confirmTitle: 'Delete a user',
    confirmWhat: (email: string, account: string) =>
      `Delete the user ${email} from the account "${account}"?`,
    confirmAccepted: (email: string) =>
      `${email} will no longer be able to send SMS with this account. To allow it later, you will have to invite it again.`,
    confirmPending: (email: string) =>
      `The invitation sent to ${email} will stop working: its link will say it is not valid.`,
    race: 'This address was just added by someone else; reload the list.',
    tooManyToAddress: (email: string, max: number, when: string) =>
      `${email} has already been sent ${max} invitation${max > 1 ? 's' : ''} recently: no email was sent and the current link still works. You can try again from ${when}.`,
    tooManyForAccount: (max: number, when: string) =>
      `This account has already sent ${max} invitation${max > 1 ? 's' : ''} recently: no email was sent. You can try again from ${when}.`,
  },
)

function SenderRow(props: {
  s: SenderListing
  lang: Lang
  zone: string
  now: number
  base: string
}) {
  const { s, lang, zone, now, base } = props
  const m = t(lang)
  const pending = s.status === 'pending'
  return (
    <tr>
      <td class="wrap-anywhere full" data-label={m.email}>
        {s.email}
      </td>
      <td data-label={m.status}>
        <span class={`status status-${s.status}`}>{pending ? m.pending : m.acceptedStatus}</span>
        {pending && s.expiresAt !== null && (
          <div class="hint">
            {s.expiresAt > now ? m.expires(formatDateTime(s.expiresAt, lang, zone)) : m.expired}
          </div>
        )}
      </td>
      <td data-label={m.invited}>{formatDateTime(s.invitedAt, lang, zone)}</td>
      <td data-label={m.accepted}>{formatDateTime(s.acceptedAt, lang, zone)}</td>
      <td class="actions full">
        {pending && (
          <PostButton action={`${base}/${s.id}/resend`} label={m.resendLabel(s.email)}>
            {m.resend}
          </PostButton>
        )}
        <ConfirmFirstButton href={`${base}/${s.id}/delete`} label={m.removeLabel(s.email)} danger>
          {m.remove}
        </ConfirmFirstButton>
      </td>
    </tr>
  )
}

async function usersPage(c: Context<AdminEnv>, form: { email?: string; error?: string } = {}) {
  const { db, clock } = c.get('deps')
  const lang = c.get('lang')
  const m = t(lang)
  const account = c.get('account')
  const base = accountPath(c, 'users')
  const senders = await listSenderInvitations(db, account.id)
  const now = clock()
  return c.render(
    <>
      <p>{m.intro}</p>
      {senders.length === 0 ? (
        <p class="empty">{m.none}</p>
      ) : (
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">{m.email}</th>
              <th scope="col">{m.status}</th>
              <th scope="col">{m.invited}</th>
              <th scope="col">{m.accepted}</th>
              <th scope="col">{m.actions}</th>
            </tr>
          </thead>
          <tbody>
            {senders.map((s) => (
              <SenderRow s={s} lang={lang} zone={account.timeZone} now={now} base={base} />
            ))}
          </tbody>
        </table>
      )}
      <form method="post" action={base} class="card" aria-labelledby="add-user-title">
        <h2 id="add-user-title">{m.addTitle}</h2>
        <Field
          name="email"
          type="email"
          label={m.email}
          value={form.email}
          error={form.error}
          required
          autocomplete="off"
          maxlength={254}
        />
        <button type="submit" class="primary">
          {m.add}
        </button>
      </form>
    </>,
    { title: m.title, section: 'users' },
  )
}

/** Sends the invitation in the inviting admin's language; false (and logged) when it fails. */
async function sendInvitation(c: Context<AdminEnv>, invited: InvitedSender): Promise<boolean> {
  const { db, mailer, config, smsDomains, log } = c.get('deps')
  const admin = c.get('admin')
  const account = await findAccountByRef(db, c.get('account').ref)
  if (!account) throw new Error(`account ${c.get('account').ref} vanished during an invitation`)
  const mail = invitationMail(c.get('lang'), {
    email: invited.sender.email,
    accountName: account.name,
    accountRef: account.ref,
    defaultCountry: account.defaultCountry,
    smsDomain: smsDomains[0],
    inviter: admin.name ? `${admin.name} (${admin.email})` : admin.email,
    link: `${config.baseUrl}/activate/${invited.token}`,
    expiresAt: invited.expiresAt,
    timeZone: account.timeZone,
  })
  try {
    await mailer.send(mail)
    return true
  } catch (err) {
    ;(log ?? console.error)(
      `invitation mail to=${invited.sender.email} account=${account.ref} failed: ${(err as Error).message}`,
    )
    return false
  }
}

/**
 * The two mail quotas an invitation to `email` uses: per invited address, so that nobody's
 * mailbox can be flooded from the admin, and per account, so that one account cannot send
 * mail without end. Counted in the database: every admin node shares them.
 */
function invitationQuotas(c: Context<AdminEnv>, email: string): Quota[] {
  const { config } = c.get('deps')
  const windowMs = config.invitationMailWindowMinutes * 60_000
  return [
    { key: inviteAddressKey(email), max: config.invitationMailsPerAddress, windowMs },
    {
      key: inviteAccountKey(c.get('account').id),
      max: config.invitationMailsPerAccount,
      windowMs,
    },
  ]
}

/** Null when the mail may go; otherwise the message saying why not and from when it may. */
async function takeInvitationQuota(c: Context<AdminEnv>, email: string): Promise<string | null> {
  const { db, clock, config } = c.get('deps')
  const m = t(c.get('lang'))
  const quotas = invitationQuotas(c, email)
  const refused = await takeQuota(db, quotas, clock())
  if (!refused) return null
  c.header('Retry-After', String(Math.max(1, Math.ceil((refused.until - clock()) / 1000))))
  const when = formatDateTime(refused.until, c.get('lang'), c.get('account').timeZone)
  return refused.keys.includes(quotas[0].key)
    ? m.tooManyToAddress(email, config.invitationMailsPerAddress, when)
    : m.tooManyForAccount(config.invitationMailsPerAccount, when)
}

/** Whether the link a new invitation replaced still works once put back (it may have expired). */
function earlierLinkWorks(c: Context<AdminEnv>, invited: InvitedSender): boolean {
  const previous = invited.previous
  return Boolean(previous?.tokenHash && (previous.expiresAt ?? 0) > c.get('deps').clock())
}

/**
 * The flash after an invitation: what was sent and, for an address that already had a link,
 * that the earlier link stopped working (or, when the mail did not leave, still works).
 */
async function flashInvitation(
  c: Context<AdminEnv>,
  invited: InvitedSender,
  sent: boolean,
  how: 'added' | 'resent',
): Promise<void> {
  const m = t(c.get('lang'))
  const email = invited.sender.email
  if (invited.created) {
    await setFlash(c, sent ? 'ok' : 'error', sent ? m.invitedOk(email) : m.mailFailed(email))
  } else if (sent) {
    await setFlash(c, 'ok', how === 'added' ? m.reinvitedOk(email) : m.resentOk(email))
  } else {
    await setFlash(c, 'error', m.resendFailed(email, earlierLinkWorks(c, invited)))
  }
}

/**
 * Sends the invitation; when the mail does not leave, gives back its quota and, for an address
 * that already had a link, puts that link back so that it keeps working.
 */
async function deliverInvitation(
  c: Context<AdminEnv>,
  invited: InvitedSender,
  quotas: Quota[],
): Promise<boolean> {
  const { db, clock } = c.get('deps')
  const sent = await sendInvitation(c, invited)
  if (!sent) {
    await auditedChange(
      c,
      (trx) => restorePreviousInvitation(trx, invited),
      (restored) => restored && linkAudit('user.invitation_restore', invited, 'restored'),
    )
    await giveBackQuota(db, quotas, clock())
  }
  return sent
}

const isoTime = (ms: number | null | undefined) => (ms == null ? null : new Date(ms).toISOString())

/**
 * The audit entry of a pending user's link changing: a new one replacing the earlier one (which
 * stops working), or, when its mail could not leave, the earlier one put back. The links are
 * secrets: only their hashes are given, and the log keeps only that they changed.
 */
function linkAudit(
  action: string,
  invited: InvitedSender,
  direction: 'replaced' | 'restored',
): AuditChange {
  const earlier = {
    invitationExpiresAt: isoTime(invited.previous?.expiresAt),
    invitationToken: invited.previous?.tokenHash ?? null,
  }
  const current = {
    invitationExpiresAt: isoTime(invited.expiresAt),
    invitationToken: hashSecretToken(invited.token),
  }
  const [before, after] = direction === 'replaced' ? [earlier, current] : [current, earlier]
  return { action, subject: invited.sender.email, before, after }
}

/** The audit entry of an invitation: a new user, or a pending one given a new link. */
function invitationAudit(invited: InvitedSender): AuditChange {
  if (!invited.created) return linkAudit('user.resend', invited, 'replaced')
  const { email } = invited.sender
  return {
    action: 'user.invite',
    subject: email,
    after: { email, accepted: false, invitationExpiresAt: isoTime(invited.expiresAt) },
  }
}

/** A sender id from the URL, within this account only; anything else is the 404 page. */
function senderIdOf(c: Context<AdminEnv>): number | null {
  return parseId(c.req.param('senderId'))
}

export const usersRoutes = new Hono<AdminEnv>()

usersRoutes.get('/', (c) => usersPage(c))

usersRoutes.post('/', async (c) => {
  const { db, clock, config } = c.get('deps')
  const m = t(c.get('lang'))
  const body = await c.req.parseBody()
  const typed = String(body.email ?? '').slice(0, 500)
  let email: string
  try {
    email = normaliseEmail(typed)
  } catch {
    c.status(400)
    return usersPage(c, { email: typed, error: m.badEmail })
  }
  const tooMany = await takeInvitationQuota(c, email)
  if (tooMany) {
    c.status(429)
    return usersPage(c, { email: typed, error: tooMany })
  }
  const quotas = invitationQuotas(c, email)
  let invited: InvitedSender
  try {
    invited = await auditedChange(
      c,
      (trx) =>
        inviteSender(
          trx,
          c.get('account').id,
          email,
          config.invitationTtlHours * 3_600_000,
          clock(),
        ),
      invitationAudit,
    )
  } catch (err) {
    // No mail goes: the quota is given back.
    await giveBackQuota(db, quotas, clock())
    if (!(err instanceof ValidationError)) throw err
    c.status(400)
    const error = err instanceof SenderAlreadyAcceptedError ? m.alreadyAccepted(email) : m.race
    return usersPage(c, { email: typed, error })
  }
  const sent = await deliverInvitation(c, invited, quotas)
  await flashInvitation(c, invited, sent, 'added')
  return c.redirect(accountPath(c, 'users'), 303)
})

usersRoutes.post('/:senderId/resend', async (c) => {
  const { db, clock, config } = c.get('deps')
  const id = senderIdOf(c)
  const accountId = c.get('account').id
  const pending = id === null ? null : await findPendingSender(db, accountId, id)
  if (id === null || !pending) return c.notFound()
  const tooMany = await takeInvitationQuota(c, pending.email)
  if (tooMany) {
    // Shown on the list itself, without a redirect, so that the answer can be a 429.
    c.set('flash', { kind: 'error', text: tooMany })
    c.status(429)
    return usersPage(c)
  }
  const quotas = invitationQuotas(c, pending.email)
  const ttlMs = config.invitationTtlHours * 3_600_000
  const invited = await auditedChange(
    c,
    (trx) => resendInvitation(trx, accountId, id, ttlMs, clock()),
    (resent) => resent && linkAudit('user.resend', resent, 'replaced'),
  )
  if (!invited) {
    await giveBackQuota(db, quotas, clock())
    return c.notFound()
  }
  const sent = await deliverInvitation(c, invited, quotas)
  await flashInvitation(c, invited, sent, 'resent')
  return c.redirect(accountPath(c, 'users'), 303)
})

/** The sender the URL names, within this account only; null is the 404 page. */
async function senderOfPath(c: Context<AdminEnv>): Promise<Sender | null> {
  const id = senderIdOf(c)
  return id === null ? null : findSender(c.get('deps').db, c.get('account').id, id)
}

/** "Effacer" leads here first: the page says who goes, from which account, and asks. */
usersRoutes.get('/:senderId/delete', async (c) => {
  const sender = await senderOfPath(c)
  if (!sender) return c.notFound()
  const lang = c.get('lang')
  const m = t(lang)
  const base = accountPath(c, 'users')
  const page = (
    <ConfirmAction
      lang={lang}
      what={m.confirmWhat(sender.email, c.get('account').name)}
      consequence={
        sender.status === 'accepted'
          ? m.confirmAccepted(sender.email)
          : m.confirmPending(sender.email)
      }
      action={`${base}/${sender.id}/delete`}
      cancel={base}
    />
  )
  return c.render(page, { title: m.confirmTitle, section: 'users' })
})

usersRoutes.post('/:senderId/delete', async (c) => {
  const m = t(c.get('lang'))
  const sender = await senderOfPath(c)
  if (!sender) return c.notFound()
  const base = accountPath(c, 'users')
  // Not through the confirmation page: ask there, delete nothing.
  if (!isConfirmed(await c.req.parseBody())) return c.redirect(`${base}/${sender.id}/delete`, 303)
  const removed = await auditedChange(
    c,
    (trx) => deleteSender(trx, c.get('account').id, sender.id),
    (s) =>
      s && {
        action: 'user.delete',
        subject: s.email,
        before: { email: s.email, accepted: s.status === 'accepted' },
      },
  )
  if (!removed) return c.notFound()
  await setFlash(c, 'ok', m.removed(removed.email))
  return c.redirect(base, 303)
})
