import { Hono, type Context } from 'hono'
import type { HttpBindings } from '@hono/node-server'
import type { AdminDeps, AdminEnv } from '../env'
import { defineMessages } from '../i18n'
import { Field, FormError } from '../components/form'
import { endSession, readSessionToken, safeLocalPath, startSession } from '../session'
import { findAdminByEmail } from '../../lib/db/admins'
import { deleteSession, findSessionAdmin, purgeExpiredSessions } from '../../lib/db/admin-sessions'
import {
  beginLoginAttempt,
  clearLoginFailures,
  emailThrottleKey,
  ipThrottleKey,
  lockSpentKeys,
  purgeLoginThrottle,
  refundLoginAttempt,
} from '../../lib/db/login-throttle'
import { verifyPasswordOrDummy } from '../../lib/auth/password'
import { TrustedProxies, clientAddress } from '../../lib/net/client-ip'

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
  },
)

/** Longer input is refused before any hashing, so a huge password cannot cost CPU. */
const MAX_FIELD_LENGTH = 1000

// The proxies of admin.trusted_proxies, parsed once per configuration.
const trustedByConfig = new WeakMap<object, TrustedProxies>()

function trustedProxies(config: AdminDeps['config']): TrustedProxies {
  let trusted = trustedByConfig.get(config)
  if (!trusted) {
    trusted = new TrustedProxies(config.trustedProxies ?? [])
    trustedByConfig.set(config, trusted)
  }
  return trusted
}

/**
 * The client's address for the login throttle: the connection's, or behind a reverse proxy
 * listed in admin.trusted_proxies the one it forwarded. Without that setting every client
 * behind a proxy would share its address, and a few wrong passwords would lock everyone out.
 */
function clientIp(c: Context<AdminEnv>): string {
  const bindings = c.env as Partial<HttpBindings> | undefined
  const peer = bindings?.incoming?.socket?.remoteAddress
  return clientAddress(peer, c.req.header('x-forwarded-for'), trustedProxies(c.get('deps').config))
}

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
  const [emailKey, ipKey] = [emailThrottleKey(email), ipThrottleKey(clientIp(c))]
  const keys = [emailKey, ipKey]
  const refused = await beginLoginAttempt(db, keys, policy, now)
  if (refused !== null) return throttledPage(c, refused)

  const admin = await findAdminByEmail(db, email)
  const ok = await verifyPasswordOrDummy(password, admin?.passwordHash ?? null)
  if (!ok || !admin) {
    const lockedNow = await lockSpentKeys(db, keys, policy, now)
    if (lockedNow !== null) return throttledPage(c, lockedNow)
    return formAgain(401, m.wrong)
  }

  // Only the right password clears the address's count; the client's is merely not charged, so
  // that logging in to one's own login between guesses at others does not reset it.
  await clearLoginFailures(db, emailKey)
  await refundLoginAttempt(db, ipKey, now)
  await purgeLoginThrottle(db, policy, now)
  // A session cookie brought to the login (perhaps planted) is never reused: a new token each time.
  const presented = await readSessionToken(c)
  if (presented) await deleteSession(db, presented)
  await purgeExpiredSessions(db, now)
  await startSession(c, admin.id)
  return c.redirect(next ?? '/', 303)
})

authRoutes.post('/logout', async (c) => {
  await endSession(c)
  return c.redirect('/login', 303)
})
