import { Hono, type Context } from 'hono'
import { deleteCookie } from 'hono/cookie'
import type { AdminDeps, AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { Field, FormError, formatDateTime, formText } from '../components/form'
import { getSignedCookie, setSignedCookie } from '../signed-cookie'
import { SESSION_COOKIE } from '../session'
import { clientIp } from '../client-ip'
import { BackgroundTasks } from '../background'
import { passwordChangedMail, passwordResetMail } from '../pages/password-reset-mail'
import { DEFAULT_PASSWORD_RESET } from '../../lib/config'
import { findAdminByEmail } from '../../lib/db/admins'
import { normaliseEmail } from '../../lib/db/senders'
import { takeQuota } from '../../lib/db/usage-counters'
import { clearLoginFailures, emailThrottleKey } from '../../lib/db/login-throttle'
import {
  completePasswordReset,
  findPasswordReset,
  issuePasswordReset,
  passwordResetQuotas,
  restorePreviousReset,
  type ResetLookup,
  type ValidReset,
} from '../../lib/db/password-resets'
import {
  checkPasswordPolicy,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../../lib/auth/password'

const t = defineMessages(
  {
    title: 'Mot de passe oublié',
    intro:
      'Saisissez l’adresse e-mail de votre identifiant. Si elle en a un, vous recevrez un lien pour choisir un nouveau mot de passe.',
    email: 'Adresse e-mail',
    send: 'Recevoir le lien',
    badEmail: 'Saisissez une adresse e-mail valide.',
    sentTitle: 'Vérifiez votre messagerie',
    sent: (minutes: number) =>
      `Si cette adresse est celle d’un identifiant de l’administration, un e-mail vient d’y être envoyé avec un lien pour choisir un nouveau mot de passe. Le lien est valable ${minutes} minutes et ne sert qu’une fois.`,
    sentHint:
      'Rien reçu après quelques minutes ? Regardez dans les courriers indésirables et vérifiez l’adresse saisie, ou consultez l’aide.',
    tooMany: (when: string) =>
      `Trop de demandes pour cette adresse ou depuis votre connexion. Réessayez après le ${when}.`,
    tooManyTitle: 'Trop de demandes',
    chooseTitle: 'Choisir un nouveau mot de passe',
    chooseFor: (email: string) => `Nouveau mot de passe pour l’identifiant ${email}.`,
    validUntil: (when: string) => `Ce lien est valable jusqu’au ${when}.`,
    newPassword: 'Nouveau mot de passe',
    newHint: `De ${PASSWORD_MIN_LENGTH} à ${PASSWORD_MAX_LENGTH} caractères. Une phrase de quelques mots est un bon choix.`,
    confirm: 'Confirmez le nouveau mot de passe',
    save: 'Changer le mot de passe',
    tooShort: `Le nouveau mot de passe doit compter au moins ${PASSWORD_MIN_LENGTH} caractères.`,
    tooLong: `Le nouveau mot de passe doit compter au plus ${PASSWORD_MAX_LENGTH} caractères.`,
    mismatch: 'Les deux saisies du nouveau mot de passe sont différentes.',
    doneTitle: 'Mot de passe changé',
    done: 'Votre mot de passe a été changé. Toutes les sessions ouvertes avec votre identifiant ont été fermées, sur cet appareil comme sur les autres.',
    login: 'Se connecter',
    expiredTitle: 'Lien expiré',
    expired:
      'Ce lien de réinitialisation a expiré. Demandez-en un nouveau : il vous sera envoyé par e-mail.',
    invalidTitle: 'Lien non valable',
    invalid:
      'Ce lien de réinitialisation a déjà servi, a été remplacé par un plus récent, ou n’est pas valable. Demandez-en un nouveau si nécessaire.',
    askAgain: 'Demander un nouveau lien',
    help: 'Aide',
  },
  {
    title: 'Forgotten password',
    intro:
      'Enter the email address of your login. If it has one, you will get a link to choose a new password.',
    email: 'Email address',
    send: 'Send me the link',
    badEmail: 'Enter a valid email address.',
    sentTitle: 'Check your mailbox',
    sent: (minutes: number) =>
      `If this address belongs to an admin login, an email has just been sent to it with a link to choose a new password. The link is valid for ${minutes} minutes and works once.`,
    sentHint:
      'Nothing after a few minutes? Look in your junk mail and check the address you typed, or see the help page.',
    tooMany: (when: string) =>
      `Too many requests for this address or from your connection. Try again after ${when}.`,
    tooManyTitle: 'Too many requests',
    chooseTitle: 'Choose a new password',
    chooseFor: (email: string) => `New password for the login ${email}.`,
    validUntil: (when: string) => `This link is valid until ${when}.`,
    newPassword: 'New password',
    newHint: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters. A phrase of a few words is a good choice.`,
    confirm: 'Confirm the new password',
    save: 'Change the password',
    tooShort: `The new password must have at least ${PASSWORD_MIN_LENGTH} characters.`,
    tooLong: `The new password must have at most ${PASSWORD_MAX_LENGTH} characters.`,
    mismatch: 'The two entries of the new password differ.',
    doneTitle: 'Password changed',
    done: 'Your password has been changed. Every session open with your login has been ended, on this device and on the others.',
    login: 'Log in',
    expiredTitle: 'Link expired',
    expired: 'This reset link has expired. Ask for a new one: it will be sent to you by email.',
    invalidTitle: 'Link not valid',
    invalid:
      'This reset link has already been used, has been replaced by a newer one, or is not valid. Ask for a new one if needed.',
    askAgain: 'Ask for a new link',
    help: 'Help',
  },
)

/**
 * The link's token, once its page has been opened: kept in a cookie rather than in the page's
 * address, so that the form page's address (history, Referer) holds no secret.
 */
const RESET_COOKIE = 'm2s_reset'
const RESET_PATH = '/password-reset'
const TOKEN_PATTERN = '[A-Za-z0-9_-]{43}'

function settingsOf(deps: AdminDeps) {
  return deps.config.passwordReset ?? DEFAULT_PASSWORD_RESET
}

function backgroundOf(deps: AdminDeps): BackgroundTasks {
  deps.background ??= new BackgroundTasks(deps.log ?? ((line) => console.error(line)))
  return deps.background
}

function cookieOptions(c: Context<AdminEnv>) {
  return { path: RESET_PATH, secure: c.get('deps').config.baseUrl.startsWith('https:') }
}

function readResetCookie(c: Context<AdminEnv>): string | null {
  const value = getSignedCookie(c, c.get('deps').config.sessionSecret, RESET_COOKIE)
  return typeof value === 'string' && value ? value : null
}

/** The link this browser opened (its token comes with it when still valid). */
async function currentLink(
  c: Context<AdminEnv>,
): Promise<(ResetLookup & { state: 'expired' | 'invalid' }) | (ValidReset & { token: string })> {
  const { db, clock } = c.get('deps')
  const token = readResetCookie(c)
  if (!token) return { state: 'invalid' }
  const found = await findPasswordReset(db, token, clock())
  return found.state === 'valid' ? { ...found, token } : found
}

function RequestForm(props: { m: ReturnType<typeof t>; email?: string; error?: string }) {
  const { m } = props
  return (
    <form method="post" action={RESET_PATH} class="card narrow">
      <p>{m.intro}</p>
      <FormError message={props.error} />
      <Field
        name="email"
        type="email"
        label={m.email}
        value={props.email}
        required
        autocomplete="username"
        maxlength={254}
      />
      <button type="submit" class="primary">
        {m.send}
      </button>
    </form>
  )
}

function ChooseForm(props: {
  m: ReturnType<typeof t>
  lang: Lang
  email: string
  expiresAt: number
  newError?: string
  confirmError?: string
}) {
  const { m } = props
  return (
    <form method="post" action={`${RESET_PATH}/choose`} class="card narrow">
      <p>{m.chooseFor(props.email)}</p>
      <p class="hint">{m.validUntil(formatDateTime(props.expiresAt, props.lang))}</p>
      {/* Lets password managers file the new password under the login. */}
      <input
        type="email"
        name="username"
        autocomplete="username"
        value={props.email}
        hidden
        readonly
      />
      <Field
        name="password"
        type="password"
        label={m.newPassword}
        hint={m.newHint}
        error={props.newError}
        required
        autocomplete="new-password"
        maxlength={PASSWORD_MAX_LENGTH}
      />
      <Field
        name="confirm"
        type="password"
        label={m.confirm}
        error={props.confirmError}
        required
        autocomplete="new-password"
        maxlength={PASSWORD_MAX_LENGTH}
      />
      <button type="submit" class="primary">
        {m.save}
      </button>
    </form>
  )
}

/** Expired (410) or not valid (404): either way the way out is a new link. */
function deadLinkPage(c: Context<AdminEnv>, state: 'expired' | 'invalid') {
  const m = t(c.get('lang'))
  deleteCookie(c, RESET_COOKIE, cookieOptions(c))
  c.status(state === 'expired' ? 410 : 404)
  return c.render(
    <div class="message">
      <p>{state === 'expired' ? m.expired : m.invalid}</p>
      <p>
        <a href={RESET_PATH}>{m.askAgain}</a>
      </p>
    </div>,
    { title: state === 'expired' ? m.expiredTitle : m.invalidTitle },
  )
}

/**
 * Mails a link if the address has a login; nothing otherwise. Runs after the response, so the
 * page takes as long whether or not the address has a login.
 */
async function mailResetLink(deps: AdminDeps, lang: Lang, email: string): Promise<void> {
  const { db, mailer, clock, config, log } = deps
  const admin = await findAdminByEmail(db, email)
  if (!admin) return
  const ttlMs = settingsOf(deps).ttlMinutes * 60_000
  const issued = await issuePasswordReset(db, admin.id, ttlMs, clock())
  const mail = passwordResetMail(lang, {
    email: admin.email,
    link: `${config.baseUrl}${RESET_PATH}/${issued.token}`,
    expiresAt: issued.expiresAt,
  })
  try {
    await mailer.send(mail)
  } catch (err) {
    await restorePreviousReset(db, admin.id, issued)
    ;(log ?? console.error)(
      `password reset mail to=${admin.email} failed: ${(err as Error).message}`,
    )
  }
}

/** "Mot de passe oublié ?": ask for a link, open it, choose the new password. Public. */
export const passwordResetRoutes = new Hono<AdminEnv>()

passwordResetRoutes.get('/', (c) => {
  const m = t(c.get('lang'))
  return c.render(<RequestForm m={m} />, { title: m.title })
})

passwordResetRoutes.post('/', async (c) => {
  const deps = c.get('deps')
  const lang = c.get('lang')
  const m = t(lang)
  const body = await c.req.parseBody()
  const typed = formText(body, 'email').trim()
  let email: string
  try {
    email = normaliseEmail(typed)
  } catch {
    c.status(400)
    return c.render(<RequestForm m={m} email={typed.slice(0, 254)} error={m.badEmail} />, {
      title: m.title,
    })
  }
  const settings = settingsOf(deps)
  const now = deps.clock()
  const quotas = passwordResetQuotas(email, clientIp(c), {
    perAddress: settings.mailsPerAddress,
    perClient: settings.requestsPerClient,
    windowMs: settings.windowMinutes * 60_000,
  })
  // Counted whether or not the address has a login: a refusal says nothing about it either.
  const refused = await takeQuota(deps.db, quotas, now)
  if (refused) {
    c.header('Retry-After', String(Math.max(1, Math.ceil((refused.until - now) / 1000))))
    c.status(429)
    return c.render(
      <div class="message">
        <p role="alert">{m.tooMany(formatDateTime(refused.until, lang))}</p>
      </div>,
      { title: m.tooManyTitle },
    )
  }
  backgroundOf(deps).run('password-reset mail', () => mailResetLink(deps, lang, email))
  return c.render(
    <div class="message">
      <p role="status">{m.sent(settings.ttlMinutes)}</p>
      <p class="hint">
        {m.sentHint} <a href="/help">{m.help}</a>
      </p>
    </div>,
    { title: m.sentTitle },
  )
})

/** The form comes before the link's page, which would otherwise take "choose" for a token. */
passwordResetRoutes.get('/choose', async (c) => {
  const lang = c.get('lang')
  const found = await currentLink(c)
  if (found.state !== 'valid') return deadLinkPage(c, found.state)
  c.header('Cache-Control', 'no-store')
  const m = t(lang)
  return c.render(
    <ChooseForm m={m} lang={lang} email={found.email} expiresAt={found.expiresAt} />,
    { title: m.chooseTitle },
  )
})

passwordResetRoutes.post('/choose', async (c) => {
  const deps = c.get('deps')
  const { db, clock, mailer, log, config } = deps
  const lang = c.get('lang')
  const m = t(lang)
  const found = await currentLink(c)
  if (found.state !== 'valid') return deadLinkPage(c, found.state)
  const body = await c.req.parseBody()
  const password = formText(body, 'password')
  const confirm = formText(body, 'confirm')
  const refuse = (errors: { newError?: string; confirmError?: string }) => {
    c.status(400)
    c.header('Cache-Control', 'no-store')
    return c.render(
      <ChooseForm m={m} lang={lang} email={found.email} expiresAt={found.expiresAt} {...errors} />,
      { title: m.chooseTitle },
    )
  }
  const problem = checkPasswordPolicy(password)
  if (problem) return refuse({ newError: problem === 'too_short' ? m.tooShort : m.tooLong })
  if (password !== confirm) return refuse({ confirmError: m.mismatch })
  const now = clock()
  const { token } = found
  const admin = await completePasswordReset(db, token, await hashPassword(password), now)
  if (!admin) {
    // Used or expired while the password was being hashed.
    const again = await findPasswordReset(db, token, clock())
    return deadLinkPage(c, again.state === 'expired' ? 'expired' : 'invalid')
  }
  // Whoever reads the mailbox could have reset the password anyway: the address's failed
  // logins no longer keep its owner waiting.
  await clearLoginFailures(db, emailThrottleKey(admin.email))
  deleteCookie(c, RESET_COOKIE, cookieOptions(c))
  deleteCookie(c, SESSION_COOKIE, { path: '/', secure: cookieOptions(c).secure })
  backgroundOf(deps).run('password-changed mail', async () => {
    try {
      await mailer.send(
        passwordChangedMail(lang, { email: admin.email, changedAt: now, help: config.help }),
      )
    } catch (err) {
      ;(log ?? console.error)(
        `password changed mail to=${admin.email} failed: ${(err as Error).message}`,
      )
    }
  })
  return c.render(
    <div class="message">
      <p role="status">{m.done}</p>
      <p>
        <a href="/login">{m.login}</a>
      </p>
    </div>,
    { title: m.doneTitle },
  )
})

/**
 * The link from the mail. Opening it changes nothing (mail scanners follow links): the token
 * goes into a cookie for the form, and the browser is sent on to an address without it.
 */
passwordResetRoutes.get(`/:token{${TOKEN_PATTERN}}`, async (c) => {
  const { db, clock, config } = c.get('deps')
  const token = c.req.param('token')
  const now = clock()
  const found = await findPasswordReset(db, token, now)
  if (found.state !== 'valid') return deadLinkPage(c, found.state)
  setSignedCookie(c, RESET_COOKIE, token, config.sessionSecret, {
    ...cookieOptions(c),
    httpOnly: true,
    sameSite: 'Lax',
    maxAge: Math.max(1, Math.ceil((found.expiresAt - now) / 1000)),
  })
  c.header('Cache-Control', 'no-store')
  return c.redirect(`${RESET_PATH}/choose`, 303)
})

/** A link cut short or mangled by a mail client: the way out is a new one, not the login. */
passwordResetRoutes.get('/:token', (c) => deadLinkPage(c, 'invalid'))
