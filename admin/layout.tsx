import type { Context } from 'hono'
import type { Child } from 'hono/jsx'
import type { AdminAccount, AdminEnv, Lang, PageProps, SessionAdmin } from './env'
import { defineMessages } from './i18n'
import { takeFlash } from './flash'

/** The sections of an account, in menu order: /a/<id>/<section>. */
export const ACCOUNT_SECTIONS = [
  'users',
  'preferences',
  'receiving',
  'ips',
  'limits',
  'messages',
] as const
export type AccountSection = (typeof ACCOUNT_SECTIONS)[number]

export function isAccountSection(value: string | undefined): value is AccountSection {
  return (ACCOUNT_SECTIONS as readonly string[]).includes(value ?? '')
}

const t = defineMessages(
  {
    brand: 'Mail2SMS',
    skip: 'Aller au contenu',
    loggedInAs: 'Connecté en tant que',
    details: 'Mes détails',
    logout: 'Déconnexion',
    mainMenu: 'Menu principal',
    sending: 'Envoi en cours',
    users: 'Utilisateurs',
    preferences: 'Préférences',
    receiving: 'Réception en cours',
    advanced: 'Avancé',
    ips: 'Gestion des adresses IP',
    limits: "Limites d'envoi",
    messages: 'Journal des SMS',
    home: 'Accueil',
    breadcrumb: "Fil d'Ariane",
    account: 'Compte',
    switchAccount: 'Changer de compte',
    show: 'Afficher',
    otherLanguage: 'English',
    help: 'Aide',
  },
  {
    brand: 'Mail2SMS',
    skip: 'Skip to content',
    loggedInAs: 'Logged in as',
    details: 'My details',
    logout: 'Log out',
    mainMenu: 'Main menu',
    sending: 'Sending',
    users: 'Users',
    preferences: 'Preferences',
    receiving: 'Receiving',
    advanced: 'Advanced',
    ips: 'IP addresses',
    limits: 'Sending limits',
    messages: 'SMS log',
    home: 'Home',
    breadcrumb: 'Breadcrumb',
    account: 'Account',
    switchAccount: 'Switch account',
    show: 'Show',
    otherLanguage: 'Français',
    help: 'Help',
  },
)

const labels = t

type Labels = ReturnType<typeof labels>

interface Crumb {
  label: string
  href?: string
}

function sectionPath(account: AdminAccount | undefined, section: string): string | undefined {
  return account ? `/a/${account.id}/${section}` : undefined
}

function breadcrumb(l: Labels, section: string | undefined, account?: AdminAccount): Crumb[] {
  const home: Crumb = { label: l.home, href: '/' }
  const link = (s: AccountSection) => sectionPath(account, s)
  switch (section) {
    case 'users':
      return [home, { label: l.sending, href: link('users') }, { label: l.users }]
    case 'preferences':
      return [home, { label: l.sending, href: link('users') }, { label: l.preferences }]
    case 'receiving':
      return [home, { label: l.receiving }]
    case 'ips':
      return [home, { label: l.advanced, href: link('ips') }, { label: l.ips }]
    case 'limits':
      return [home, { label: l.advanced, href: link('ips') }, { label: l.limits }]
    case 'messages':
      return [home, { label: l.messages }]
    case 'details':
      return [home, { label: l.details }]
    default:
      return []
  }
}

function TopBar(props: { l: Labels; admin?: SessionAdmin }) {
  const { l, admin } = props
  return (
    <header class="topbar">
      <a class="brand" href="/">
        {l.brand}
      </a>
      <a class="help-link" href="/help">
        {l.help}
      </a>
      {admin && (
        <div class="who">
          <span>
            {l.loggedInAs} <strong>{admin.email}</strong>
          </span>
          <a href="/details">{l.details}</a>
          <form method="post" action="/logout" class="inline">
            <button type="submit" class="link">
              {l.logout}
            </button>
          </form>
        </div>
      )}
    </header>
  )
}

function LanguageSwitch(props: { l: Labels; lang: Lang; back: string }) {
  const other: Lang = props.lang === 'fr' ? 'en' : 'fr'
  return (
    <form method="post" action="/lang" class="lang-switch">
      <input type="hidden" name="back" value={props.back} />
      <button type="submit" name="lang" value={other} lang={other}>
        {props.l.otherLanguage}
      </button>
    </form>
  )
}

function MenuLink(props: { href?: string; current: boolean; children: Child }) {
  if (!props.href) return <span>{props.children}</span>
  return (
    <a href={props.href} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </a>
  )
}

function MainMenu(props: { l: Labels; account?: AdminAccount; section?: string }) {
  const { l, account, section } = props
  if (!account) return null
  const item = (s: AccountSection, label: string) => (
    <li>
      <MenuLink href={sectionPath(account, s)} current={section === s}>
        {label}
      </MenuLink>
    </li>
  )
  const group = (label: string, first: AccountSection, open: boolean, children?: Child) => (
    <li class={open ? 'open' : undefined}>
      <a href={sectionPath(account, first)} aria-current={open && !children ? 'page' : undefined}>
        {label}
      </a>
      {open && children && <ul class="submenu">{children}</ul>}
    </li>
  )
  const inSending = section === 'users' || section === 'preferences'
  return (
    <nav class="menu" aria-label={l.mainMenu}>
      <ul>
        {group(
          l.sending,
          'users',
          inSending,
          <>
            {item('users', l.users)}
            {item('preferences', l.preferences)}
          </>,
        )}
        {group(l.receiving, 'receiving', section === 'receiving')}
        {group(
          l.advanced,
          'ips',
          section === 'ips' || section === 'limits',
          <>
            {item('ips', l.ips)}
            {item('limits', l.limits)}
          </>,
        )}
        {group(l.messages, 'messages', section === 'messages')}
      </ul>
    </nav>
  )
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
  const section = isAccountSection(props.section) ? props.section : 'users'
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
      <button type="submit">{l.show}</button>
    </form>
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

/** What the page shows of the request: read here so pages need not pass it. */
function pageContext(c: Context<AdminEnv>) {
  const vars = c.var as Partial<AdminEnv['Variables']>
  const url = new URL(c.req.url)
  return {
    lang: vars.lang ?? 'fr',
    admin: vars.admin,
    accounts: vars.accounts ?? [],
    account: vars.account ?? vars.accounts?.[0],
    back: url.pathname + url.search,
  }
}

/**
 * The page frame of the guide: who is logged in, the menu, the account selector, the
 * breadcrumb "Accueil » Envoi en cours » Utilisateurs", the flash message, and the page itself
 * under its title.
 */
export function Layout(props: PageProps & { c: Context<AdminEnv>; children?: Child }) {
  const { c, title, section, children } = props
  const { lang, admin, accounts, account, back } = pageContext(c)
  const l = labels(lang)
  const flash = takeFlash(c)
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} – ${l.brand}`}</title>
        <link rel="stylesheet" href="/assets/admin.css" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <a class="skip" href="#main">
          {l.skip}
        </a>
        <TopBar l={l} admin={admin} />
        <div class="bar">
          {admin && <MainMenu l={l} account={account} section={section} />}
          <div class="tools">
            {admin && (
              <AccountSelector l={l} accounts={accounts} current={account} section={section} />
            )}
            <LanguageSwitch l={l} lang={lang} back={back} />
          </div>
        </div>
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
          <h1>{title}</h1>
          {children}
        </main>
      </body>
    </html>
  )
}
