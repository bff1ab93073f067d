import type { Lang } from '../env'
import type { OutgoingMail } from '../../lib/mail/mailer'
import { defineMessages } from '../i18n'
import { formatDateTime } from '../components/form'

export interface HowToFacts {
  email: string
  accountName: string
  accountRef: string
  defaultCountry: string
  smsDomain: string
}

/** A national number as people write it at home; only where we know the format. */
const EXAMPLE_NUMBERS: Record<string, string> = {
  FR: '0612345678',
  BE: '0470123456',
  CH: '0781234567',
  GB: '07700900123',
}

const t = defineMessages(
  {
    subject: (account: string) => `Invitation à envoyer des SMS par e-mail – ${account}`,
    hello: 'Bonjour,',
    invited: (inviter: string, email: string, account: string) =>
      `${inviter} vous invite à envoyer des SMS depuis votre adresse ${email} avec le compte « ${account} ».`,
    open: 'Pour accepter, ouvrez ce lien puis cliquez sur « Confirmer » :',
    expires: (when: string, inviter: string) =>
      `Ce lien est valable jusqu’au ${when}. Passé ce délai, demandez une nouvelle invitation à ${inviter}.`,
    howTo: (email: string, domain: string) =>
      `Pour envoyer un SMS, écrivez un e-mail depuis ${email} à l’adresse <numéro>@${domain}. Le texte de l’e-mail devient le SMS.`,
    example: (address: string) => `Par exemple : ${address}`,
    several: (ref: string, domain: string) =>
      `Si votre adresse est utilisatrice de plusieurs comptes, ajoutez +${ref} après le numéro (<numéro>+${ref}@${domain}) pour envoyer avec celui-ci.`,
    unexpected:
      'Si vous n’attendiez pas cette invitation, ignorez ce message : rien ne partira de votre adresse sans votre confirmation.',
  },
  {
    subject: (account: string) => `Invitation to send SMS by email – ${account}`,
    hello: 'Hello,',
    invited: (inviter: string, email: string, account: string) =>
      `${inviter} invites you to send SMS from your address ${email} with the account "${account}".`,
    open: 'To accept, open this link and click "Confirm":',
    expires: (when: string, inviter: string) =>
      `This link is valid until ${when}. After that, ask ${inviter} for a new invitation.`,
    howTo: (email: string, domain: string) =>
      `To send an SMS, write an email from ${email} to <number>@${domain}. The text of the email becomes the SMS.`,
    example: (address: string) => `For example: ${address}`,
    several: (ref: string, domain: string) =>
      `If your address is a user of several accounts, add +${ref} after the number (<number>+${ref}@${domain}) to send with this one.`,
    unexpected:
      'If you did not expect this invitation, ignore this message: nothing will be sent from your address without your confirmation.',
  },
)

/** How to send, as lines of text: the invitation mail and the activation page both say it. */
export function howToLines(lang: Lang, facts: HowToFacts): string[] {
  const m = t(lang)
  const example = EXAMPLE_NUMBERS[facts.defaultCountry]
  return [
    m.howTo(facts.email, facts.smsDomain),
    ...(example ? [m.example(`${example}@${facts.smsDomain}`)] : []),
    m.several(facts.accountRef, facts.smsDomain),
  ]
}

export interface InvitationFacts extends HowToFacts {
  /** "Alice Martin (alice@acme.test)" or the address alone. */
  inviter: string
  link: string
  expiresAt: number
  /** The account's zone, which the expiry is written in. */
  timeZone: string
}

/** The invitation in the inviting admin's language. */
export function invitationMail(lang: Lang, facts: InvitationFacts): OutgoingMail {
  const m = t(lang)
  const paragraphs = [
    m.hello,
    m.invited(facts.inviter, facts.email, facts.accountName),
    `${m.open}\n${facts.link}`,
    m.expires(formatDateTime(facts.expiresAt, lang, facts.timeZone), facts.inviter),
    howToLines(lang, facts).join('\n'),
    m.unexpected,
  ]
  return {
    to: facts.email,
    subject: m.subject(facts.accountName),
    text: `${paragraphs.join('\n\n')}\n`,
  }
}
