import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath, loadAccountSettings } from '../account'
import { setFlash } from '../flash'
import { readSessionToken } from '../session'
import { ConfirmAction, ConfirmFirstButton, isConfirmed } from '../components/confirm'
import { Checkbox, Field, FieldFrame, FormError, PostButton, formText } from '../components/form'
import { ValidationError, VirtualNumberTakenError } from '../../lib/db/accounts'
import {
  FieldErrors,
  MAX_FORWARD_ADDRESSES,
  clearWebhookSecret,
  rotateWebhookSecret,
  setVirtualNumber,
  updateReceiving,
  type AccountSettings,
  type FieldError,
  type ReceivingInput,
} from '../../lib/db/account-settings'
import { holdSecretForDisplay, takeSecretForDisplay } from '../../lib/db/webhook-secret-reveals'

const t = defineMessages(
  {
    title: 'Réception en cours',
    number: 'Numéro virtuel',
    numberIs: 'Les SMS envoyés à ce numéro arrivent sur ce compte :',
    noNumber:
      "Ce compte n'a pas de numéro virtuel. Le transfert des SMS reçus vers l'e-mail en demande un : adressez-vous à l'opérateur de la passerelle pour en obtenir un.",
    forward: "Transfert d'e-mail",
    forwardHint: (max: number) =>
      `Les SMS reçus sur le numéro virtuel sont transférés par e-mail à ces adresses. Séparez-les par des virgules, par exemple : utilisateur1@domaine.fr, utilisateur2@domaine.fr (${max} au plus).`,
    directReply: 'Réponse directe',
    directReplyHint:
      "Quand quelqu'un répond à un SMS envoyé depuis ce compte, sa réponse est envoyée par e-mail directement à l'utilisateur qui lui a écrit en dernier, plutôt qu'aux adresses de transfert.",
    failureNotices: 'Avis de non-remise',
    failureNoticesHint:
      "Quand un SMS n'a pas pu être remis, la personne qui a envoyé l'e-mail en est avertie par e-mail.",
    save: 'Sauvegarder',
    saved: 'Paramètres de réception sauvegardés.',
    invalid: "Les paramètres n'ont pas été sauvegardés : corrigez le champ signalé.",
    errForwardAddressInvalid: (value: string) =>
      value.includes(', ')
        ? `Ces adresses ne sont pas valides : ${value}.`
        : `« ${value} » n'est pas une adresse e-mail valide.`,
    errForwardTooMany: (count: string) =>
      `${MAX_FORWARD_ADDRESSES} adresses au plus (${count} saisies).`,
    webhook: 'Webhooks des opérateurs HTTP',
    webhookIntro:
      "Si votre opérateur SMS remet les SMS reçus et les accusés de réception par HTTP plutôt que par SMPP, donnez-lui ces deux adresses. Il doit présenter le secret du compte dans l'en-tête de chaque requête.",
    inbound: 'SMS reçus',
    status: 'Accusés de réception',
    secretSet:
      'Un secret est défini. Il ne peut pas être réaffiché : générez-en un nouveau si vous l’avez perdu (l’ancien cesse alors de fonctionner).',
    secretUnset: "Aucun secret n'est défini : les webhooks de ce compte refusent toute requête.",
    generate: 'Générer un secret',
    rotate: 'Générer un nouveau secret',
    clear: 'Effacer le secret',
    newSecret: 'Nouveau secret',
    newSecretHint:
      "Copiez-le maintenant : il n'est affiché qu'une fois et seule son empreinte est conservée. L'opérateur l'envoie dans cet en-tête :",
    cleared: 'Secret des webhooks effacé.',
    alreadyShown:
      'Le nouveau secret a déjà été affiché, une seule fois : il ne peut plus l’être. Si vous ne l’avez pas copié, générez-en un nouveau (celui-ci cessera alors de fonctionner).',
    confirmClearTitle: 'Effacer le secret des webhooks',
    confirmClearWhat: (account: string) =>
      `Effacer le secret des webhooks du compte « ${account} » ?`,
    confirmClearConsequence:
      'Les webhooks de ce compte refuseront alors toute requête : votre opérateur ne pourra plus y remettre de SMS reçus ni d’accusés de réception, jusqu’à ce que vous génériez un nouveau secret et le lui donniez.',
    confirmRotateTitle: 'Remplacer le secret des webhooks',
    confirmRotateWhat: (account: string) =>
      `Remplacer le secret des webhooks du compte « ${account} » par un nouveau ?`,
    confirmRotateConsequence:
      'L’ancien secret cesse aussitôt de fonctionner : les requêtes de votre opérateur seront refusées jusqu’à ce qu’il utilise le nouveau.',
    confirmRotate: 'Remplacer le secret',

    numberField: 'Changer le numéro virtuel',
    numberHint:
      'Réservé aux opérateurs. Au format international (+33 7 00 00 00 01) ou national pour le pays du compte. Laissez vide pour retirer le numéro : les SMS envoyés à l’ancien numéro n’arrivent alors plus sur ce compte.',
    saveNumber: 'Enregistrer le numéro',
    numberSaved: (number: string) => `Le numéro virtuel du compte est maintenant ${number}.`,
    numberCleared: 'Le compte n’a plus de numéro virtuel.',
    errNumberInvalid: (value: string) =>
      `« ${value} » n’est pas un numéro de téléphone valide. Écrivez-le au format international, par exemple +33 7 00 00 00 01.`,
    errNumberTaken: (number: string, ref: string) =>
      `${number} est déjà le numéro virtuel du compte « ${ref} ». Retirez-le d’abord de ce compte.`,
  },
  {
    title: 'Receiving',
    number: 'Virtual number',
    numberIs: 'SMS sent to this number arrive on this account:',
    noNumber:
      'This account has no virtual number. Forwarding received SMS to email needs one: ask the operator of the gateway for one.',
    forward: 'Email forwarding',
    forwardHint: (max: number) =>
      `SMS received on the virtual number are forwarded by email to these addresses. Separate them with commas, for example: user1@domain.com, user2@domain.com (at most ${max}).`,
    directReply: 'Direct reply',
    directReplyHint:
      'When someone answers an SMS sent from this account, their reply is emailed straight to the user who last wrote to them, instead of to the forward addresses.',
    failureNotices: 'Failure notices',
    failureNoticesHint:
      'When an SMS could not be delivered, the person who sent the email is told so by email.',
    save: 'Save',
    saved: 'Receiving settings saved.',
    invalid: 'The settings were not saved: correct the field shown.',
    errForwardAddressInvalid: (value: string) =>
      value.includes(', ')
        ? `These addresses are not valid: ${value}.`
        : `"${value}" is not a valid email address.`,
    errForwardTooMany: (count: string) =>
      `At most ${MAX_FORWARD_ADDRESSES} addresses (${count} given).`,
    webhook: 'Webhooks for HTTP carriers',
    webhookIntro:
      'If your SMS carrier delivers received SMS and delivery reports over HTTP rather than SMPP, give it these two addresses. It must present the account’s secret in a header of every request.',
    inbound: 'Received SMS',
    status: 'Delivery reports',
    secretSet:
      'A secret is set. It cannot be shown again: generate a new one if you lost it (the old one then stops working).',
    secretUnset: 'No secret is set: this account’s webhooks refuse every request.',
    generate: 'Generate a secret',
    rotate: 'Generate a new secret',
    clear: 'Clear the secret',
    newSecret: 'New secret',
    newSecretHint:
      'Copy it now: it is shown only once and only its fingerprint is kept. The carrier sends it in this header:',
    cleared: 'Webhook secret cleared.',
    alreadyShown:
      'The new secret has already been shown, once: it cannot be shown again. If you did not copy it, generate a new one (this one then stops working).',
    confirmClearTitle: 'Delete the webhook secret',
    confirmClearWhat: (account: string) => `Delete the webhook secret of the account "${account}"?`,
    confirmClearConsequence:
      'This account’s webhooks will then refuse every request: your carrier will no longer be able to deliver received SMS or delivery reports there until you generate a new secret and give it to them.',
    confirmRotateTitle: 'Replace the webhook secret',
    confirmRotateWhat: (account: string) =>
      `Replace the webhook secret of the account "${account}" with a new one?`,
    confirmRotateConsequence:
      'The old secret stops working at once: your carrier’s requests are refused until it uses the new one.',
    confirmRotate: 'Replace the secret',

    numberField: 'Change the virtual number',
    numberHint:
      'Operators only. In international form (+33 7 00 00 00 01), or national for the account’s country. Leave empty to take the number away: SMS sent to the old number then no longer arrive on this account.',
    saveNumber: 'Save the number',
    numberSaved: (number: string) => `The account’s virtual number is now ${number}.`,
    numberCleared: 'The account no longer has a virtual number.',
    errNumberInvalid: (value: string) =>
      `"${value}" is not a valid phone number. Write it in international form, for example +33 7 00 00 00 01.`,
    errNumberTaken: (number: string, ref: string) =>
      `${number} is already the virtual number of the account "${ref}". Take it away from that account first.`,
  },
)

type Labels = ReturnType<typeof t>

function errorText(l: Labels, error: FieldError | undefined): string | undefined {
  if (!error) return undefined
  switch (error.problem) {
    case 'forward_address_invalid':
      return l.errForwardAddressInvalid(error.value)
    case 'forward_too_many':
      return l.errForwardTooMany(error.value)
    default:
      return error.message
  }
}

interface FormState {
  forwardAddresses: string
  directReply: boolean
  failureNotices: boolean
}

interface PageState {
  settings: AccountSettings
  form: FormState
  errors?: FieldErrors
  /** Only on the one page view that follows a rotation (lib/db/webhook-secret-reveals.ts). */
  newSecret?: string
  /** That page, viewed again: the secret is not shown twice. */
  secretAlreadyShown?: boolean

  /** The virtual number as an operator typed it, when it was refused. */
  number?: { value: string; error: string }
}

function formOf(s: AccountSettings): FormState {
  return {
    forwardAddresses: s.forwardAddresses.join(', '),
    directReply: s.directReply,
    failureNotices: s.failureNotices,
  }
}

/** Operators give accounts their numbers: the carrier allocates them to the gateway. */
function VirtualNumberForm(props: { l: Labels; base: string; state: PageState }) {
  const { l, base, state } = props
  return (
    <form method="post" action={`${base}/virtual-number`} class="virtual-number-form">
      <Field
        name="virtualNumber"
        type="tel"
        label={l.numberField}
        hint={l.numberHint}
        value={state.number?.value ?? state.settings.virtualNumber ?? ''}
        error={state.number?.error}
        autocomplete="off"
        maxlength={40}
      />
      <button type="submit">{l.saveNumber}</button>
    </form>
  )
}

function VirtualNumber(props: { l: Labels; base: string; state: PageState; operator: boolean }) {
  const { l, state } = props
  const number = state.settings.virtualNumber
  return (
    <section aria-labelledby="number-title">
      <h2 id="number-title">{l.number}</h2>
      {number ? (
        <p>
          {l.numberIs} <strong class="virtual-number">{number}</strong>
        </p>
      ) : (
        <p class="notice">{l.noNumber}</p>
      )}
      {props.operator && <VirtualNumberForm l={l} base={props.base} state={state} />}
    </section>
  )
}

function ReceivingForm(props: { l: Labels; base: string; state: PageState }) {
  const { l, base, state } = props
  const error = errorText(l, state.errors?.forField('forwardAddresses'))
  return (
    <form method="post" action={base} class="receiving">
      <FormError message={state.errors ? l.invalid : null} />
      <FieldFrame
        id="forwardAddresses"
        label={l.forward}
        hint={l.forwardHint(MAX_FORWARD_ADDRESSES)}
        error={error}
        control={(aria) => (
          <textarea
            id="forwardAddresses"
            name="forwardAddresses"
            rows={3}
            autocomplete="off"
            {...aria}
          >
            {state.form.forwardAddresses}
          </textarea>
        )}
      />
      <Checkbox
        name="directReply"
        label={l.directReply}
        hint={l.directReplyHint}
        checked={state.form.directReply}
      />
      <Checkbox
        name="failureNotices"
        label={l.failureNotices}
        hint={l.failureNoticesHint}
        checked={state.form.failureNotices}
      />
      <button type="submit" class="primary">
        {l.save}
      </button>
    </form>
  )
}

function Webhooks(props: { l: Labels; base: string; endpoint: string; state: PageState }) {
  const { l, base, endpoint, state } = props
  const isSet = state.settings.webhookSecretSet
  return (
    <section class="webhooks" aria-labelledby="webhook-title">
      <h2 id="webhook-title">{l.webhook}</h2>
      <p>{l.webhookIntro}</p>
      <dl>
        <dt>{l.inbound}</dt>
        <dd>
          <code>{`${endpoint}/inbound`}</code>
        </dd>
        <dt>{l.status}</dt>
        <dd>
          <code>{`${endpoint}/status`}</code>
        </dd>
      </dl>
      {state.newSecret && (
        <div class="new-secret" role="status">
          <h3>{l.newSecret}</h3>
          <p>
            <code class="secret">{state.newSecret}</code>
          </p>
          <p>{l.newSecretHint}</p>
          <pre>{`Authorization: Bearer ${state.newSecret}`}</pre>
        </div>
      )}
      {state.secretAlreadyShown && (
        <p class="notice" role="status">
          {l.alreadyShown}
        </p>
      )}
      <p>{isSet ? l.secretSet : l.secretUnset}</p>
      {isSet ? (
        <>
          <ConfirmFirstButton href={`${base}/webhook-secret`}>{l.rotate}</ConfirmFirstButton>{' '}
          <ConfirmFirstButton href={`${base}/webhook-secret/clear`} danger>
            {l.clear}
          </ConfirmFirstButton>
        </>
      ) : (
        <PostButton action={`${base}/webhook-secret`}>{l.generate}</PostButton>
      )}
    </section>
  )
}

function ReceivingPage(props: {
  lang: Lang
  base: string
  endpoint: string
  state: PageState
  operator: boolean
}) {
  const l = t(props.lang)
  return (
    <>
      <VirtualNumber l={l} base={props.base} state={props.state} operator={props.operator} />
      <ReceivingForm l={l} base={props.base} state={props.state} />
      <Webhooks l={l} base={props.base} endpoint={props.endpoint} state={props.state} />
    </>
  )
}

/** Where carriers post for this account; the reference, not the id, is what they are given. */
function webhookEndpoint(c: Context<AdminEnv>): string {
  const baseUrl = c.get('deps').config.baseUrl.replace(/\/+$/, '')
  return `${baseUrl}/webhooks/${encodeURIComponent(c.get('account').ref)}`
}

function render(c: Context<AdminEnv>, state: PageState) {
  const lang = c.get('lang')
  const page = (
    <ReceivingPage
      lang={lang}
      base={accountPath(c, 'receiving')}
      endpoint={webhookEndpoint(c)}
      state={state}
      operator={c.get('admin').isOperator}
    />
  )
  return c.render(page, { title: t(lang).title, section: 'receiving' })
}

export const receivingRoutes = new Hono<AdminEnv>()

receivingRoutes.get('/', async (c) => {
  const settings = await loadAccountSettings(c)
  return render(c, { settings, form: formOf(settings) })
})

receivingRoutes.post('/', async (c) => {
  const { db, clock } = c.get('deps')
  const body = await c.req.parseBody()
  const input: ReceivingInput = {
    forwardAddresses: formText(body, 'forwardAddresses'),
    // An unchecked box is simply absent from the form.
    directReply: body.directReply !== undefined,
    failureNotices: body.failureNotices !== undefined,
  }
  try {
    if (!(await updateReceiving(db, c.get('account').id, input, clock()))) {
      throw new HTTPException(404)
    }
  } catch (err) {
    if (!(err instanceof FieldErrors)) throw err
    c.status(400)
    return render(c, { settings: await loadAccountSettings(c), form: input, errors: err })
  }
  await setFlash(c, 'ok', t(c.get('lang')).saved)
  return c.redirect(accountPath(c, 'receiving'), 303)
})

/** A confirmation page of the webhook secret; nothing to confirm when no secret is set. */
async function confirmSecretAction(
  c: Context<AdminEnv>,
  texts: { title: string; what: string; consequence: string; confirmLabel?: string },
  action: string,
) {
  const base = accountPath(c, 'receiving')
  if (!(await loadAccountSettings(c)).webhookSecretSet) return c.redirect(base, 302)
  const page = (
    <ConfirmAction
      lang={c.get('lang')}
      what={texts.what}
      consequence={texts.consequence}
      action={action}
      cancel={base}
      confirmLabel={texts.confirmLabel}
    />
  )
  return c.render(page, { title: texts.title, section: 'receiving' })
}

/** "Générer un nouveau secret" leads here first when a secret is set: it stops working. */
receivingRoutes.get('/webhook-secret', (c) => {
  const l = t(c.get('lang'))
  const texts = {
    title: l.confirmRotateTitle,
    what: l.confirmRotateWhat(c.get('account').name),
    consequence: l.confirmRotateConsequence,
    confirmLabel: l.confirmRotate,
  }
  return confirmSecretAction(c, texts, `${accountPath(c, 'receiving')}/webhook-secret`)
})

/**
 * A new secret replaces the old one at once (after the confirmation page when there was one).
 * Post, redirect, get: the secret waits server-side, sealed and bound to this session, for the
 * page the redirect leads to, which shows it once; reloading that page makes no new secret.
 */
receivingRoutes.post('/webhook-secret', async (c) => {
  const { db, clock } = c.get('deps')
  const base = accountPath(c, 'receiving')
  const body = await c.req.parseBody()
  const settings = await loadAccountSettings(c)
  // Replacing a secret breaks the carrier's: only through the confirmation page.
  if (settings.webhookSecretSet && !isConfirmed(body)) {
    return c.redirect(`${base}/webhook-secret`, 303)
  }
  const sessionToken = await readSessionToken(c)
  if (!sessionToken) throw new HTTPException(401)
  const accountId = c.get('account').id
  const secret = await rotateWebhookSecret(db, accountId, clock())
  await holdSecretForDisplay(db, sessionToken, accountId, secret, clock())
  return c.redirect(`${base}/webhook-secret/new`, 303)
})

/** The new secret, once; a reload (or another session) gets "already shown" instead. */
receivingRoutes.get('/webhook-secret/new', async (c) => {
  const { db, clock } = c.get('deps')
  const sessionToken = await readSessionToken(c)
  const newSecret = sessionToken
    ? await takeSecretForDisplay(db, sessionToken, c.get('account').id, clock())
    : null
  const settings = await loadAccountSettings(c)
  c.header('Cache-Control', 'no-store')
  return render(c, {
    settings,
    form: formOf(settings),
    newSecret: newSecret ?? undefined,
    secretAlreadyShown: newSecret === null,
  })
})

/** "Effacer le secret" leads here first. */
receivingRoutes.get('/webhook-secret/clear', (c) => {
  const l = t(c.get('lang'))
  const texts = {
    title: l.confirmClearTitle,
    what: l.confirmClearWhat(c.get('account').name),
    consequence: l.confirmClearConsequence,
  }
  return confirmSecretAction(c, texts, `${accountPath(c, 'receiving')}/webhook-secret/clear`)
})

receivingRoutes.post('/webhook-secret/clear', async (c) => {
  const { db, clock } = c.get('deps')
  const base = accountPath(c, 'receiving')
  // Not through the confirmation page: ask there, clear nothing.
  if (!isConfirmed(await c.req.parseBody())) return c.redirect(`${base}/webhook-secret/clear`, 303)
  if (!(await clearWebhookSecret(db, c.get('account').id, clock()))) throw new HTTPException(404)
  await setFlash(c, 'ok', t(c.get('lang')).cleared)
  return c.redirect(base, 303)
})

/** Operators only, like the spend limits: the number is allocated by the carrier, not chosen. */
receivingRoutes.post('/virtual-number', async (c) => {
  if (!c.get('admin').isOperator) throw new HTTPException(403)
  const { db, clock } = c.get('deps')
  const l = t(c.get('lang'))
  const body = await c.req.parseBody()
  const typed = formText(body, 'virtualNumber').trim()
  let saved
  try {
    saved = await setVirtualNumber(db, c.get('account').id, typed, clock())
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err
    const error =
      err instanceof VirtualNumberTakenError
        ? l.errNumberTaken(err.number, err.ownerRef)
        : l.errNumberInvalid(typed.slice(0, 40))
    c.status(err instanceof VirtualNumberTakenError ? 409 : 400)
    const settings = await loadAccountSettings(c)
    return render(c, { settings, form: formOf(settings), number: { value: typed, error } })
  }
  if (!saved) throw new HTTPException(404)
  const number = saved.virtualNumber
  await setFlash(c, 'ok', number ? l.numberSaved(number) : l.numberCleared)
  return c.redirect(accountPath(c, 'receiving'), 303)
})
