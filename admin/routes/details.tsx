import { Hono, type Context } from 'hono'
import type { AdminEnv } from '../env'
import { defineMessages } from '../i18n'
import { setFlash } from '../flash'
import { Field } from '../components/form'
import { ValidationError } from '../../lib/db/accounts'
import {
  ADMIN_NAME_MAX_LENGTH,
  changePassword,
  findAdminById,
  updateAdminName,
} from '../../lib/db/admins'
import {
  checkPasswordPolicy,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  verifyPassword,
} from '../../lib/auth/password'
import {
  beginLoginAttempt,
  clearLoginFailures,
  emailThrottleKey,
  lockSpentKeys,
} from '../../lib/db/login-throttle'

const t = defineMessages(
  {
    title: 'Mes détails',
    email: 'Adresse e-mail',
    emailHint: 'Votre identifiant ; l’opérateur du service peut le changer.',
    name: 'Nom',
    saveName: 'Sauvegarder',
    nameRequired: `Saisissez un nom de 1 à ${ADMIN_NAME_MAX_LENGTH} caractères, sur une seule ligne.`,
    nameSaved: 'Votre nom a été enregistré.',
    passwordTitle: 'Changer le mot de passe',
    current: 'Mot de passe actuel',
    newPassword: 'Nouveau mot de passe',
    newHint: `De ${PASSWORD_MIN_LENGTH} à ${PASSWORD_MAX_LENGTH} caractères. Une phrase de quelques mots est un bon choix.`,
    confirm: 'Confirmez le nouveau mot de passe',
    change: 'Changer le mot de passe',
    wrongCurrent: 'Le mot de passe actuel est incorrect.',
    tooMany: 'Trop d’essais incorrects : réessayez plus tard.',
    tooShort: `Le nouveau mot de passe doit compter au moins ${PASSWORD_MIN_LENGTH} caractères.`,
    tooLong: `Le nouveau mot de passe doit compter au plus ${PASSWORD_MAX_LENGTH} caractères.`,
    mismatch: 'Les deux saisies du nouveau mot de passe sont différentes.',
    changed: 'Votre mot de passe a été changé. Vos autres sessions ouvertes ont été fermées.',
  },
  {
    title: 'My details',
    email: 'Email address',
    emailHint: 'Your login; the service’s operator can change it.',
    name: 'Name',
    saveName: 'Save',
    nameRequired: `Enter a name of 1 to ${ADMIN_NAME_MAX_LENGTH} characters, on one line.`,
    nameSaved: 'Your name has been saved.',
    passwordTitle: 'Change the password',
    current: 'Current password',
    newPassword: 'New password',
    newHint: `${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters. A phrase of a few words is a good choice.`,
    confirm: 'Confirm the new password',
    change: 'Change the password',
    wrongCurrent: 'The current password is wrong.',
    tooMany: 'Too many wrong attempts: try again later.',
    tooShort: `The new password must have at least ${PASSWORD_MIN_LENGTH} characters.`,
    tooLong: `The new password must have at most ${PASSWORD_MAX_LENGTH} characters.`,
    mismatch: 'The two entries of the new password differ.',
    changed: 'Your password has been changed. Your other open sessions have been ended.',
  },
)

interface DetailsForm {
  name?: string
  nameError?: string
  currentError?: string
  newError?: string
  confirmError?: string
}

function detailsPage(c: Context<AdminEnv>, form: DetailsForm = {}) {
  const m = t(c.get('lang'))
  const admin = c.get('admin')
  return c.render(
    <>
      <form method="post" action="/details" class="card">
        <dl class="facts">
          <dt>{m.email}</dt>
          <dd class="mono">{admin.email}</dd>
        </dl>
        <p class="hint">{m.emailHint}</p>
        <Field
          name="name"
          label={m.name}
          value={form.name ?? admin.name}
          error={form.nameError}
          required
          autocomplete="name"
          maxlength={ADMIN_NAME_MAX_LENGTH}
        />
        <button type="submit" class="primary">
          {m.saveName}
        </button>
      </form>
      <form method="post" action="/details/password" class="card" aria-labelledby="details-pw">
        <h2 id="details-pw">{m.passwordTitle}</h2>
        {/* Lets password managers tie the new password to the login. */}
        <input
          type="email"
          name="username"
          autocomplete="username"
          value={admin.email}
          hidden
          readonly
        />
        <Field
          name="current"
          type="password"
          label={m.current}
          error={form.currentError}
          required
          autocomplete="current-password"
        />
        <Field
          name="password"
          type="password"
          label={m.newPassword}
          hint={m.newHint}
          error={form.newError}
          required
          autocomplete="new-password"
          maxlength={PASSWORD_MAX_LENGTH}
        />
        <Field
          name="confirm"
          type="password"
          label={m.confirm}
          error={form.confirmError}
          required
          autocomplete="new-password"
          maxlength={PASSWORD_MAX_LENGTH}
        />
        <button type="submit" class="primary">
          {m.change}
        </button>
      </form>
    </>,
    { title: m.title, section: 'details' },
  )
}

/** "Mes détails": the admin's own name and password. */
export const detailsRoutes = new Hono<AdminEnv>()

detailsRoutes.get('/', (c) => detailsPage(c))

detailsRoutes.post('/', async (c) => {
  const { db, clock } = c.get('deps')
  const m = t(c.get('lang'))
  const body = await c.req.parseBody()
  const name = String(body.name ?? '')
  try {
    await updateAdminName(db, c.get('admin').id, name, clock())
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err
    c.status(400)
    return detailsPage(c, { name, nameError: m.nameRequired })
  }
  await setFlash(c, 'ok', m.nameSaved)
  return c.redirect('/details', 303)
})

detailsRoutes.post('/password', async (c) => {
  const { db, clock, config } = c.get('deps')
  const m = t(c.get('lang'))
  const body = await c.req.parseBody()
  const current = String(body.current ?? '')
  const password = String(body.password ?? '')
  const confirm = String(body.confirm ?? '')
  const refuse = (form: DetailsForm) => {
    c.status(400)
    return detailsPage(c, form)
  }
  const problem = checkPasswordPolicy(password)
  if (problem) return refuse({ newError: problem === 'too_short' ? m.tooShort : m.tooLong })
  if (password !== confirm) return refuse({ confirmError: m.mismatch })
  // Guessing the current password from an open session counts like failed logins.
  const key = emailThrottleKey(c.get('admin').email)
  const policy = {
    maxFailures: config.loginMaxFailures,
    windowMs: config.loginLockoutMinutes * 60_000,
  }
  if ((await beginLoginAttempt(db, [key], policy, clock())) !== null) {
    c.status(429)
    return detailsPage(c, { currentError: m.tooMany })
  }
  const admin = await findAdminById(db, c.get('admin').id)
  if (!admin || current.length > 1000 || !(await verifyPassword(current, admin.passwordHash))) {
    await lockSpentKeys(db, [key], policy, clock())
    return refuse({ currentError: m.wrongCurrent })
  }
  await clearLoginFailures(db, key)
  const hash = await hashPassword(password)
  await changePassword(db, admin.id, hash, c.get('sessionTokenHash'), clock())
  await setFlash(c, 'ok', m.changed)
  return c.redirect('/details', 303)
})
