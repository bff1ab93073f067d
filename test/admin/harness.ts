/**
 * Test harness for the admin: a real database (SQLite or MariaDB), the real app, a mailer that
 * keeps what it sends, and a clock the test moves.
 *
 *   let h: AdminHarness
 *   before(async () => { h = await createAdminHarness(kind) })   // a new database: ~3 s on MariaDB
 *   beforeEach(() => h.reset())                   // empties every table, seeds again: fast
 *   after(() => h.drop())
 *   h.app, h.db, h.deps, h.config                 // the app and what it runs on
 *   h.mailer.sent                                 // OutgoingMail[] sent so far
 *   h.clock.now = …; h.clock.advance(ms)          // deps.clock() reads h.clock.now
 *   h.accounts.acme, h.accounts.globex            // Account rows (refs 'acme', 'globex');
 *                                                 // read them after reset(): ids change
 *   h.admins.alice  (alice@acme.test: acme only), h.admins.bob (bob@multi.test: both)
 *   Nothing else is seeded: no senders, no IPs, no SMS.
 *   PASSWORD                                      // 'correct horse battery', both admins
 *
 *   const cookie = await login(h.app, 'alice@acme.test', PASSWORD)   // throws if refused
 *   const res = await get(h.app, `/a/${h.accounts.acme.id}/users`, cookie)
 *   const res2 = await postForm(h.app, '/a/1/users', { email: 'x@y.test' }, { cookie })
 *     // Origin is BASE_ORIGIN unless { origin: 'http://evil.test' } or { omitOrigin: true }
 *   cookie = withCookies(cookie, res2)             // carry Set-Cookie (session, flash, lang)
 *   const { res: page, cookie: c2 } = await follow(h.app, res2, cookie)
 *     // GETs the Location of a redirect with the cookies it set: the page with its flash
 *   ;({ h, cookie, base, globexBase } = await openSection(kind, 'ips'))
 *     // a new harness with Alice logged in, and the section's paths for acme and globex
 *   decoded(html)                                  // the page text with hono/jsx's escapes undone
 *
 * Paths are relative ('/login'); requests go to BASE_URL, 'http://admin.test'.
 */
import assert from 'node:assert/strict'
import type { Hono } from 'hono'
import { createApp } from '../../admin/app'
import type { AdminDeps, AdminEnv } from '../../admin/env'
import type { AdminConfig } from '../../lib/config'
import type { Db } from '../../lib/db/connection'
import type { Mailer, OutgoingMail, SentMail } from '../../lib/mail/mailer'
import { createAccount, type Account } from '../../lib/db/accounts'
import { createAdmin, grantAccount, type Admin } from '../../lib/db/admins'
import { hashPassword } from '../../lib/auth/password'
import { createTestDatabase } from '../support/databases'
import { DEFAULT_ALLOWLIST_LIMITS } from '../../lib/net/allowlist-coverage'

export const BASE_URL = 'http://admin.test'
export const BASE_ORIGIN = new URL(BASE_URL).origin
export const PASSWORD = 'correct horse battery'
export const SMS_DOMAIN = 'sms.test'

export type AdminApp = Hono<AdminEnv>

export class CapturingMailer implements Mailer {
  readonly sent: OutgoingMail[] = []
  /** Set to make the next sends fail, as an unreachable relay would. */
  failWith: Error | null = null

  async send(mail: OutgoingMail): Promise<SentMail> {
    if (this.failWith) throw this.failWith
    this.sent.push(mail)
    return { messageId: `<test-${this.sent.length}@${SMS_DOMAIN}>` }
  }

  async close(): Promise<void> {}
}

export interface TestClock {
  now: number
  advance(ms: number): void
}

export interface AdminHarness {
  kind: 'sqlite' | 'mysql'
  app: AdminApp
  db: Db
  deps: AdminDeps
  config: AdminConfig
  mailer: CapturingMailer
  clock: TestClock
  accounts: { acme: Account; globex: Account }
  admins: { alice: Admin; bob: Admin }
  /** Lines the app logged (errors it could not show on a page). */
  logs: string[]
  /** Empties every table but the migrations' own, seeds the fixtures again, rewinds the clock. */
  reset(): Promise<void>
  drop(): Promise<void>
}

const START = Date.UTC(2026, 10, 27, 9, 0, 0)

/** Tables the migrations fill and nobody else writes: kept by reset(). */
const KEPT_TABLES = new Set(['knex_migrations', 'knex_migrations_lock', 'cache_versions'])

async function listTables(db: Db, kind: 'sqlite' | 'mysql'): Promise<string[]> {
  if (kind === 'sqlite') {
    const rows = (await db.raw(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )) as Array<{ name: string }>
    return rows.map((r) => r.name)
  }
  const [rows] = (await db.raw(
    'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
  )) as [Array<{ name: string }>]
  return rows.map((r) => r.name)
}

/** Deletes every row of every table but KEPT_TABLES, ignoring foreign keys while it does. */
async function emptyTables(db: Db, kind: 'sqlite' | 'mysql'): Promise<void> {
  const tables = (await listTables(db, kind)).filter((t) => !KEPT_TABLES.has(t))
  if (kind === 'sqlite') {
    // The pool has one connection, so the pragma applies to the deletes below.
    await db.raw('PRAGMA foreign_keys = OFF')
    try {
      for (const table of tables) await db(table).delete()
    } finally {
      await db.raw('PRAGMA foreign_keys = ON')
    }
    return
  }
  // A transaction holds one connection, where the session variable applies.
  await db.transaction(async (trx) => {
    await trx.raw('SET FOREIGN_KEY_CHECKS = 0')
    for (const table of tables) await trx(table).delete()
    await trx.raw('SET FOREIGN_KEY_CHECKS = 1')
  })
}

async function seed(db: Db, now: number) {
  const acme = await createAccount(db, { ref: 'acme', name: 'Acme SA' }, now)
  const globex = await createAccount(db, { ref: 'globex', name: 'Globex Corp' }, now)
  passwordHash ??= hashPassword(PASSWORD)
  const hash = await passwordHash
  const alice = await createAdmin(
    db,
    { email: 'alice@acme.test', name: 'Alice', passwordHash: hash },
    now,
  )
  const bob = await createAdmin(
    db,
    { email: 'bob@multi.test', name: 'Bob', passwordHash: hash },
    now,
  )
  await grantAccount(db, alice.id, acme.id, now)
  await grantAccount(db, bob.id, acme.id, now)
  await grantAccount(db, bob.id, globex.id, now)
  return { accounts: { acme, globex }, admins: { alice, bob } }
}

export function testAdminConfig(overrides: Partial<AdminConfig> = {}): AdminConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    baseUrl: BASE_URL,
    sessionSecret: 'test-session-secret-of-at-least-32-characters',
    sessionTtlHours: 12,
    invitationTtlHours: 72,
    loginMaxFailures: 5,
    loginLockoutMinutes: 15,
    // Short, so that tests reaching a locked address do not wait; the delay's own tests hold
    // it with an injected sleep.
    lockedLoginDelayMs: 10,
    invitationMailsPerAddress: 3,
    invitationMailsPerAccount: 50,
    invitationMailWindowMinutes: 60,
    ...overrides,
  }
}

// Hashing is slow on purpose; every harness shares one hash of PASSWORD.
let passwordHash: Promise<string> | null = null

export async function createAdminHarness(
  kind: 'sqlite' | 'mysql',
  options: { config?: Partial<AdminConfig> } = {},
): Promise<AdminHarness> {
  const testDb = await createTestDatabase(kind, { migrate: true })
  const { db } = testDb
  const clock: TestClock = {
    now: START,
    advance(ms) {
      this.now += ms
    },
  }
  const mailer = new CapturingMailer()
  const config = testAdminConfig(options.config)
  const logs: string[] = []
  const deps: AdminDeps = {
    db,
    mailer,
    clock: () => clock.now,
    config,
    smsDomains: [SMS_DOMAIN],
    inbound: { directReplyWindowHours: 72 },
    allowlist: { ...DEFAULT_ALLOWLIST_LIMITS },
    log: (line) => logs.push(line),
  }
  const seeded = await seed(db, clock.now)
  const harness: AdminHarness = {
    kind,
    app: createApp(deps),
    db,
    deps,
    config,
    mailer,
    clock,
    ...seeded,
    logs,
    async reset() {
      clock.now = START
      mailer.sent.length = 0
      mailer.failWith = null
      logs.length = 0
      await emptyTables(db, kind)
      Object.assign(harness, await seed(db, clock.now))
    },
    drop: () => testDb.drop(),
  }
  return harness
}

/** The Cookie header after a response: its Set-Cookie values replace or delete earlier ones. */
export function withCookies(cookie: string, res: Response): string {
  const jar = new Map<string, string>()
  for (const part of cookie.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0) jar.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attributes] = line.split(';')
    const eq = pair.indexOf('=')
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))
    if (expired || value === '') jar.delete(name)
    else jar.set(name, value)
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}

export function get(
  app: AdminApp,
  path: string,
  cookie = '',
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(
    app.request(`${BASE_URL}${path}`, {
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    }),
  )
}

export interface PostOptions {
  cookie?: string
  /** Defaults to BASE_ORIGIN, as a browser on the admin's pages sends. */
  origin?: string
  omitOrigin?: boolean
  headers?: Record<string, string>
}

export function postForm(
  app: AdminApp,
  path: string,
  fields: Record<string, string>,
  options: PostOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    ...options.headers,
  }
  if (!options.omitOrigin) headers.origin = options.origin ?? BASE_ORIGIN
  if (options.cookie) headers.cookie = options.cookie
  return Promise.resolve(
    app.request(`${BASE_URL}${path}`, {
      method: 'POST',
      headers,
      body: new URLSearchParams(fields).toString(),
    }),
  )
}

/** Logs in through the form; returns the Cookie header of the new session. */
export async function login(app: AdminApp, email: string, password: string): Promise<string> {
  const res = await postForm(app, '/login', { email, password })
  if (res.status !== 303) {
    throw new Error(`login of ${email} answered ${res.status}, not 303`)
  }
  return withCookies('', res)
}

/** Follows one redirect with the cookies the redirecting response set. */
export async function follow(
  app: AdminApp,
  res: Response,
  cookie = '',
): Promise<{ res: Response; cookie: string }> {
  const location = res.headers.get('location')
  if (!location || res.status < 300 || res.status > 399) {
    throw new Error(`expected a redirect, got ${res.status}`)
  }
  const next = withCookies(cookie, res)
  const url = new URL(location, BASE_URL)
  const page = await get(app, url.pathname + url.search, next)
  return { res: page, cookie: withCookies(next, page) }
}

/** What the tests of one account section start from. */
export interface SectionStart {
  h: AdminHarness
  /** Alice's session: she administers acme only. */
  cookie: string
  /** The section of acme, Alice's account. */
  base: string
  /** The same section of globex, which is not hers. */
  globexBase: string
}

/** A new harness with Alice logged in, and the paths of one section (e.g. 'ips') for both accounts. */
export async function openSection(
  kind: 'sqlite' | 'mysql',
  section: string,
): Promise<SectionStart> {
  const h = await createAdminHarness(kind)
  try {
    const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
    return {
      h,
      cookie,
      base: `/a/${h.accounts.acme.id}/${section}`,
      globexBase: `/a/${h.accounts.globex.id}/${section}`,
    }
  } catch (err) {
    await h.drop()
    throw err
  }
}

/** Page text as a reader sees it: hono/jsx escapes quotes, apostrophes and markup characters. */
export function decoded(html: string): string {
  return html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** The activation path (`/activate/<token>`) in an invitation mail's text. */
export function linkOf(text: string): string {
  const match = /http:\/\/admin\.test(\/activate\/[A-Za-z0-9_-]{43})/.exec(text)
  assert.ok(match, `no activation link in:\n${text}`)
  return match[1]
}
