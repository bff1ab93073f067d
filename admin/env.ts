import type { MiddlewareHandler } from 'hono'
import type { Db } from '../lib/db/connection'
import type { Mailer } from '../lib/mail/mailer'
import type { AdminConfig, InboundConfig, LimitsConfig } from '../lib/config'
import type { AllowlistLimits } from '../lib/net/allowlist-coverage'
import type { BackgroundTasks } from './background'

/** The admin's two languages; French labels use the guide's own words. */
export type Lang = 'fr' | 'en'

/** What every handler may use, passed to createApp() so tests bring their own parts. */
export interface AdminDeps {
  db: Db
  mailer: Mailer
  /** Milliseconds since the epoch; tests move time to expire sessions and invitations. */
  clock: () => number
  config: AdminConfig
  /** SMS domains of the MX: forwards and the SPF note name them. */
  smsDomains: string[]
  inbound?: InboundConfig
  /** `[limits]`: the defaults the limits page shows beside an account's own values. */
  limits?: LimitsConfig
  /** How much of the address space one account's IP list may cover. */
  allowlist: AllowlistLimits
  /** Waits; tests pass one they control to hold a delayed login. Default: a timer. */
  sleep?: (ms: number) => Promise<void>
  /** Where the admin reports what it cannot show on a page (a mail that failed, a 500). */
  log?: (line: string) => void
  /** Runs first on every request: the request timing of admin/metrics.ts, when metrics are on. */
  observeRequests?: MiddlewareHandler
  /** Work after the response (admin/background.ts); createApp makes one when absent. */
  background?: BackgroundTasks
}

/** A one-time message shown on the next page (see admin/flash.ts). */
export interface Flash {
  kind: 'ok' | 'error'
  text: string
}

export interface SessionAdmin {
  id: number
  email: string
  name: string
  isOperator: boolean
}

export interface AdminAccount {
  id: number
  ref: string
  name: string
  /** IANA zone: the account's pages show every date, and count every day, in it. */
  timeZone: string
}

/**
 * Hono environment of every admin route. Routes under /a/:accountId/ run after a middleware
 * that has checked the logged-in admin administers that account, and set `account`.
 */
export interface AdminEnv {
  Variables: {
    deps: AdminDeps
    lang: Lang
    /** Set on every route behind the login. */
    admin: SessionAdmin
    /** Accounts the admin administers, for the account selector. */
    accounts: AdminAccount[]
    /** Set on /a/:accountId/ routes only, after the ownership check. */
    account: AdminAccount
    /** sha256 of the session token behind the login; set with `admin`. */
    sessionTokenHash: string
    /** The flash message that came with the request, if any; the layout shows it once. */
    flash?: Flash
  }
}

export interface PageProps {
  title: string
  /** Which menu entry is current: an account section (layout.tsx ACCOUNT_SECTIONS) or details. */
  section?: string
}

declare module 'hono' {
  interface ContextRenderer {
    (content: string | Promise<string>, props: PageProps): Response | Promise<Response>
  }
}
