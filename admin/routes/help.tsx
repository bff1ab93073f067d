import { Hono } from 'hono'
import type { AdminEnv } from '../env'
import { defineMessages } from '../i18n'
import type { HelpContact } from '../../lib/config'
import { formatInternational } from '../../lib/phone'

const t = defineMessages(
  {
    title: 'Aide',
    contactIntro:
      'Pour toute question sur ce service (votre identifiant, votre compte, son numéro virtuel, l’envoi ou la réception des SMS), contactez son opérateur :',
    email: 'E-mail',
    phone: 'Téléphone',
    url: 'Site d’assistance',
    noContact:
      'L’opérateur de ce service n’a pas indiqué de contact ici. Adressez-vous à la personne qui vous a donné votre identifiant ou qui vous a invité à envoyer des SMS, ou au service informatique de votre organisation.',
    sendingTitle: 'Envoyer un SMS par e-mail',
    sending: (domain: string) =>
      `Écrivez un e-mail depuis une adresse invitée par l’administrateur de votre compte à <numéro>@${domain}. Le texte de l’e-mail devient le SMS.`,
    loginTitle: 'Connexion',
    forgotten: 'Mot de passe oublié ?',
    forgottenText: 'Recevez par e-mail un lien pour en choisir un nouveau :',
  },
  {
    title: 'Help',
    contactIntro:
      'For any question about this service (your login, your account, its virtual number, sending or receiving SMS), contact its operator:',
    email: 'Email',
    phone: 'Phone',
    url: 'Support site',
    noContact:
      'The operator of this service has not given a contact here. Ask the person who gave you your login or invited you to send SMS, or your organisation’s IT department.',
    sendingTitle: 'Sending an SMS by email',
    sending: (domain: string) =>
      `Write an email from an address invited by your account’s administrator to <number>@${domain}. The text of the email becomes the SMS.`,
    loginTitle: 'Logging in',
    forgotten: 'Forgot your password?',
    forgottenText: 'Get a link by email to choose a new one:',
  },
)

type Labels = ReturnType<typeof t>

function hasContact(help: HelpContact | undefined): help is HelpContact {
  return Boolean(help && (help.email || help.phone || help.url))
}

function Contact(props: { l: Labels; help: HelpContact | undefined }) {
  const { l, help } = props
  if (!hasContact(help)) return <p>{l.noContact}</p>
  return (
    <>
      <p>{l.contactIntro}</p>
      <dl class="facts">
        {help.email && (
          <>
            <dt>{l.email}</dt>
            <dd>
              <a href={`mailto:${help.email}`}>{help.email}</a>
            </dd>
          </>
        )}
        {help.phone && (
          <>
            <dt>{l.phone}</dt>
            <dd>
              <a href={`tel:${help.phone}`}>{formatInternational(help.phone)}</a>
            </dd>
          </>
        )}
        {help.url && (
          <>
            <dt>{l.url}</dt>
            <dd>
              <a href={help.url} rel="noopener noreferrer">
                {help.url}
              </a>
            </dd>
          </>
        )}
      </dl>
    </>
  )
}

/** "Aide": whom to ask, from `[admin] help_*`. Public, so that someone who cannot log in finds it. */
export const helpRoutes = new Hono<AdminEnv>()

helpRoutes.get('/', (c) => {
  const { config, smsDomains } = c.get('deps')
  const l = t(c.get('lang'))
  return c.render(
    <>
      <section class="help-contact">
        <Contact l={l} help={config.help} />
      </section>
      <section aria-labelledby="help-sending">
        <h2 id="help-sending">{l.sendingTitle}</h2>
        <p>{l.sending(smsDomains[0])}</p>
      </section>
      <section aria-labelledby="help-login">
        <h2 id="help-login">{l.loginTitle}</h2>
        <p>
          {l.forgottenText} <a href="/password-reset">{l.forgotten}</a>
        </p>
      </section>
    </>,
    { title: l.title },
  )
})
