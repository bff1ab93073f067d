import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type { AddressInfo } from 'node:net'
import { getRequestListener } from '@hono/node-server'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { createApp } from '../../admin/app'
import type { AdminConfig } from '../../lib/config'
import { createAccount, type Account } from '../../lib/db/accounts'
import { createMailer, type Mailer } from '../../lib/mail/mailer'
import { DEFAULT_ALLOWLIST_LIMITS } from '../../lib/net/allowlist-coverage'
import { createTestDatabase, type TestDatabase } from '../support/databases'
import { SmtpSink } from '../support/smtp-sink'
import { seedAdmin, type SeededAdmin } from './seed'

/** Where screenshots go; test/artifacts is ignored by git. */
export const ARTIFACTS_DIR = path.join(__dirname, '..', 'artifacts', 'browser')

/** Flags Debian's chromium needs to run headless in a container without reaching the network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

/** Long enough for MariaDB's first queries and chromium's first paint; no step sleeps. */
export const STEP_TIMEOUT_MS = 15_000

export const CHROMIUM_PATH = process.env.MAIL2SMS_TEST_CHROMIUM ?? '/usr/bin/chromium'

/**
 * A page together with everything it complained about: uncaught errors, console errors (CSP
 * violations show up there) and server errors. The test fails when the list is not empty.
 */
export interface WatchedPage {
  context: BrowserContext
  page: Page
  problems: string[]
}

export interface BrowserHarness {
  kind: TestDatabase['kind']
  database: TestDatabase
  sink: SmtpSink
  baseUrl: string
  browser: Browser
  admin: SeededAdmin
  /** Two accounts the admin administers, in creation order: the selector has a choice. */
  accounts: [Account, Account]
  /** What the admin reported through deps.log (failed mails, 500s), to explain a failure. */
  serverLog: string[]
  /** A fresh browser context (its own cookies), as a separate person would have. */
  openPage(): Promise<WatchedPage>
  /** Saves a numbered full-page screenshot under test/artifacts/browser/<shotFolder>/. */
  screenshot(page: Page, step: string): Promise<string>
  close(): Promise<void>
}

function adminConfig(baseUrl: string, port: number): AdminConfig {
  return {
    host: '127.0.0.1',
    port,
    baseUrl,
    // A fixed secret: an empty one would make the admin write data/session.secret in the repo.
    sessionSecret: 'browser-test-session-secret-0123456789abcdef',
    sessionTtlHours: 8,
    invitationTtlHours: 72,
    loginMaxFailures: 5,
    loginLockoutMinutes: 15,
    lockedLoginDelayMs: 3000,
    invitationMailsPerAddress: 3,
    invitationMailsPerAccount: 50,
    invitationMailWindowMinutes: 60,
  }
}

/**
 * The admin's base URL must be known before the app is built (invitation links and the CSRF
 * origin come from it), so the server listens on a free port first and gets its handler after.
 */
async function listenOnLoopback(server: http.Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return (server.address() as AddressInfo).port
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    // Chromium keeps connections alive; without this close() waits for their idle timeout.
    server.closeAllConnections()
  })
}

function watch(context: BrowserContext, page: Page): WatchedPage {
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`))
  page.on('console', (message) => {
    if (message.type() !== 'error') return
    // Failed loads are judged from the responses below, where the kind of request is known.
    if (message.text().startsWith('Failed to load resource')) return
    problems.push(`console error: ${message.text()} (${message.location().url || 'no url'})`)
  })
  page.on('response', (response) => {
    const request = response.request()
    const status = response.status()
    // A form sent back with its errors is a 400 page, as it should be; a missing stylesheet or
    // script is not, and neither is any server error.
    const broken = request.resourceType() === 'document' ? status >= 500 : status >= 400
    if (broken && new URL(response.url()).pathname !== '/favicon.ico') {
      problems.push(`${request.resourceType()} ${response.url()} answered ${status}`)
    }
  })
  page.on('requestfailed', (request) => {
    // The live preview aborts its previous request when the text changes again: by design.
    if (request.failure()?.errorText === 'net::ERR_ABORTED') return
    problems.push(`request failed: ${request.url()} (${request.failure()?.errorText ?? '?'})`)
  })
  return { context, page, problems }
}

export async function startBrowserHarness(
  kind: TestDatabase['kind'],
  /** The screenshots' folder under test/artifacts/browser/; each suite has its own. */
  shotFolder: string = kind,
): Promise<BrowserHarness> {
  const cleanups: Array<() => Promise<void>> = []
  const closeAll = async (): Promise<void> => {
    const errors: unknown[] = []
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup()
      } catch (err) {
        errors.push(err)
      }
    }
    if (errors.length > 0) throw errors[0]
  }

  try {
    const database = await createTestDatabase(kind, { migrate: true })
    cleanups.push(() => database.drop())

    const sink = new SmtpSink()
    await sink.start()
    cleanups.push(() => sink.stop())
    const mailer: Mailer = createMailer(sink.mailerConfig())
    cleanups.push(() => mailer.close())

    const server = http.createServer()
    const port = await listenOnLoopback(server)
    cleanups.push(() => closeServer(server))
    const baseUrl = `http://127.0.0.1:${port}`
    const serverLog: string[] = []
    const app = createApp({
      db: database.db,
      mailer,
      clock: Date.now,
      config: adminConfig(baseUrl, port),
      smsDomains: ['sms.example.test'],
      allowlist: DEFAULT_ALLOWLIST_LIMITS,
      log: (line) => serverLog.push(line),
    })
    server.on('request', getRequestListener(app.fetch))

    const first = await createAccount(database.db, { ref: 'atelier', name: 'Atelier Dupont' })
    const second = await createAccount(database.db, {
      ref: 'boulangerie',
      name: 'Boulangerie Martin',
    })
    const admin = await seedAdmin(database.db, [first.id, second.id])

    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS })
    cleanups.push(() => browser.close())

    const shotDir = path.join(ARTIFACTS_DIR, shotFolder)
    fs.rmSync(shotDir, { recursive: true, force: true })
    fs.mkdirSync(shotDir, { recursive: true })
    let shots = 0

    return {
      kind,
      database,
      sink,
      baseUrl,
      browser,
      admin,
      accounts: [first, second],
      serverLog,
      async openPage() {
        const context = await browser.newContext({
          baseURL: baseUrl,
          locale: 'fr-FR',
          viewport: { width: 1280, height: 900 },
        })
        context.setDefaultTimeout(STEP_TIMEOUT_MS)
        context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS)
        const page = await context.newPage()
        return watch(context, page)
      },
      async screenshot(page, step) {
        shots += 1
        const file = path.join(shotDir, `${String(shots).padStart(2, '0')}-${step}.png`)
        await page.screenshot({ path: file, fullPage: true })
        return file
      },
      close: closeAll,
    }
  } catch (err) {
    await closeAll()
    throw err
  }
}
