import { Hono, type Context } from 'hono'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { FilterCard, Pager } from '../components/list-page'
import { accountPath } from '../account'
import { FieldFrame, FormError, formatDateTime } from '../components/form'
import {
  SECRET_CHANGED,
  auditFilterChoices,
  changedFields,
  listAuditEntries,
  type AuditEntry,
  type AuditFilter,
  type StoredAuditValue,
} from '../../lib/db/audit'

const t = defineMessages(
  {
    title: 'Journal d’audit',
    intro:
      'Les modifications faites par les administrateurs de ce compte, de la plus récente à la plus ancienne : qui, quoi, quand, depuis quelle adresse IP, et les valeurs avant et après. Les mots de passe et les secrets n’y figurent jamais : il est seulement noté qu’ils ont changé.',
    filterTitle: 'Filtrer',
    action: 'Action',
    anyAction: 'Toutes',
    admin: 'Administrateur',
    anyAdmin: 'Tous',
    filter: 'Filtrer',
    showAll: 'Tout afficher',
    date: 'Date',
    subject: 'Objet',
    changes: 'Avant → après',
    ip: 'Adresse IP',
    empty: 'vide',
    colon: ' : ',
    yes: 'oui',
    no: 'non',
    secretChanged: 'modifié (valeur non enregistrée)',
    none: 'Aucune modification n’a encore été enregistrée pour ce compte.',
    noMatch: 'Aucune entrée ne correspond à ces filtres.',
    noMore: 'Pas d’autre entrée plus ancienne.',
    next: 'Page suivante',
    first: 'Retour aux plus récentes',
    pages: 'Pages du journal d’audit',
    badBefore: 'Ce lien de page n’est pas valable : revenez aux entrées les plus récentes.',
  },
  {
    title: 'Audit log',
    intro:
      'The changes this account’s admins made, newest first: who, what, when, from which IP address, and the values before and after. Passwords and secrets are never in it: only that they changed is recorded.',
    filterTitle: 'Filter',
    action: 'Action',
    anyAction: 'All',
    admin: 'Admin',
    anyAdmin: 'All',
    filter: 'Filter',
    showAll: 'Show all',
    date: 'Date',
    subject: 'Subject',
    changes: 'Before → after',
    ip: 'IP address',
    empty: 'empty',
    colon: ': ',
    yes: 'yes',
    no: 'no',
    secretChanged: 'changed (value not recorded)',
    none: 'No change has been recorded for this account yet.',
    noMatch: 'No entry matches these filters.',
    noMore: 'No older entry.',
    next: 'Next page',
    first: 'Back to the newest',
    pages: 'Audit log pages',
    badBefore: 'This page link is not valid: go back to the newest entries.',
  },
)

type Labels = ReturnType<typeof t>

/**
 * The words for actions and fields, by language; an action or field not listed here is shown
 * by its name. Add a line for each action a route records.
 */
const ACTIONS: Record<string, Record<Lang, string>> = {
  'opt_out.remove': { fr: 'Désinscription supprimée', en: 'Opt-out removed' },
  'user.invite': { fr: 'Utilisateur invité', en: 'User invited' },
  'user.resend': { fr: 'Invitation renvoyée', en: 'Invitation sent again' },
  'user.invitation_restore': {
    fr: 'Invitation non partie : lien précédent rétabli',
    en: 'Invitation not sent: earlier link restored',
  },
  'user.delete': { fr: 'Utilisateur effacé', en: 'User deleted' },
  'preferences.update': { fr: 'Préférences modifiées', en: 'Preferences changed' },
  'receiving.update': { fr: 'Réception modifiée', en: 'Receiving settings changed' },
  'webhook_secret.generate': { fr: 'Secret des webhooks généré', en: 'Webhook secret generated' },
  'webhook_secret.replace': { fr: 'Secret des webhooks remplacé', en: 'Webhook secret replaced' },
  'webhook_secret.clear': { fr: 'Secret des webhooks effacé', en: 'Webhook secret cleared' },
  'virtual_number.set': { fr: 'Numéro virtuel attribué', en: 'Virtual number set' },
  'virtual_number.clear': { fr: 'Numéro virtuel retiré', en: 'Virtual number removed' },
  'ip.add': { fr: 'Adresse IP ajoutée', en: 'IP address added' },
  'ip.add_blocks': { fr: 'Blocs d’adresses IP ajoutés', en: 'IP address blocks added' },
  'ip.delete': { fr: 'Adresse IP effacée', en: 'IP address deleted' },
  'limits.update': { fr: 'Limites d’envoi modifiées', en: 'Sending limits changed' },
  'test_sms.queue': { fr: 'SMS de test mis en file d’attente', en: 'Test SMS queued' },
}

const FIELDS: Record<string, Record<Lang, string>> = {
  number: { fr: 'Numéro', en: 'Number' },
  keyword: { fr: 'Mot-clé', en: 'Keyword' },
  optedOutAt: { fr: 'Désinscrit le', en: 'Opted out' },
  reason: { fr: 'Motif', en: 'Reason' },
  email: { fr: 'Adresse e-mail', en: 'Email address' },
  accepted: { fr: 'Invitation acceptée', en: 'Invitation accepted' },
  invitationExpiresAt: { fr: 'Lien valable jusqu’au', en: 'Link valid until' },
  invitationToken: { fr: 'Lien d’invitation', en: 'Invitation link' },
  signatureMarker: { fr: 'Signature', en: 'Signature' },
  senderName: { fr: 'Nom d’émetteur', en: 'Sender name' },
  defaultCountry: { fr: 'Pays par défaut', en: 'Default country' },
  timeZone: { fr: 'Fuseau horaire', en: 'Time zone' },
  segmentCap: { fr: 'Nombre maximal de SMS par e-mail', en: 'Maximum SMS per email' },
  gsmOnly: { fr: 'Rester en alphabet GSM', en: 'Stay in the GSM alphabet' },
  forwardAddresses: { fr: 'Transfert d’e-mail', en: 'Email forwarding' },
  directReply: { fr: 'Réponse directe', en: 'Direct reply' },
  failureNotices: { fr: 'Avis de non-remise', en: 'Failure notices' },
  webhookSecret: { fr: 'Secret des webhooks', en: 'Webhook secret' },
  virtualNumber: { fr: 'Numéro virtuel', en: 'Virtual number' },
  smsPerMinute: { fr: 'SMS par minute (compte)', en: 'SMS per minute (account)' },
  senderSmsPerMinute: { fr: 'SMS par minute (par utilisateur)', en: 'SMS per minute (per user)' },
  segmentsPerDay: { fr: 'Segments SMS par jour', en: 'SMS segments per day' },
  segmentsPerMonth: { fr: 'Segments SMS par mois', en: 'SMS segments per month' },
  allowedDestinations: { fr: 'Destinations autorisées', en: 'Allowed destinations' },
  cidr: { fr: 'Adresse IP', en: 'IP address' },
  cidrs: { fr: 'Adresses IP', en: 'IP addresses' },
  note: { fr: 'Note', en: 'Note' },
  smsId: { fr: 'N° du SMS', en: 'SMS id' },
  segments: { fr: 'Segments', en: 'Segments' },
}

export const PAGE_SIZE = 50

const actionLabel = (action: string, lang: Lang) => ACTIONS[action]?.[lang] ?? action
const fieldLabel = (field: string, lang: Lang) => FIELDS[field]?.[lang] ?? field

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z$/

const isEmpty = (value: StoredAuditValue | undefined) =>
  value === undefined ||
  value === null ||
  value === '' ||
  (Array.isArray(value) && value.length === 0)

/** A value as the page says it: times as the admin's other dates, lists with commas. */
function valueText(
  l: Labels,
  lang: Lang,
  zone: string,
  value: StoredAuditValue | undefined,
): string {
  if (value === SECRET_CHANGED) return l.secretChanged
  if (isEmpty(value)) return ''
  if (typeof value === 'boolean') return value ? l.yes : l.no
  if (Array.isArray(value)) return value.join(', ')
  if (typeof value === 'string' && ISO_TIME.test(value)) {
    return formatDateTime(Date.parse(value), lang, zone)
  }
  return String(value)
}

/** One side of a change: struck out before, marked after, "(vide)" when there was none. */
function Side(props: {
  l: Labels
  lang: Lang
  zone: string
  value: StoredAuditValue | undefined
  after?: boolean
}) {
  const { l, lang, zone, value } = props
  if (isEmpty(value)) return <span class="audit-empty">({l.empty})</span>
  const text = valueText(l, lang, zone, value)
  return props.after ? (
    <ins class="audit-after">{text}</ins>
  ) : (
    <del class="audit-before">{text}</del>
  )
}

function Changes(props: { l: Labels; lang: Lang; zone: string; entry: AuditEntry }) {
  const { l, lang, zone, entry } = props
  const changes = changedFields(entry.before, entry.after)
  if (changes.length === 0) return null
  return (
    <ul class="audit-changes">
      {changes.map((change) => (
        <li>
          <span class="audit-field">{fieldLabel(change.field, lang)}</span>
          {l.colon}
          {change.secret ? (
            <span class="audit-after">{l.secretChanged}</span>
          ) : (
            <>
              <Side l={l} lang={lang} zone={zone} value={change.before} />
              {' → '}
              <Side l={l} lang={lang} zone={zone} value={change.after} after />
            </>
          )}
        </li>
      ))}
    </ul>
  )
}

function AuditTable(props: { l: Labels; lang: Lang; zone: string; rows: AuditEntry[] }) {
  const { l, lang, zone } = props
  return (
    <table class="audit-log stack">
      <thead>
        <tr>
          <th scope="col">{l.date}</th>
          <th scope="col">{l.admin}</th>
          <th scope="col">{l.action}</th>
          <th scope="col">{l.subject}</th>
          <th scope="col">{l.changes}</th>
          <th scope="col">{l.ip}</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((e) => (
          <tr id={`audit-${e.id}`}>
            <td data-label={l.date}>
              <time datetime={new Date(e.createdAt).toISOString()}>
                {formatDateTime(e.createdAt, lang, zone)}
              </time>
            </td>
            <td class="wrap-anywhere" data-label={l.admin}>
              {e.adminEmail}
            </td>
            <td data-label={l.action}>{actionLabel(e.action, lang)}</td>
            <td class="mono wrap-anywhere" data-label={l.subject}>
              {e.subject}
            </td>
            <td class="full" data-label={l.changes}>
              <Changes l={l} lang={lang} zone={zone} entry={e} />
            </td>
            <td class="mono" data-label={l.ip}>
              {e.clientIp ?? ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

interface AuditQuery {
  action: string
  admin: string
  before: string
}

function FilterForm(props: {
  l: Labels
  lang: Lang
  base: string
  query: AuditQuery
  choices: { actions: string[]; admins: string[] }
}) {
  const { l, lang, base, query, choices } = props
  const select = (name: 'action' | 'admin', label: string, any: string, values: string[]) => (
    <FieldFrame
      id={name}
      label={label}
      control={(aria) => (
        <select id={name} name={name} {...aria}>
          <option value="" selected={query[name] === ''}>
            {any}
          </option>
          {values.map((v) => (
            <option value={v} selected={query[name] === v}>
              {name === 'action' ? actionLabel(v, lang) : v}
            </option>
          ))}
        </select>
      )}
    />
  )
  return (
    <FilterCard
      id="audit-filter-title"
      title={l.filterTitle}
      action={base}

      submit={l.filter}
      reset={l.showAll}
    >
      {select('action', l.action, l.anyAction, choices.actions)}
      {select('admin', l.admin, l.anyAdmin, choices.admins)}
    </FilterCard>
  )
}

function pageLink(base: string, query: AuditQuery, before: number | null): string {
  const params = new URLSearchParams()
  if (query.action) params.set('action', query.action)
  if (query.admin) params.set('admin', query.admin)
  if (before !== null) params.set('before', String(before))
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

function readQuery(c: Context<AdminEnv>): AuditQuery {
  const value = (name: string) => (c.req.query(name) ?? '').trim().slice(0, 300)
  return { action: value('action'), admin: value('admin'), before: value('before') }
}

export const auditRoutes = new Hono<AdminEnv>()

auditRoutes.get('/', async (c) => {
  const { db } = c.get('deps')
  const accountId = c.get('account').id
  const lang = c.get('lang')
  const l = t(lang)
  const base = accountPath(c, 'audit')
  const query = readQuery(c)
  const filter: AuditFilter = {}
  // An action or admin the log does not have simply matches nothing.
  if (query.action) filter.action = query.action
  if (query.admin) filter.adminEmail = query.admin
  let badBefore = false
  if (query.before) {
    const before = /^[1-9]\d{0,15}$/.test(query.before) ? Number(query.before) : NaN
    if (Number.isSafeInteger(before)) filter.before = before
    else badBefore = true
  }
  const [choices, page] = await Promise.all([
    auditFilterChoices(db, accountId),
    badBefore ? null : listAuditEntries(db, accountId, filter, PAGE_SIZE),
  ])
  if (badBefore) c.status(400)
  const filtered = Boolean(filter.action || filter.adminEmail)
  const empty = filter.before !== undefined ? l.noMore : filtered ? l.noMatch : l.none
  return c.render(
    <>
      <p>{l.intro}</p>
      <FilterForm l={l} lang={lang} base={base} query={query} choices={choices} />
      <FormError message={badBefore ? l.badBefore : null} />
      {page && page.rows.length > 0 && (
        <AuditTable l={l} lang={lang} zone={c.get('account').timeZone} rows={page.rows} />
      )}
      {page && page.rows.length === 0 && <p class="empty">{empty}</p>}
      <Pager
        label={l.pages}
        first={
          filter.before !== undefined ? { href: pageLink(base, query, null), text: l.first } : null
        }
        next={
          page?.nextBefore != null
            ? { href: pageLink(base, query, page.nextBefore), text: l.next }
            : null
        }
      />
    </>,
    { title: l.title, section: 'audit' },
  )
})
