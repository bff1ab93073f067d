import { Hono, type Context } from 'hono'
import type { AdminDeps, AdminEnv } from '../env'
import { defineMessages } from '../i18n'
import { Field, FormError } from '../components/form'
import { endSession, readSessionToken, safeLocalPath, startSession } from '../session'
import { findAdminByEmail } from '../../lib/db/admins'
import { deleteSession, findSessionAdmin, purgeExpiredSessions } from '../../lib/db/admin-sessions'
import {
  beginLoginAttempt,
  claimDelayedAttempt,
  clearLoginFailures,
  deviceThrottleKey,
  emailThrottleKey,
  ipThrottleKey,
  lockedUntil,
  lockSpentKeys,
  purgeLoginThrottle,
  recordFailureWhileLocked,
  refundLoginAttempt,
  releaseDelayedAttempt,
  type ThrottlePolicy,
} from '../../lib/db/login-throttle'
import { readDeviceCookie, setDeviceCookie } from '../device-cookie'
import { verifyPasswordOrDummy } from '../../lib/auth/password'
import { clientIp } from '../client-ip'

const t = defineMessages(
  {
    title: 'Connexion',
    email: 'Adresse e-mail',
    password: 'Mot de passe',
    submit: 'Se connecter',
    missing: 'Saisissez votre adresse e-mail et votre mot de passe.',
    wrong: 'Adresse ou mot de passe incorrect',
    throttledTitle: 'Trop de tentatives',
    throttled: (minutes: number) =>
      `Trop de tentatives de connexion ont échoué. Attendez ${minutes} minute${minutes > 1 ? 's' : ''} avant de réessayer.`,
    back: 'Retour à la connexion',
    forgotten: 'Mot de passe oublié ?',
    busy: 'Une autre tentative de connexion à cette adresse est en cours. Réessayez dans quelques secondes.',
  },
  {
    title: 'Log in',
    email: 'Email address',
    password: 'Password',
    submit: 'Log in',
    missing: 'Enter your email address and your password.',
    wrong: 'Wrong email or password',
    throttledTitle: 'Too many attempts',
    throttled: (minutes: number) =>
      `Too many login attempts failed. Wait ${minutes} minute${minutes > 1 ? 's' : ''} before trying again.`,
    back: 'Back to the login form',
    forgotten: 'Forgot your password?',
    busy: 'Another login attempt for this address is under way. Try again in a few seconds.',
  },
)

/** Longer input is refused before any hashing, so a huge password cannot cost CPU. */
const MAX_FIELD_LENGTH = 1000

function LoginForm(props: {
  c: Context<AdminEnv>
  email?: string
  next?: string | null
  error?: string
}) {
  const m = t(props.c.get('lang'))
  return (
    <form method="post" action="/login" class="card narrow">
      <FormError message={props.error} />
      {props.next && <input type="hidden" name="next" value={props.next} />}
      <Field
        name="email"
        type="email"
        label={m.email}
        value={props.email}
        required
        autocomplete="username"
        maxlength={254}
      />
      <Field
        name="password"
        type="password"
        label={m.password}
        required
        autocomplete="current-password"
        maxlength={MAX_FIELD_LENGTH}
      />
      <button type="submit" class="primary">
        {m.submit}
      </button>
      <p class="forgotten">
        <a href="/password-reset">{m.forgotten}</a>
      </p>
    </form>
  )
}

function throttledPage(c: Context<AdminEnv>, until: number) {
  const m = t(c.get('lang'))
  const seconds = Math.max(1, Math.ceil((until - c.get('deps').clock()) / 1000))
  c.header('Retry-After', String(seconds))
  c.status(429)
  return c.render(
    <div class="message">
      <p role="alert">{m.throttled(Math.ceil(seconds / 60))}</p>
      <p>
        <a href="/login">{m.back}</a>
      </p>
    </div>,
    { title: m.throttledTitle },
  )
}

/** The address is locked and its one delayed attempt is taken: come back in a moment. */
function busyPage(c: Context<AdminEnv>) {
  const m = t(c.get('lang'))
  const delayMs = c.get('deps').config.lockedLoginDelayMs
  c.header('Retry-After', String(Math.max(1, Math.ceil(delayMs / 1000))))
  c.status(429)
  return c.render(
    <div class="message">
      <p role="alert">{m.busy}</p>
      <p>
        <a href="/login">{m.back}</a>
      </p>
    </div>,
    { title: m.throttledTitle },
  )
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

// Longest a delayed attempt may take after its wait (the password hash, the database) before
// another process may take the address's slot: only matters when a process dies holding it.
const DELAYED_ATTEMPT_MARGIN_MS = 30_000

type Verdict =
  | { kind: 'refused'; until: number }
  | { kind: 'busy' }
  | { kind: 'wrong'; lockedUntil: number | null }
  | { kind: 'right'; adminId: number }

interface Attempt {
  c: Context<AdminEnv>
  email: string
  password: string
  policy: ThrottlePolicy
  now: number
}

async function checkPassword(email: string, password: string, db: AdminDeps['db']) {
  const admin = await findAdminByEmail(db, email)
  const ok = await verifyPasswordOrDummy(password, admin?.passwordHash ?? null)
  return ok && admin ? admin : null
}

/**
 * The browser has logged in as this admin before: the address's lock does not apply, its own
 * device count and the client's count do.
 */
async function knownDeviceAttempt(a: Attempt, deviceKey: string, ipKey: string): Promise<Verdict> {
  const { db } = a.c.get('deps')
  const keys = [deviceKey, ipKey]
  const refused = await beginLoginAttempt(db, keys, a.policy, a.now)
  if (refused !== null) return { kind: 'refused', until: refused }
  const admin = await checkPassword(a.email, a.password, db)
  if (!admin) return { kind: 'wrong', lockedUntil: await lockSpentKeys(db, keys, a.policy, a.now) }
  await clearLoginFailures(db, deviceKey)
  await refundLoginAttempt(db, ipKey, a.now)
  return { kind: 'right', adminId: admin.id }
}

/**
 * The address is locked and the browser is not known: one attempt at a time per address may
 * still go, after a wait, so that whoever locked the address cannot keep its owner out.
 */
async function delayedAttempt(a: Attempt, emailKey: string, ipKey: string): Promise<Verdict> {
  const { db, config, sleep, clock } = a.c.get('deps')
  const refused = await beginLoginAttempt(db, [ipKey], a.policy, a.now)
  if (refused !== null) return { kind: 'refused', until: refused }
  const leaseMs = config.lockedLoginDelayMs + DELAYED_ATTEMPT_MARGIN_MS
  if (!(await claimDelayedAttempt(db, emailKey, leaseMs, a.now))) {
    // Nothing was tried: the client is not charged.
    await refundLoginAttempt(db, ipKey, a.now)
    return { kind: 'busy' }
  }
  try {
    await (sleep ?? realSleep)(config.lockedLoginDelayMs)
    const admin = await checkPassword(a.email, a.password, db)
    const now = clock()
    if (!admin) {
      await recordFailureWhileLocked(db, emailKey, a.policy, now)
      return { kind: 'wrong', lockedUntil: await lockSpentKeys(db, [ipKey], a.policy, now) }
    }
    await clearLoginFailures(db, emailKey)
    await refundLoginAttempt(db, ipKey, now)
    return { kind: 'right', adminId: admin.id }
  } finally {
    await releaseDelayedAttempt(db, emailKey)
  }
}

/** Neither known nor locked: the address's count and the client's both apply. */
async function ordinaryAttempt(a: Attempt, emailKey: string, ipKey: string): Promise<Verdict> {
  const { db } = a.c.get('deps')
  const keys = [emailKey, ipKey]
  const refused = await beginLoginAttempt(db, keys, a.policy, a.now)
  if (refused !== null) return { kind: 'refused', until: refused }
  const admin = await checkPassword(a.email, a.password, db)
  if (!admin) return { kind: 'wrong', lockedUntil: await lockSpentKeys(db, keys, a.policy, a.now) }
  // Only the right password clears the address's count; the client's is merely not charged, so
  // that logging in to one's own login between guesses at others does not reset it.
  await clearLoginFailures(db, emailKey)
  await refundLoginAttempt(db, ipKey, a.now)
  return { kind: 'right', adminId: admin.id }
}

async function attemptLogin(a: Attempt): Promise<Verdict> {
  const { db } = a.c.get('deps')
  const emailKey = emailThrottleKey(a.email)
  const ipKey = ipThrottleKey(clientIp(a.c))
  const device = readDeviceCookie(a.c)
  if (device) {
    const owner = await findAdminByEmail(db, a.email)
    if (owner?.id === device.adminId) {
      return knownDeviceAttempt(a, deviceThrottleKey(device.deviceId), ipKey)
    }
  }
  if ((await lockedUntil(db, [emailKey], a.now)) !== null) {
    return delayedAttempt(a, emailKey, ipKey)
  }
  return ordinaryAttempt(a, emailKey, ipKey)
}

export const authRoutes = new Hono<AdminEnv>()

authRoutes.get('/login', async (c) => {
  const next = safeLocalPath(c.req.query('next'))
  const token = await readSessionToken(c)
  const { db, clock } = c.get('deps')
  if (token && (await findSessionAdmin(db, token, clock()))) return c.redirect(next ?? '/', 302)
  return c.render(<LoginForm c={c} next={next} />, { title: t(c.get('lang')).title })
})

authRoutes.post('/login', async (c) => {
  const { db, clock, config } = c.get('deps')
  const m = t(c.get('lang'))
  const body = await c.req.parseBody()
  const email = String(body.email ?? '').trim()
  const password = String(body.password ?? '')
  const next = safeLocalPath(String(body.next ?? ''))
  const formAgain = (status: 400 | 401, error: string) => {
    c.status(status)
    return c.render(<LoginForm c={c} email={email} next={next} error={error} />, {
      title: m.title,
    })
  }
  if (!email || !password || email.length > 254 || password.length > MAX_FIELD_LENGTH) {
    return formAgain(400, m.missing)
  }
  const now = clock()
  const policy = {
    maxFailures: config.loginMaxFailures,
    windowMs: config.loginLockoutMinutes * 60_000,
  }
  const verdict = await attemptLogin({ c, email, password, policy, now })
  if (verdict.kind === 'refused') return throttledPage(c, verdict.until)
  if (verdict.kind === 'busy') return busyPage(c)
  if (verdict.kind === 'wrong') {
    if (verdict.lockedUntil !== null) return throttledPage(c, verdict.lockedUntil)
    return formAgain(401, m.wrong)
  }

  await purgeLoginThrottle(db, policy, now)
  // A session cookie brought to the login (perhaps planted) is never reused: a new token each time.
  const presented = await readSessionToken(c)
  if (presented) await deleteSession(db, presented)
  await purgeExpiredSessions(db, now)
  await startSession(c, verdict.adminId)
  setDeviceCookie(c, verdict.adminId)
  return c.redirect(next ?? '/', 303)
})

authRoutes.post('/logout', async (c) => {
  await endSession(c)
  return c.redirect('/login', 303)
})
