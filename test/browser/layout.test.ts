import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { ACCOUNT_SECTIONS } from '../../admin/layout'
import type { Db } from '../../lib/db/connection'
import { addSender } from '../../lib/db/senders'
import { addOptOut } from '../../lib/db/opt-outs'
import { recordAuditEntry } from '../../lib/db/audit'
import { startBrowserHarness, type BrowserHarness, type WatchedPage } from './harness'

/** The two screens of the issue: a laptop and a phone held upright. */
const SCREENS = [
  { name: 'wide', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const
const LANGS = ['fr', 'en'] as const

/** On a phone the header and menu may take at most this share of the screen's height. */
const MAX_HEADER_SHARE = 0.25

/** Long words, addresses and records: what made pages wider than the screen before. */
const LONG_EMAIL = 'facturation.service-client.departement-comptabilite@entreprise-exemple.test'
const LONG_WORD = `https://suivi.exemple.test/${'a1b2c3d4'.repeat(12)}`

async function seedWideContent(db: Db, accountId: number, now: number): Promise<void> {
  await addSender(db, accountId, LONG_EMAIL, { status: 'accepted' })
  await addSender(db, accountId, 'paul@exemple.test', { status: 'pending' })
  await db('account_ip_allowlist').insert([
    { account_id: accountId, cidr: '192.0.2.0/24', created_at: now },
    { account_id: accountId, cidr: '2001:db8:1234:5678:9abc:def0:1234:5678/128', created_at: now },
  ])
  const rows = []
  for (let i = 0; i < 6; i++) {
    const body =
      i % 2 === 0
        ? `Livraison prévue demain entre 8 h et 12 h. Suivi : ${LONG_WORD}`
        : `${'Votre rendez-vous est confirmé. '.repeat(8)}Répondez STOP pour ne plus recevoir.`
    rows.push({
      account_id: accountId,
      sender_id: null,
      sender_email: LONG_EMAIL,
      recipient: `+3361234567${i}`,
      body,
      encoding: 'gsm7',
      segments: i % 2 === 0 ? 1 : 2,
      status: ['delivered', 'failed', 'sent', 'queued', 'unknown', 'delivered'][i],
      attempts: 1,
      next_attempt_at: now,
      last_error: i === 1 ? 'receipt: undeliverable' : null,
      dedupe_key: `layout-${accountId}-${i}`,
      created_at: now - i * 3_600_000,
      updated_at: now - i * 3_600_000,
    })
  }
  await db('outbound_sms').insert(rows)
  for (let i = 0; i < 3; i++) {
    await db('inbound_sms').insert({
      account_id: accountId,
      from_number: `+3361234567${i}`,
      to_number: '+33700000001',
      body: i === 0 ? `Bien reçu, merci. ${LONG_WORD}` : 'STOP',
      encoding: 'gsm7',
      parts: 1,
      missing_parts: 0,
      source: 'smpp',
      dedupe_key: `layout-in-${accountId}-${i}`,
      status: i === 0 ? 'forwarded' : 'opt_out',
      last_error: null,
      mailed_to: i === 0 ? LONG_EMAIL : null,
      received_at: now - i * 60_000,
      purged: 0,
    })
  }
  await addOptOut(db, accountId, '+33612345671', 'STOP', now)
  await recordAuditEntry(db, {
    accountId,
    adminId: null,
    adminEmail: LONG_EMAIL,
    action: 'opt_out.remove',
    subject: '+33612345679',
    before: { number: '+33612345679', keyword: 'STOP' },
    after: null,
    clientIp: '2001:db8:1234:5678:9abc:def0:1234:5678',
    at: now,
  })
}

interface Measure {
  width: number
  scrollWidth: number
  outside: string[]
  headerHeight: number
  /** Distinct rows the menu's tabs sit on (1 when they fit on one line). */
  tabRows: number
  /** A filter form whose title is not above its fields, side by side with them. */
  raggedFilter: boolean
  h1: string
  title: string
}

/**
 * How the page sits in the screen: its width, and which elements stick out (those inside a box
 * that scrolls or clips do not count). Run in the page, hence a string: the tests are compiled
 * without the DOM's types.
 */
const MEASURE = `(() => {
  const width = document.documentElement.clientWidth
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') {
        return p !== document.documentElement && p !== document.body
      }
    }
    return false
  }
  const outside = []
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect()
    if (box.width > 0 && box.right > width + 1 && !clipped(el)) {
      outside.push(el.tagName.toLowerCase() + '.' + el.className + ' right=' + Math.round(box.right))
    }
  }
  const header = document.querySelector('.site-header')
  const tabTops = new Set([...document.querySelectorAll('.tabs > li')].map((li) => li.offsetTop))
  const filterTitle = document.querySelector('.sms-filter h2')
  const firstField = document.querySelector('.sms-filter .field')
  const raggedFilter = Boolean(
    filterTitle &&
      firstField &&
      filterTitle.getBoundingClientRect().bottom > firstField.getBoundingClientRect().top + 1,
  )
  return {
    tabRows: tabTops.size,
    raggedFilter,
    width,
    scrollWidth: document.documentElement.scrollWidth,
    outside: outside.slice(0, 8),
    headerHeight: header ? Math.round(header.getBoundingClientRect().height) : 0,
    h1: document.querySelector('h1')?.textContent ?? '',
    title: document.title,
  }
})()`

function measure(page: Page): Promise<Measure> {
  return page.evaluate(MEASURE) as Promise<Measure>
}

describe('the admin at 1280×800 and 390×844, in French and English (sqlite)', function () {
  let h: BrowserHarness
  const pages = new Map<string, WatchedPage>()

  before(async function () {
    h = await startBrowserHarness('sqlite', 'layout')
    await seedWideContent(h.database.db, h.accounts[1].id, Date.now())
  })

  after(async function () {
    for (const watched of pages.values()) await watched.context.close()
    await h?.close()
  })

  /** A logged-in browser at that size and in that language, made once per pair. */
  async function browserFor(
    screen: (typeof SCREENS)[number],
    lang: (typeof LANGS)[number],
  ): Promise<WatchedPage> {
    const key = `${screen.name}-${lang}`
    const known = pages.get(key)
    if (known) return known
    const watched = await h.openPage()
    await watched.page.setViewportSize({ width: screen.width, height: screen.height })
    await watched.context.addCookies([{ name: 'lang', value: lang, url: h.baseUrl }])
    const { page } = watched
    await page.goto('/login')
    await page.locator('input[name=email]').fill(h.admin.email)
    await page.locator('input[name=password]').fill(h.admin.password)
    await Promise.all([page.waitForNavigation(), page.locator('form button.primary').click()])
    pages.set(key, watched)
    return watched
  }

  const second = () => h.accounts[1]
  const paths = (): Array<{ name: string; path: string; ofAccount: boolean }> => [
    ...ACCOUNT_SECTIONS.map((s) => ({
      name: s,
      path: `/a/${second().id}/${s}`,
      ofAccount: true,
    })),
    { name: 'details', path: '/details', ofAccount: false },
    { name: 'help', path: '/help', ofAccount: false },
    { name: 'password-reset', path: '/password-reset', ofAccount: false },
    { name: 'not-found', path: `/a/${second().id}/no-such-page`, ofAccount: true },
  ]

  for (const screen of SCREENS) {
    for (const lang of LANGS) {
      it(`every page fits ${screen.width} px in ${lang}, with no console or CSP error`, async function () {
        const watched = await browserFor(screen, lang)
        const { page } = watched
        const failures: string[] = []
        for (const { name, path, ofAccount } of paths()) {
          watched.problems.length = 0
          await page.goto(path)
          const m = await measure(page)
          await h.screenshot(page, `${screen.name}-${lang}-${name}`)
          if (m.scrollWidth > m.width) {
            failures.push(
              `${name}: ${m.scrollWidth} px wide in ${m.width} (${m.outside.join(', ')})`,
            )
          }
          if (screen.name === 'phone' && m.headerHeight > screen.height * MAX_HEADER_SHARE) {
            failures.push(`${name}: header ${m.headerHeight} px high`)
          }
          if (m.tabRows > 1) failures.push(`${name}: the menu takes ${m.tabRows} rows`)
          if (m.raggedFilter) failures.push(`${name}: the filter's title sits beside its fields`)
          if (ofAccount && !m.h1.includes(second().name)) {
            failures.push(`${name}: heading "${m.h1}" does not name the account`)
          }
          if (ofAccount && !m.title.includes(second().name)) {
            failures.push(`${name}: title "${m.title}" does not name the account`)
          }
          // The not-found page answers 404 by design; anything else the browser saw is a fault.
          const problems = watched.problems.filter(
            (p) => !(name === 'not-found' && p.includes('answered 404')),
          )
          if (problems.length > 0) failures.push(`${name}: ${problems.join('; ')}`)
        }
        if (h.serverLog.length > 0) failures.push(`admin log: ${h.serverLog.join('\n')}`)
        assert.deepEqual(failures, [])
      })
    }
  }

  it('shows the login page at both widths without overflow', async function () {
    for (const screen of SCREENS) {
      const watched = await h.openPage()
      await watched.page.setViewportSize({ width: screen.width, height: screen.height })
      await watched.page.goto('/login')
      const m = await measure(watched.page)
      await h.screenshot(watched.page, `${screen.name}-login`)
      await watched.context.close()
      assert.ok(m.scrollWidth <= m.width, `${m.scrollWidth} > ${m.width}: ${m.outside.join(', ')}`)
      assert.deepEqual(watched.problems, [])
    }
  })
})
