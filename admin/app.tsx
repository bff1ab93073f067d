import { Hono, type MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { bodyLimit } from 'hono/body-limit'
import { getCookie, setCookie } from 'hono/cookie'
import { jsxRenderer } from 'hono/jsx-renderer'
import type { AdminDeps, AdminEnv, Lang } from './env'
import { chooseLang, defineMessages, LANGS } from './i18n'
import { HOME_SECTION, Layout, accountHref, isAccountSection } from './layout'
import { rememberAccount, rememberedAccount } from './current-account'
import { loadFlash } from './flash'
import { requireSession, safeLocalPath } from './session'
import { requireSameOrigin } from './origin-check'
import { loadAssets, assetRoutes } from './static'
import { errorPage } from './pages/errors'
import { MessageBody } from './pages/render'
import { parseId } from './ids'
import { authRoutes } from './routes/auth'
import { activationRoutes } from './routes/activation'
import { passwordResetRoutes } from './routes/password-reset'
import { helpRoutes } from './routes/help'
import { BackgroundTasks } from './background'
import { detailsRoutes } from './routes/details'
import { usersRoutes } from './routes/users'
import { preferencesRoutes } from './routes/preferences'
import { receivingRoutes } from './routes/receiving'
import { limitsRoutes } from './routes/limits'
import { ipsRoutes } from './routes/ips'
import { messagesRoutes } from './routes/messages'
import { webhookRoutes } from './routes/webhook'
import { testSmsRoutes } from './routes/test-sms'
import { messagesExportRoutes } from './routes/messages-export'
import { inboxRoutes } from './routes/inbox'
import { optOutsRoutes } from './routes/opt-outs'
import { auditRoutes } from './routes/audit'
import { usageRoutes } from './routes/usage'

export const LANG_COOKIE = 'lang'
const MAX_FORM_BYTES = 64 * 1024

const t = defineMessages(
  {
    noAccountTitle: 'Aucun compte',
    noAccount:
      'Votre identifiant n’administre encore aucun compte. Demandez à l’opérateur du service de vous en attribuer un.',
  },
  {
    noAccountTitle: 'No account',
    noAccount:
      'Your login does not administer any account yet. Ask the service’s operator to give you one.',
  },
)

/**
 * Routes under /a/:accountId/ are for accounts the admin administers. Any other id, existing or
 * not, gets the same 404, so that ids of other accounts cannot be probed.
 */
const requireAccount: MiddlewareHandler<AdminEnv> = async (c, next) => {
  const id = parseId(c.req.param('accountId'))
  const account = id === null ? undefined : c.get('accounts').find((a) => a.id === id)
  if (!account) return c.notFound()
  c.set('account', account)
  rememberAccount(c, account)
  await next()
}

/** Invitation and reset links are passwords until used: logs get their place, never the token. */
function loggablePath(path: string): string {
  return path.replace(/^\/(activate|password-reset)\/[^/]+/, '/$1/…')
}

/**
 * A multipart body that does not parse is the client's mistake: 400, not a 500 with a stack
 * trace in the log. The parsed form is kept by Hono for the route's own parseBody().
 */
const refuseMalformedForms: MiddlewareHandler<AdminEnv> = async (c, next) => {
  const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD'
  if (hasBody && /^multipart\/form-data/i.test(c.req.header('content-type') ?? '')) {
    try {
      await c.req.parseBody()
    } catch {
      return errorPage(c, 400)
    }
  }
  await next()
}

function setRequestContext(deps: AdminDeps): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    c.set('deps', deps)
    c.set('lang', chooseLang(getCookie(c, LANG_COOKIE), c.req.header('accept-language')))
    await next()
  }
}

/**
 * The admin as a Hono app. Everything it touches comes in `deps`, so tests run it with their
 * own database, mailer and clock through app.request().
 */
export function createApp(deps: AdminDeps): Hono<AdminEnv> {
  if (deps.config.sessionSecret.length < 32) {
    throw new Error('admin: the session secret must be at least 32 characters')
  }
  const log = deps.log ?? ((line: string) => console.error(line))
  deps.background ??= new BackgroundTasks(log)
  const origin = new URL(deps.config.baseUrl).origin
  const secure = deps.config.baseUrl.startsWith('https:')
  const app = new Hono<AdminEnv>()

  if (deps.observeRequests) app.use('*', deps.observeRequests)
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      referrerPolicy: 'same-origin',
      xFrameOptions: 'DENY',
      strictTransportSecurity: secure ? 'max-age=31536000' : false,
    }),
  )
  app.use('*', setRequestContext(deps))
  // Carriers post here from their own servers: no Origin, no session; the route checks a secret.
  app.route('/webhooks', webhookRoutes)
  app.use(
    '*',
    requireSameOrigin(origin, (c) => errorPage(c, 403)),
  )
  // The admin's forms are a few fields: a large body is a mistake or an attack.
  app.use('*', bodyLimit({ maxSize: MAX_FORM_BYTES, onError: (c) => errorPage(c, 413) }))
  app.use('*', refuseMalformedForms)
  app.use('*', loadFlash())
  app.use(
    '*',
    jsxRenderer(({ children, title, section }, c) => (
      <Layout c={c} title={title} section={section}>
        {children}
      </Layout>
    )),
  )

  // Public: the login, invitation and reset links, help, the stylesheet, the language switch.
  app.route('/assets', assetRoutes(loadAssets()))
  app.route('/', authRoutes)
  app.route('/activate', activationRoutes)
  app.route('/password-reset', passwordResetRoutes)
  app.route('/help', helpRoutes)
  app.post('/lang', async (c) => {
    const body = await c.req.parseBody()
    const lang = String(body.lang ?? '')
    if ((LANGS as string[]).includes(lang)) {
      setCookie(c, LANG_COOKIE, lang as Lang, {
        path: '/',
        sameSite: 'Lax',
        httpOnly: true,
        secure,
        maxAge: 365 * 24 * 3600,
      })
    }
    return c.redirect(safeLocalPath(String(body.back ?? '')) ?? '/', 303)
  })

  app.use(
    '*',
    requireSession((c) => errorPage(c, 401)),
  )

  app.get('/', (c) => {
    const account = rememberedAccount(c, c.get('accounts'))
    if (account) return c.redirect(accountHref(account, HOME_SECTION), 302)
    const m = t(c.get('lang'))
    return c.render(<MessageBody text={m.noAccount} />, { title: m.noAccountTitle })
  })
  app.get('/switch', (c) => {
    const id = parseId(c.req.query('account'))
    const section = c.req.query('section')
    const account = c.get('accounts').find((a) => a.id === id)
    if (!account || !isAccountSection(section)) return c.notFound()
    return c.redirect(`/a/${account.id}/${section}`, 302)
  })
  app.route('/details', detailsRoutes)

  app.use('/a/:accountId/*', requireAccount)
  app.get('/a/:accountId', requireAccount, (c) =>
    c.redirect(accountHref(c.get('account'), HOME_SECTION)),
  )
  app.route('/a/:accountId/users', usersRoutes)
  app.route('/a/:accountId/preferences', preferencesRoutes)
  app.route('/a/:accountId/test-sms', testSmsRoutes)
  app.route('/a/:accountId/receiving', receivingRoutes)
  app.route('/a/:accountId/ips', ipsRoutes)
  app.route('/a/:accountId/limits', limitsRoutes)
  app.route('/a/:accountId/messages/export.csv', messagesExportRoutes)
  app.route('/a/:accountId/messages', messagesRoutes)
  app.route('/a/:accountId/inbox', inboxRoutes)
  app.route('/a/:accountId/opt-outs', optOutsRoutes)
  app.route('/a/:accountId/audit', auditRoutes)
  app.route('/a/:accountId/usage', usageRoutes)

  app.notFound((c) => errorPage(c, 404))
  app.onError((err, c) => {
    if (err instanceof HTTPException) return errorPage(c, err.status)
    log(`admin error ${c.req.method} ${loggablePath(c.req.path)}: ${err.stack ?? err.message}`)
    return errorPage(c, 500)
  })
  return app
}
