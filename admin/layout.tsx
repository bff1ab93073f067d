import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { AdminAccount, AdminEnv, Lang, PageProps, SessionAdmin } from './env'
import { defineMessages } from './i18n'
import { takeFlash } from './flash'
import { rememberedAccount } from './current-account'

/** The sections of an account, in menu order: /a/<id>/<section>. */
export const ACCOUNT_SECTIONS = [
  'users',
  'preferences',
  'test-sms',
  'receiving',
  'ips',
  'limits',
  'messages',
  'usage',
  'inbox',
  'opt-outs',
  'audit',
] as const
export type AccountSection = (typeof ACCOUNT_SECTIONS)[number]

export function isAccountSection(value: string | undefined): value is AccountSection {
  return (ACCOUNT_SECTIONS as readonly string[]).includes(value ?? '')
}

/** Where an account's pages start: its home in the logo, "Accueil" and the account selector. */
export const HOME_SECTION: AccountSection = 'users'

/** The menu: the guide's groups, each opening on its first section. */
const MENU_GROUPS = [
  { group: 'sending', sections: ['users', 'preferences', 'test-sms'] },
  { group: 'receiving', sections: ['receiving', 'inbox', 'opt-outs'] },
  { group: 'log', sections: ['messages', 'usage', 'audit'] },
  { group: 'advanced', sections: ['ips', 'limits'] },
] as const satisfies ReadonlyArray<{ group: string; sections: readonly AccountSection[] }>
type MenuGroup = (typeof MENU_GROUPS)[number]

const t = defineMessages(
  {
    brand: 'Mail2SMS',
    skip: 'Aller au contenu',
    loggedInAs: 'Connecté en tant que',
    userMenu: 'Votre compte',
    details: 'Mes détails',
    logout: 'Déconnexion',
    mainMenu: 'Menu principal',
    sectionMenu: 'Pages de la rubrique',
    group_sending: 'Envoi en cours',
    group_receiving: 'Réception en cours',
    group_log: 'Suivi',
    group_advanced: 'Avancé',
    users: 'Utilisateurs',
    preferences: 'Préférences',
    'test-sms': 'SMS de test',
    receiving: 'Réception en cours',
    ips: 'Gestion des adresses IP',
    limits: "Limites d'envoi",
    messages: 'Journal des SMS',
    usage: 'Consommation',
    inbox: 'SMS reçus',
    'opt-outs': 'Désinscriptions (STOP)',
    audit: 'Journal d’audit',
    home: 'Accueil',
    breadcrumb: "Fil d'Ariane",
    account: 'Compte',
    switchAccount: 'Changer de compte',
    show: 'Afficher',
    otherLanguage: 'English',
    otherLanguageShort: 'EN',
    help: 'Aide',
  },
  {
    brand: 'Mail2SMS',
    skip: 'Skip to content',
    loggedInAs: 'Logged in as',
    userMenu: 'Your login',
    details: 'My details',
    logout: 'Log out',
    mainMenu: 'Main menu',
    sectionMenu: 'Pages of this section',
    group_sending: 'Sending',
    group_receiving: 'Receiving',
    group_log: 'Activity',
    group_advanced: 'Advanced',
    users: 'Users',
    preferences: 'Preferences',
    'test-sms': 'Test SMS',
    receiving: 'Receiving',
    ips: 'IP addresses',
    limits: 'Sending limits',
    messages: 'SMS log',
    usage: 'Usage',
    inbox: 'Received SMS',
    'opt-outs': 'Opt-outs (STOP)',
    audit: 'Audit log',
    home: 'Home',
    breadcrumb: 'Breadcrumb',
    account: 'Account',
    switchAccount: 'Switch account',
    show: 'Show',
    otherLanguage: 'Français',
    otherLanguageShort: 'FR',
    help: 'Help',
  },
)

type Labels = ReturnType<typeof t>

/** The menu label of a section (also its breadcrumb entry). */
export function sectionLabel(lang: Lang, section: AccountSection): string {
  return t(lang)[section]
}

interface Crumb {
  label: string
  href?: string
}

/** An account's page; every link of a page leads into the account the page is about. */
export function accountHref(account: AdminAccount, section: AccountSection): string {
  return `/a/${account.id}/${section}`
}

function groupOf(section: string | undefined): MenuGroup | undefined {
  return MENU_GROUPS.find((g) => (g.sections as readonly string[]).includes(section ?? ''))
}

function groupLabel(l: Labels, group: MenuGroup): string {
  return l[`group_${group.group}`]
}

/** "Accueil » Envoi en cours » Utilisateurs", each step a link into the current account. */
function breadcrumb(l: Labels, section: string | undefined, account?: AdminAccount): Crumb[] {
  const home: Crumb = { label: l.home, href: account ? accountHref(account, HOME_SECTION) : '/' }
  if (section === 'details') return [home, { label: l.details }]
  const group = groupOf(section)
  if (!group || !account || !isAccountSection(section)) return []
  const trail: Crumb[] = [home]
  // A group of one section is the section itself: "Accueil » Journal des SMS".
  if (group.sections.length > 1) {
    trail.push({ label: groupLabel(l, group), href: accountHref(account, group.sections[0]) })
  }
  trail.push({ label: l[section] })
  return trail
}

/** A plain GET form, so switching account works without JavaScript. */
function AccountSelector(props: {
  l: Labels
  accounts: AdminAccount[]
  current?: AdminAccount
  section?: string
}) {
  const { l, accounts, current } = props
  if (accounts.length === 0) return null
  if (accounts.length === 1) {
    const only = accounts[0]
    return (
      <p class="account-name">
        <span class="visually-hidden">{l.account} : </span>
        {only.name} <span class="muted">({only.ref})</span>
      </p>
    )
  }
  const section = isAccountSection(props.section) ? props.section : HOME_SECTION
  return (
    <form method="get" action="/switch" class="account-selector" aria-label={l.switchAccount}>
      <label for="account-select">{l.account}</label>
      <select id="account-select" name="account">
        {accounts.map((a) => (
          <option value={String(a.id)} selected={a.id === current?.id}>
            {a.name} ({a.ref})
          </option>
        ))}
      </select>
      <input type="hidden" name="section" value={section} />
      <button type="submit" class="btn-small">
        {l.show}
      </button>
    </form>
  )
}

function LanguageSwitch(props: { l: Labels; lang: Lang; back: string }) {
  const other: Lang = props.lang === 'fr' ? 'en' : 'fr'
  return (
    <form method="post" action="/lang" class="lang-switch">
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" name="lang" value={other} lang={other} class="link">
        <span class="wide-only">{props.l.otherLanguage}</span>
        <span class="narrow-only" aria-hidden="true">
          {props.l.otherLanguageShort}
        </span>
      </button>
    </form>
  )
}

/** Who is logged in and what they can do with their login, at the right of the header. */
function UserTools(props: { l: Labels; admin?: SessionAdmin; lang: Lang; back: string }) {
  const { l, admin } = props
  return (
    <div class="user-tools">
      {admin && (
        <span class="who wide-only">
          <span class="visually-hidden">{l.loggedInAs} </span>
          <strong title={admin.email}>{admin.email}</strong>
        </span>
      )}
      {admin && <a href="/details">{l.details}</a>}
      <a class="help-link" href="/help">
        {l.help}
      </a>
      <LanguageSwitch l={l} lang={props.lang} back={props.back} />
      {admin && (
        <form method="post" action="/logout" class="inline">
          <button type="submit" class="link">
            {l.logout}
          </button>
        </form>
      )}
    </div>
  )
}

/**
 * Two rows of tabs: the groups, then the pages of the current group. On a phone each row
 * scrolls sideways inside itself rather than wrapping, so the menu stays two lines high.
 */
function MainMenu(props: { l: Labels; account?: AdminAccount; section?: string }) {
  const { l, account, section } = props
  if (!account) return null
  const open = groupOf(section)
  return (
    <nav class="main-nav" aria-label={l.mainMenu}>
      <ul class="tabs">
        {MENU_GROUPS.map((g) => (
          <li>
            <a
              href={accountHref(account, g.sections[0])}
              class={g === open ? 'current' : undefined}
              aria-current={
                g === open && (g.sections as readonly string[]).length === 1 ? 'page' : undefined
              }
            >
              {groupLabel(l, g)}
            </a>
          </li>
        ))}
      </ul>
      {open && open.sections.length > 1 && (
        <ul class="subtabs" aria-label={l.sectionMenu}>
          {open.sections.map((s) => (
            <li>
              <a href={accountHref(account, s)} aria-current={s === section ? 'page' : undefined}>
                {l[s]}
              </a>
            </li>
          ))}
        </ul>
      )}
    </nav>
  )
}

function Breadcrumb(props: { l: Labels; crumbs: Crumb[] }) {
  if (props.crumbs.length === 0) return null
  const last = props.crumbs.length - 1
  return (
    <nav class="breadcrumb" aria-label={props.l.breadcrumb}>
      <ol>
        {props.crumbs.map((crumb, i) => (
          <li>
            {i === last || !crumb.href ? (
              <span aria-current={i === last ? 'page' : undefined}>{crumb.label}</span>
            ) : (
              <a href={crumb.href}>{crumb.label}</a>
            )}
          </li>
        ))}
      </ol>
    </nav>
  )
}

/**
 * What the page shows of the request: read here so pages need not pass it. The account is the
 * one of the page's address; on pages of no account (my details, errors) the one the admin was
 * last working in, never simply the first one of the list.
 */
function pageContext(c: Context<AdminEnv>) {
  const vars = c.var as Partial<AdminEnv['Variables']>
  const url = new URL(c.req.url)
  const accounts = vars.accounts ?? []
  return {
    lang: vars.lang ?? 'fr',
    admin: vars.admin,
    accounts,
    /** Set only on an account's own pages: its name goes in the heading. */
    pageAccount: vars.account,
    account: vars.account ?? rememberedAccount(c, accounts),
    back: url.pathname + url.search,
  }
}

/**
 * The page frame of the guide: the header (logo, account, who is logged in), the menu, the
 * breadcrumb "Accueil » Envoi en cours » Utilisateurs", the flash message, and the page under
 * its title. An account's pages name the account in the title and the heading, so that no one
 * invites or deletes in the wrong account by mistake.
 */
export function Layout(props: PageProps & { c: Context<AdminEnv>; children?: Child }) {
  const { c, title, section, children } = props
  const { lang, admin, accounts, account, pageAccount, back } = pageContext(c)
  const l = t(lang)
  const flash = takeFlash(c)
  const home = admin && account ? accountHref(account, HOME_SECTION) : '/'
  const fullTitle = [title, pageAccount?.name, l.brand].filter(Boolean).join(' – ')
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{fullTitle}</title>
        <link rel="stylesheet" href="/assets/design.css" />
        <link rel="stylesheet" href="/assets/admin.css" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <a class="skip" href="#main">
          {l.skip}
        </a>
        <header class="site-header">
          <div class="header-row">
            <a class="brand" href={home}>
              {l.brand}
            </a>
            {admin && (
              <AccountSelector l={l} accounts={accounts} current={account} section={section} />
            )}
            <UserTools l={l} admin={admin} lang={lang} back={back} />
          </div>
          {admin && <MainMenu l={l} account={pageAccount} section={section} />}
        </header>
        {admin && <Breadcrumb l={l} crumbs={breadcrumb(l, section, account)} />}
        {flash && (
          <div
            class={`flash flash-${flash.kind}`}
            role={flash.kind === 'error' ? 'alert' : 'status'}
          >
            {flash.text}
          </div>
        )}
        <main id="main" tabindex={-1}>
          {pageAccount ? (
            <h1 class="page-title">
              {title}
              <span class="visually-hidden"> – </span>
              <span class="page-account">
                <span class="visually-hidden">{l.account} </span>
                {pageAccount.name}
              </span>
            </h1>
          ) : (
            <h1>{title}</h1>
          )}
          {children}
        </main>
      </body>
    </html>
  )
}
