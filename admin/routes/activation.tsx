import { Hono, type Context } from 'hono'
import type { AdminEnv } from '../env'
import { defineMessages } from '../i18n'
import { howToLines } from '../pages/invitation-mail'
import { formatDateTime } from '../components/form'
import { acceptInvitation, findInvitation } from '../../lib/db/invitations'
import type { Account } from '../../lib/db/accounts'
import type { Sender } from '../../lib/db/senders'

const t = defineMessages(
  {
    title: 'Activer votre adresse',
    confirmText: (email: string, account: string) =>
      `Confirmez que ${email} pourra envoyer des SMS par e-mail avec le compte « ${account} ».`,
    validUntil: (when: string) => `Ce lien est valable jusqu’au ${when}.`,
    confirm: 'Confirmer',
    doneTitle: 'Adresse activée',
    done: (email: string, account: string) =>
      `C’est fait : ${email} peut maintenant envoyer des SMS avec le compte « ${account} ».`,
    soon: 'Votre adresse est prise en compte dans quelques secondes.',
    expiredTitle: 'Lien expiré',
    expired:
      'Ce lien d’invitation a expiré. Demandez à l’administrateur de votre compte de vous envoyer une nouvelle invitation.',
    replacedTitle: 'Lien remplacé',
    replaced: (email: string, when: string) =>
      `Une invitation plus récente a été envoyée à ${email} le ${when} : ce lien-ci ne fonctionne plus.`,
    replacedHelp: (account: string) =>
      `Utilisez le lien du dernier e-mail d’invitation reçu pour le compte « ${account} ». S’il a expiré ou si vous ne le trouvez pas, demandez une nouvelle invitation à l’administrateur de votre compte.`,
    usedTitle: 'Lien non valable',
    used: 'Ce lien a déjà été utilisé ou n’est pas valable. Si votre adresse est déjà activée, vous pouvez envoyer des SMS ; sinon, demandez une nouvelle invitation à l’administrateur de votre compte.',
  },
  {
    title: 'Activate your address',
    confirmText: (email: string, account: string) =>
      `Confirm that ${email} may send SMS by email with the account "${account}".`,
    validUntil: (when: string) => `This link is valid until ${when}.`,
    confirm: 'Confirm',
    doneTitle: 'Address activated',
    done: (email: string, account: string) =>
      `Done: ${email} can now send SMS with the account "${account}".`,
    soon: 'Your address takes effect within a few seconds.',
    expiredTitle: 'Link expired',
    expired:
      'This invitation link has expired. Ask your account’s administrator to send you a new invitation.',
    replacedTitle: 'Link replaced',
    replaced: (email: string, when: string) =>
      `A newer invitation was sent to ${email} on ${when}: this link no longer works.`,
    replacedHelp: (account: string) =>
      `Use the link in the latest invitation email you received for the account "${account}". If it has expired or you cannot find it, ask your account’s administrator for a new invitation.`,
    usedTitle: 'Link not valid',
    used: 'This link has already been used or is not valid. If your address is already activated you can send SMS; otherwise ask your account’s administrator for a new invitation.',
  },
)

function expiredPage(c: Context<AdminEnv>) {
  const m = t(c.get('lang'))
  c.status(410)
  return c.render(<p class="message">{m.expired}</p>, { title: m.expiredTitle })
}

/** A link replaced by a newer invitation: say so, and where the working link is. */
function replacedPage(c: Context<AdminEnv>, email: string, account: Account, replacedAt: number) {
  const lang = c.get('lang')
  const m = t(lang)
  c.status(410)
  return c.render(
    <div class="message">
      <p>{m.replaced(email, formatDateTime(replacedAt, lang))}</p>
      <p>{m.replacedHelp(account.name)}</p>
    </div>,
    { title: m.replacedTitle },
  )
}

function usedPage(c: Context<AdminEnv>) {
  const m = t(c.get('lang'))
  c.status(404)
  return c.render(<p class="message">{m.used}</p>, { title: m.usedTitle })
}

function HowTo(props: { c: Context<AdminEnv>; email: string; account: Account }) {
  const { c, email, account } = props
  const lines = howToLines(c.get('lang'), {
    email,
    accountName: account.name,
    accountRef: account.ref,
    defaultCountry: account.defaultCountry,
    smsDomain: c.get('deps').smsDomains[0],
  })
  return (
    <ul class="how-to">
      {lines.map((line) => (
        <li>{line}</li>
      ))}
    </ul>
  )
}

/** The address is activated: after the confirmation, and whenever its link is opened again. */
function activatedPage(c: Context<AdminEnv>, sender: Sender, account: Account) {
  const m = t(c.get('lang'))
  return c.render(
    <div class="message">
      <p role="status">{m.done(sender.email, account.name)}</p>
      <HowTo c={c} email={sender.email} account={account} />
      <p class="hint">{m.soon}</p>
    </div>,
    { title: m.doneTitle },
  )
}

/**
 * The link from the invitation mail. Opening it changes nothing (mail scanners follow links);
 * the "Confirmer" button does. The page says what the link is now: to confirm, activated,
 * expired, replaced by a newer invitation, or not valid.
 */
export const activationRoutes = new Hono<AdminEnv>()

activationRoutes.get('/:token', async (c) => {
  const { db, clock } = c.get('deps')
  const lang = c.get('lang')
  const m = t(lang)
  const token = c.req.param('token')
  const found = await findInvitation(db, token, clock())
  if (!found.sender || !found.account) return usedPage(c)
  switch (found.state) {
    case 'expired':
      return expiredPage(c)
    case 'accepted':
      return activatedPage(c, found.sender, found.account)
    case 'replaced':
      return replacedPage(c, found.sender.email, found.account, found.replacedAt ?? clock())
    case 'valid':
      break
    default:
      return usedPage(c)
  }
  return c.render(
    <div class="message">
      <p>{m.confirmText(found.sender.email, found.account.name)}</p>
      <p class="hint">
        {m.validUntil(formatDateTime(found.expiresAt, lang, found.account.timeZone))}
      </p>
      <HowTo c={c} email={found.sender.email} account={found.account} />
      <form method="post" action={`/activate/${encodeURIComponent(token)}`}>
        <button type="submit" class="primary">
          {m.confirm}
        </button>
      </form>
    </div>,
    { title: m.title },
  )
})

/**
 * "Confirmer": accepts, then redirects to the link's own page (post, redirect, get), which now
 * says the address is activated; a reload shows that again rather than posting once more. A
 * link that cannot be accepted (expired, replaced…) is redirected the same way to its page.
 */
activationRoutes.post('/:token', async (c) => {
  const { db, clock } = c.get('deps')
  const token = c.req.param('token')
  await acceptInvitation(db, token, clock())
  return c.redirect(`/activate/${encodeURIComponent(token)}`, 303)
})
