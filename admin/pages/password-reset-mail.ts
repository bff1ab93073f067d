import type { Lang } from '../env'
import type { OutgoingMail } from '../../lib/mail/mailer'
import type { HelpContact } from '../../lib/config'
import { defineMessages } from '../i18n'
import { formatDateTime } from '../components/form'
import { formatInternational } from '../../lib/phone'

const t = defineMessages(
  {
    subject: 'Réinitialisation de votre mot de passe Mail2SMS',
    hello: 'Bonjour,',
    asked: (email: string) =>
      `Quelqu’un, sans doute vous, a demandé à choisir un nouveau mot de passe pour l’identifiant ${email} de l’administration Mail2SMS.`,
    open: 'Pour le choisir, ouvrez ce lien :',
    expires: (when: string) =>
      `Ce lien ne sert qu’une fois et reste valable jusqu’au ${when}. Une nouvelle demande le remplace.`,
    unexpected:
      'Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe actuel reste valable.',
    changedSubject: 'Votre mot de passe Mail2SMS a été changé',
    changed: (email: string, when: string) =>
      `Le mot de passe de l’identifiant ${email} a été changé le ${when} avec un lien de réinitialisation. Toutes les sessions ouvertes avec cet identifiant ont été fermées.`,
    notYou: (contact: string) =>
      contact
        ? `Si vous n’êtes pas à l’origine de ce changement, contactez sans attendre l’opérateur du service : ${contact}.`
        : 'Si vous n’êtes pas à l’origine de ce changement, contactez sans attendre l’opérateur du service.',
  },
  {
    subject: 'Resetting your Mail2SMS password',
    hello: 'Hello,',
    asked: (email: string) =>
      `Someone, probably you, asked to choose a new password for the Mail2SMS admin login ${email}.`,
    open: 'To choose it, open this link:',
    expires: (when: string) =>
      `This link works once and stays valid until ${when}. A new request replaces it.`,
    unexpected:
      'If you did not ask for this, ignore this message: your current password stays valid.',
    changedSubject: 'Your Mail2SMS password has been changed',
    changed: (email: string, when: string) =>
      `The password of the login ${email} was changed on ${when} with a reset link. Every session open with this login has been ended.`,
    notYou: (contact: string) =>
      contact
        ? `If you did not make this change, contact the service’s operator at once: ${contact}.`
        : 'If you did not make this change, contact the service’s operator at once.',
  },
)

/** The mail with the link that lets the admin choose a new password, in the asker's language. */
export function passwordResetMail(
  lang: Lang,
  facts: { email: string; link: string; expiresAt: number },
): OutgoingMail {
  const m = t(lang)
  const paragraphs = [
    m.hello,
    m.asked(facts.email),
    `${m.open}\n${facts.link}`,
    m.expires(formatDateTime(facts.expiresAt, lang)),
    m.unexpected,
  ]
  return { to: facts.email, subject: m.subject, text: `${paragraphs.join('\n\n')}\n` }
}

/** The operator's contact as one line of text, or '' when none is configured. */
function contactText(help: HelpContact | undefined): string {
  if (!help) return ''
  return [help.email, help.phone && formatInternational(help.phone), help.url]
    .filter(Boolean)
    .join(', ')
}

/** Sent once the password has been changed through a link, so an intruder cannot do it unseen. */
export function passwordChangedMail(
  lang: Lang,
  facts: { email: string; changedAt: number; help?: HelpContact },
): OutgoingMail {
  const m = t(lang)
  const paragraphs = [
    m.hello,
    m.changed(facts.email, formatDateTime(facts.changedAt, lang)),
    m.notYou(contactText(facts.help)),
  ]
  return { to: facts.email, subject: m.changedSubject, text: `${paragraphs.join('\n\n')}\n` }
}
