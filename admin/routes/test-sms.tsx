import crypto from 'node:crypto'
import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath } from '../account'
import { setFlash } from '../flash'
import { recordAudit } from '../audit'
import { Field, FieldFrame, FormError, formText } from '../components/form'
import { DEFAULT_LIMITS } from '../../lib/config'
import { findAccountByRef, type Account } from '../../lib/db/accounts'
import { MAX_TEST_TEXT, queueTestSms, type TestSmsProblem } from '../../lib/mx/test-sms'

const t = defineMessages(
  {
    title: 'Envoyer un SMS de test',
    intro:
      'Le SMS part comme un e-mail envoyé à la passerelle : mêmes vérifications (numéro, pays autorisés, désinscriptions, longueur, limites d’envoi), même file d’attente, et il est compté dans la consommation du compte. Il apparaît dans le Journal des SMS avec votre adresse comme expéditeur.',
    number: 'Numéro de mobile',
    numberHint: (country: string) =>
      `Au format international (+33 6 12 34 56 78) ou national pour le pays du compte (${country}).`,
    text: 'Texte',
    textHint: 'Coupé ni à la signature ni aux citations : il part tel quel.',
    send: 'Envoyer le SMS de test',
    notSent: 'Le SMS n’a pas été envoyé : ',
    fixField: 'Le SMS n’a pas été envoyé : corrigez le champ signalé ci-dessous.',
    queued: (e164: string, id: number) =>
      `SMS de test n° ${id} mis en file d’attente pour ${e164}. Suivez sa remise dans le Journal des SMS.`,
    again: (e164: string, id: number) =>
      `Ce formulaire a déjà été envoyé : le SMS de test n° ${id} pour ${e164} n’est pas envoyé une seconde fois.`,
    seeLog: 'Voir le Journal des SMS',
    inactive:
      'Ce compte est désactivé : la passerelle n’envoie pas ses SMS. Demandez à l’opérateur du service de le réactiver.',
    noText: 'Écrivez le texte du SMS.',
    textTooLong: (max: number) => `Le texte dépasse ${max} caractères.`,
    invalid: 'Ce numéro n’est pas un numéro de mobile valide.',
    notMobile: 'Ce numéro n’est pas un mobile : il ne peut pas recevoir de SMS.',
    destination: (e164: string, allowed: string) =>
      `Le compte n’envoie pas de SMS vers ${e164} (destinations autorisées : ${allowed}).`,
    optedOut: (e164: string) =>
      `Le ${e164} a demandé à ne plus recevoir de SMS de ce compte (STOP). Il peut répondre START pour les recevoir de nouveau.`,
    tooMany: (segments: number, cap: number) =>
      `Ce texte fait ${segments} SMS ; le compte en permet ${cap} au plus par message.`,
    spend: (reason: string) =>
      ({
        quotaSpent: 'Le quota de SMS du compte est épuisé pour la période en cours.',
        accountRateLimited:
          'Le compte a atteint sa limite de SMS par minute : réessayez dans une minute.',
        senderRateLimited:
          'Vous avez atteint la limite de SMS par minute : réessayez dans une minute.',
        rateLimitBelowMessage: 'Ce SMS dépasse à lui seul la limite par minute du compte.',
        contentLoop:
          'Le même texte a déjà été envoyé plusieurs fois à ce numéro : envoi bloqué pour éviter une boucle.',
      })[reason] ?? 'Une limite d’envoi du compte refuse ce SMS.',
  },
  {
    title: 'Send a test SMS',
    intro:
      'The SMS goes out as an email to the gateway would: the same checks (number, allowed countries, opt-outs, length, sending limits), the same queue, and it counts in the account’s usage. It shows in the SMS log with your address as the sender.',
    number: 'Mobile number',
    numberHint: (country: string) =>
      `In international form (+44 7700 900123) or national form for the account’s country (${country}).`,
    text: 'Text',
    textHint: 'Not cut at a signature or at quotes: it is sent as written.',
    send: 'Send the test SMS',
    notSent: 'The SMS was not sent: ',
    fixField: 'The SMS was not sent: correct the field marked below.',
    queued: (e164: string, id: number) =>
      `Test SMS #${id} queued for ${e164}. Follow its delivery in the SMS log.`,
    again: (e164: string, id: number) =>
      `This form was already sent: test SMS #${id} for ${e164} is not sent a second time.`,
    seeLog: 'See the SMS log',
    inactive:
      'This account is switched off: the gateway does not send its SMS. Ask the service’s operator to switch it back on.',
    noText: 'Write the text of the SMS.',
    textTooLong: (max: number) => `The text is over ${max} characters.`,
    invalid: 'This is not a valid mobile number.',
    notMobile: 'This number is not a mobile: it cannot receive SMS.',
    destination: (e164: string, allowed: string) =>
      `The account does not send SMS to ${e164} (allowed destinations: ${allowed}).`,
    optedOut: (e164: string) =>
      `${e164} asked for no more SMS from this account (STOP). They can reply START to receive them again.`,
    tooMany: (segments: number, cap: number) =>
      `This text takes ${segments} SMS; the account allows at most ${cap} per message.`,
    spend: (reason: string) =>
      ({
        quotaSpent: 'The account’s SMS quota is used up for the current period.',
        accountRateLimited: 'The account reached its SMS-per-minute limit: try again in a minute.',
        senderRateLimited: 'You reached the SMS-per-minute limit: try again in a minute.',
        rateLimitBelowMessage: 'This SMS alone is over the account’s per-minute limit.',
        contentLoop:
          'The same text was already sent to this number several times: blocked to avoid a loop.',
      })[reason] ?? 'One of the account’s sending limits refuses this SMS.',
  },
)

type Labels = ReturnType<typeof t>

interface FormState {
  number: string
  text: string
  formId: string
  numberError?: string
  textError?: string
  problem?: string
}

/** Which field a refusal is about, and what to say, in the page's language. */
function describe(l: Labels, p: TestSmsProblem): Partial<FormState> {
  switch (p.kind) {
    case 'accountInactive':
      return { problem: l.inactive }
    case 'noText':
      return { textError: l.noText }
    case 'textTooLong':
      return { textError: l.textTooLong(p.max) }
    case 'invalidNumber':
      return { numberError: p.reason === 'not_mobile' ? l.notMobile : l.invalid }
    case 'destinationNotAllowed':
      return { numberError: l.destination(p.e164, p.allowed) }
    case 'optedOut':
      return { numberError: l.optedOut(p.e164) }
    case 'tooManySegments':
      return { textError: l.tooMany(p.segments, p.cap) }
    case 'spendLimit':
      return { problem: l.spend(p.reason) }
  }
}

function TestSmsPage(props: {
  l: Labels
  action: string
  logHref: string
  account: Account
  form: FormState
}) {
  const { l, form } = props
  const fieldError = form.numberError || form.textError
  const problem = form.problem ? `${l.notSent}${form.problem}` : fieldError ? l.fixField : null
  return (
    <>
      <p class="message">
        {l.intro} <a href={props.logHref}>{l.seeLog}</a>
      </p>
      <form method="post" action={props.action} class="card" aria-labelledby="test-sms-title">
        <h2 id="test-sms-title" class="visually-hidden">
          {l.title}
        </h2>
        <FormError message={problem} />
        <input type="hidden" name="form_id" value={form.formId} />
        <Field
          name="number"
          label={l.number}
          hint={l.numberHint(props.account.defaultCountry)}
          type="tel"
          inputmode="tel"
          autocomplete="off"
          maxlength={32}
          required
          value={form.number}
          error={form.numberError}
        />
        <FieldFrame
          id="text"
          label={l.text}
          hint={l.textHint}
          error={form.textError}
          control={(aria) => (
            <textarea id="text" name="text" rows={5} maxlength={MAX_TEST_TEXT} required {...aria}>
              {form.text}
            </textarea>
          )}
        />
        <div class="actions-row">
          <button type="submit" class="primary">
            {l.send}
          </button>
        </div>
      </form>
    </>
  )
}

async function loadAccount(c: Context<AdminEnv>): Promise<Account> {
  const account = await findAccountByRef(c.get('deps').db, c.get('account').ref)
  if (!account) throw new HTTPException(404)
  return account
}

function render(c: Context<AdminEnv>, lang: Lang, account: Account, form: FormState) {
  const l = t(lang)
  return c.render(
    <TestSmsPage
      l={l}
      action={accountPath(c, 'test-sms')}
      logHref={accountPath(c, 'messages')}
      account={account}
      form={form}
    />,
    { title: l.title, section: 'test-sms' },
  )
}

/** A fresh id per form shown: sending the same form twice queues one SMS. */
const newFormId = () => crypto.randomBytes(16).toString('base64url')

export const testSmsRoutes = new Hono<AdminEnv>()

testSmsRoutes.get('/', async (c) => {
  const account = await loadAccount(c)
  return render(c, c.get('lang'), account, { number: '', text: '', formId: newFormId() })
})

testSmsRoutes.post('/', async (c) => {
  const lang = c.get('lang')
  const l = t(lang)
  const { db, clock, limits } = c.get('deps')
  const body = await c.req.parseBody()
  const form: FormState = {
    number: formText(body, 'number').slice(0, 64),
    text: formText(body, 'text'),
    formId: /^[\w-]{16,64}$/.test(formText(body, 'form_id'))
      ? formText(body, 'form_id')
      : newFormId(),
  }
  const account = await loadAccount(c)
  const outcome = await queueTestSms(db, {
    account,
    senderEmail: c.get('admin').email,
    number: form.number,
    text: form.text,
    formId: form.formId,
    limits: limits ?? DEFAULT_LIMITS,
    now: clock(),
    log: c.get('deps').log,
  })
  if (!outcome.ok) {
    c.status(400)
    return render(c, lang, account, { ...form, ...describe(l, outcome.problem) })
  }
  // The same form sent again queued nothing: nothing to record.
  if (!outcome.duplicate) {
    await recordAudit(c, {
      action: 'test_sms.queue',
      subject: outcome.e164,
      after: { number: outcome.e164, smsId: outcome.id, segments: outcome.analysis.segments },
    })
  }
  const say = outcome.duplicate ? l.again : l.queued
  await setFlash(c, 'ok', say(outcome.e164, outcome.id))
  return c.redirect(accountPath(c, 'test-sms'), 303)
})
