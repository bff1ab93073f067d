import { Hono, type Context } from 'hono'
import type { AdminEnv } from '../env'
import { defineMessages } from '../i18n'
import { howToLines } from '../pages/invitation-mail'
import { formatDateTime } from '../components/form'
import { acceptInvitation, findInvitation } from '../../lib/db/invitations'
import type { Account } from '../../lib/db/accounts'

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
    usedTitle: 'Link not valid',
    used: 'This link has already been used or is not valid. If your address is already activated you can send SMS; otherwise ask your account’s administrator for a new invitation.',
  },
)

function expiredPage(c: Context<AdminEnv>) {
  const m = t(c.get('lang'))
  c.status(410)
  return c.render(<p class="message">{m.expired}</p>, { title: m.expiredTitle })
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

/**
 * The link from the invitation mail. Opening it changes nothing (mail scanners follow links);
 * the "Confirmer" button does.
 */
export const activationRoutes = new Hono<AdminEnv>()

activationRoutes.get('/:token', async (c) => {
  const { db, clock } = c.get('deps')
  const lang = c.get('lang')
  const m = t(lang)
  const token = c.req.param('token')
  const found = await findInvitation(db, token, clock())
  if (found.state === 'expired') return expiredPage(c)
  if (found.state !== 'valid' || !found.sender || !found.account) return usedPage(c)
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

activationRoutes.post('/:token', async (c) => {
  const { db, clock } = c.get('deps')
  const m = t(c.get('lang'))
  const token = c.req.param('token')
  const now = clock()
  const accepted = await acceptInvitation(db, token, now)
  if (!accepted) {
    const found = await findInvitation(db, token, now)
    return found.state === 'expired' ? expiredPage(c) : usedPage(c)
  }
  return c.render(
    <div class="message">
      <p role="status">{m.done(accepted.sender.email, accepted.account.name)}</p>
      <HowTo c={c} email={accepted.sender.email} account={accepted.account} />
      <p class="hint">{m.soon}</p>
    </div>,
    { title: m.doneTitle },
  )
})
