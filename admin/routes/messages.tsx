import { Hono, type Context } from 'hono'
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max'
import type { AdminDeps, AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountPath } from '../account'
import { Field, FieldFrame, FormError } from '../components/form'
import { DailyChart } from '../components/daily-chart'
import { getAccountSettings } from '../../lib/db/account-settings'
import { ValidationError } from '../../lib/db/accounts'
import type { Db } from '../../lib/db/connection'
import { normaliseEmail } from '../../lib/db/senders'
import {
  LOG_STATUSES,
  dailyCounts,
  isLogStatus,
  listAccountSms,
  type LogStatus,
  type SmsLogEntry,
  type SmsLogFilter,
} from '../../lib/db/outbound'
import { partNumberList } from '../../lib/notices/part-outcomes'
import { timeZoneOrUtc, type TimeZone } from '../../lib/time/zone'

const t = defineMessages(
  {
    title: 'Journal des SMS',
    intro:
      'Les SMS envoyés avec ce compte, du plus récent au plus ancien, avec leur statut : en attente, envoyé à l’opérateur, remis au destinataire, en échec avec la raison (remis en partie compris), ou sans accusé de réception quand l’opérateur n’a jamais confirmé la remise.',
    chartTitle: 'Les 30 derniers jours',
    chartNote: (zone: string) =>
      `Chiffres par jour du fuseau horaire du compte (${zone}), à jour à chaque affichage.`,
    filterTitle: 'Filtrer',
    number: 'Numéro',
    numberHint:
      'Un numéro complet (06 12 34 56 78 ou +33 6 12 34 56 78), ou son début au format international (+336).',
    sender: 'Expéditeur',
    senderHint: 'L’adresse e-mail complète de l’utilisateur.',
    status: 'Statut',
    anyStatus: 'Tous',
    filter: 'Filtrer',
    showAll: 'Tout afficher',
    date: (zone: string) => `Date (${zone})`,
    text: 'Texte',
    segments: 'Segments',
    queued: 'En attente',
    sent: 'Envoyé',
    delivered: 'Remis',
    failed: 'Échec',
    unknown: 'Sans accusé de réception',
    noReceipt: 'accepté par l’opérateur, qui n’a jamais confirmé la remise',
    partial: (parts: number[], of: number) =>
      parts.length === 0
        ? `remis en partie (${of} parties)`
        : parts.length === 1
          ? `remis en partie (partie ${parts[0]} sur ${of})`
          : `remis en partie (parties ${partNumberList(parts, 'fr')} sur ${of})`,
    undeliverable: 'non distribuable d’après l’opérateur',
    expired: 'expiré avant remise',
    refused: 'refusé par l’opérateur',
    retrying: 'nouvel essai prévu',
    code: (code: number) => `code ${code}`,
    none: 'Aucun SMS pour l’instant.',
    noMatch: 'Aucun SMS ne correspond à ces filtres.',
    noMore: 'Pas d’autre SMS plus ancien.',
    next: 'Page suivante',
    first: 'Retour aux plus récents',
    pages: 'Pages du journal',
    badNumber: (value: string) =>
      `« ${value} » n’est pas un numéro de téléphone, ni le début d’un numéro au format international (par exemple +336).`,
    badSender: (value: string) =>
      `« ${value} » n’est pas une adresse e-mail complète, par exemple prenom.nom@exemple.fr.`,
    badStatus: 'Choisissez un statut de la liste.',
    badBefore: 'Ce lien de page n’est pas valable : revenez aux SMS les plus récents.',
    notFiltered: 'Le journal n’a pas été filtré : corrigez le champ signalé.',
  },
  {
    title: 'SMS log',
    intro:
      'The SMS sent with this account, newest first, with their status: queued, sent to the carrier, delivered to the recipient, failed with the reason (partly delivered included), or no receipt when the carrier never confirmed delivery.',
    chartTitle: 'The last 30 days',
    chartNote: (zone: string) =>
      `Figures per day of the account’s time zone (${zone}), up to date on every view.`,
    filterTitle: 'Filter',
    number: 'Number',
    numberHint:
      'A whole number (+44 7700 900123, or as dialled in the account’s country), or its beginning in international format (+447).',
    sender: 'Sender',
    senderHint: 'The user’s whole email address.',
    status: 'Status',
    anyStatus: 'All',
    filter: 'Filter',
    showAll: 'Show all',
    date: (zone: string) => `Date (${zone})`,
    text: 'Text',
    segments: 'Segments',
    queued: 'Queued',
    sent: 'Sent',
    delivered: 'Delivered',
    failed: 'Failed',
    unknown: 'No receipt',
    noReceipt: 'accepted by the carrier, which never confirmed delivery',
    partial: (parts: number[], of: number) =>
      parts.length === 0
        ? `partly delivered (${of} parts)`
        : parts.length === 1
          ? `partly delivered (part ${parts[0]} of ${of})`
          : `partly delivered (parts ${partNumberList(parts, 'en')} of ${of})`,
    undeliverable: 'undeliverable, says the carrier',
    expired: 'expired before delivery',
    refused: 'refused by the carrier',
    retrying: 'to be tried again',
    code: (code: number) => `code ${code}`,
    none: 'No SMS yet.',
    noMatch: 'No SMS matches these filters.',
    noMore: 'No older SMS.',
    next: 'Next page',
    first: 'Back to the newest',
    pages: 'Log pages',
    badNumber: (value: string) =>
      `"${value}" is not a phone number, nor the beginning of one in international format (for example +447).`,
    badSender: (value: string) =>
      `"${value}" is not a whole email address, for example first.last@example.com.`,
    badStatus: 'Choose a status from the list.',
    badBefore: 'This page link is not valid: go back to the newest SMS.',
    notFiltered: 'The log was not filtered: correct the field shown.',
  },
)

type Labels = ReturnType<typeof t>

export const PAGE_SIZE = 50
const CHART_DAYS = 30
/** Texts longer than this are folded, whole in a <details>. */
const SHORT_TEXT = 70

/** The query string as typed, kept to fill the form and the next page's link. */
interface LogQuery {
  number: string
  sender: string
  status: string
  before: string
}

interface QueryErrors {
  number?: string
  sender?: string
  status?: string
  before?: string
}

/**
 * A number to filter on: a whole one, read like the MX reads a recipient (national format in the
 * account's country, or international), matched exactly; else the beginning of an international
 * number ('+' or '00' and digits), matched as a prefix. Null for anything else.
 */
function parseNumberFilter(
  input: string,
  defaultCountry: string,
): Pick<SmsLogFilter, 'number' | 'numberPrefix'> | null {
  const compact = input.replace(/[\s.\-()/]/g, '')
  if (!/^(\+|00)?\d{1,16}$/.test(compact)) return null
  const whole = parsePhoneNumberFromString(compact.replace(/^00/, '+'), {
    defaultCountry: defaultCountry as CountryCode,
    extract: false,
  })
  if (whole?.isValid()) return { number: whole.number }
  const international = compact.replace(/^00/, '+')
  return /^\+\d{1,15}$/.test(international) ? { numberPrefix: international } : null
}

async function readFilter(
  db: Db,
  accountId: number,
  query: LogQuery,
  l: Labels,
): Promise<{ filter: SmsLogFilter; errors: QueryErrors }> {
  const filter: SmsLogFilter = {}
  const errors: QueryErrors = {}
  if (query.number !== '') {
    // An international number needs no country: the account's is read only for a national one.
    const international = /^\s*(\+|00)/.test(query.number)
    const country = international
      ? 'FR'
      : ((await getAccountSettings(db, accountId))?.defaultCountry ?? 'FR')
    const parsed = parseNumberFilter(query.number, country)
    if (parsed) Object.assign(filter, parsed)
    else errors.number = l.badNumber(query.number)
  }
  if (query.sender !== '') {
    try {
      filter.sender = normaliseEmail(query.sender)
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err
      errors.sender = l.badSender(query.sender)
    }
  }
  if (query.status !== '') {
    if (isLogStatus(query.status)) filter.status = query.status
    else errors.status = l.badStatus
  }
  if (query.before !== '') {
    const before = /^[1-9]\d{0,15}$/.test(query.before) ? Number(query.before) : NaN
    if (Number.isSafeInteger(before)) filter.before = before
    else errors.before = l.badBefore
  }
  return { filter, errors }
}

/**
 * The last 30 days of the account's zone, as markup. The counts come from the daily counts
 * (lib/db/outbound/daily-rollup.ts): exact and cheap at any size of log, read on every page.
 * hono/jsx escapes every value when it draws the chart: its output is marked as the markup it
 * is, so that the page does not escape it twice.
 */
async function drawnChart(
  deps: AdminDeps,
  accountId: number,
  zone: string,
  lang: Lang,
): Promise<HtmlEscapedString> {
  const days = await dailyCounts(deps.db, accountId, CHART_DAYS, deps.clock(), zone)
  // Drawing 30 bars and their labels costs about a millisecond, and pages in a row mostly show
  // the same figures: the last drawing is kept per account and language, for those figures.
  let drawings = lastDrawings.get(deps.db)
  if (!drawings) lastDrawings.set(deps.db, (drawings = new Map()))
  const key = `${accountId} ${lang}`
  const figures = JSON.stringify(days)
  const last = drawings.get(key)
  if (last?.figures === figures) return last.html
  const html = raw(await (<DailyChart days={days} lang={lang} />).toString())
  if (drawings.size >= MAX_DRAWINGS) drawings.clear()
  drawings.set(key, { figures, html })
  return html
}

// Per database, so that test apps on their own databases never share drawings.
const lastDrawings = new WeakMap<Db, Map<string, { figures: string; html: HtmlEscapedString }>>()
const MAX_DRAWINGS = 1000

function statusLabel(l: Labels, status: LogStatus): string {
  const labels: Record<LogStatus, string> = {
    queued: l.queued,
    sent: l.sent,
    delivered: l.delivered,
    failed: l.failed,
    unknown: l.unknown,
  }
  return labels[status]
}

function failureLabel(l: Labels, sms: SmsLogEntry): string {
  if (sms.delivery) return l.partial(sms.delivery.delivered, sms.delivery.of)
  if (sms.detail === 'undeliverable') return l.undeliverable
  if (sms.detail === 'expired') return l.expired
  return l.refused
}

/** The line under the status: why it failed, why it waits, or what is not known. */
function statusNote(l: Labels, sms: SmsLogEntry): string | null {
  if (sms.status === 'failed') return failureLabel(l, sms)
  if (sms.status === 'unknown') return l.noReceipt
  return sms.reason ? l.retrying : null
}

// The rows are the page's hot loop (50 of them, each a dozen elements): written with Hono's html
// template, which escapes every value like JSX does, at a third of the cost.
function statusCell(l: Labels, sms: SmsLogEntry) {
  const why = statusNote(l, sms)
  const code = sms.errorCode !== null ? ` (${l.code(sms.errorCode)})` : ''
  const reason = sms.reason ? html` — <span lang="en">${sms.reason}</span>` : ''
  const more = why ? html`<span class="reason"><br />${why}${code}${reason}</span>` : ''
  return html`<td class="sms-status">
    <span class="status status-${sms.status}">${statusLabel(l, sms.status)}</span>${more}
  </td>`
}

function smsText(body: string) {
  // Never more characters than UTF-16 units: most texts are measured without splitting them.
  const chars = body.length <= SHORT_TEXT ? null : Array.from(body)
  if (!chars || chars.length <= SHORT_TEXT) return html`<span class="log-text">${body}</span>`
  const short = `${chars.slice(0, SHORT_TEXT - 1).join('')}…`
  return html`<details class="log-text">
    <summary title="${body}">${short}</summary>
    <p>${body}</p>
  </details>`
}

function logRow(l: Labels, zone: TimeZone, sms: SmsLogEntry) {
  const at = new Date(sms.createdAt).toISOString()
  return html`<tr id="sms-${sms.id}">
    <td class="mono"><time datetime="${at}">${zone.localDateTime(sms.createdAt)}</time></td>
    <td>${sms.senderEmail}</td>
    <td class="mono">${sms.recipient}</td>
    <td>${smsText(sms.body)}</td>
    <td>${sms.segments}</td>
    ${statusCell(l, sms)}
  </tr>`
}

function LogTable(props: { l: Labels; zone: TimeZone; rows: SmsLogEntry[] }) {
  const { l, zone, rows } = props
  return (
    <table class="sms-log">
      <thead>
        <tr>
          <th scope="col">{l.date(zone.name)}</th>
          <th scope="col">{l.sender}</th>
          <th scope="col">{l.number}</th>
          <th scope="col">{l.text}</th>
          <th scope="col">{l.segments}</th>
          <th scope="col">{l.status}</th>
        </tr>
      </thead>
      <tbody>{rows.map((sms) => logRow(l, zone, sms))}</tbody>
    </table>
  )
}

function FilterForm(props: { l: Labels; base: string; query: LogQuery; errors: QueryErrors }) {
  const { l, base, query, errors } = props
  const invalid = Object.keys(errors).length > 0
  return (
    <form method="get" action={base} class="sms-filter" aria-labelledby="sms-filter-title">
      <h2 id="sms-filter-title">{l.filterTitle}</h2>
      <FormError message={invalid ? (errors.before ?? l.notFiltered) : null} />
      <Field
        name="number"
        label={l.number}
        hint={l.numberHint}
        value={query.number}
        type="search"
        inputmode="tel"
        maxlength={32}
        autocomplete="off"
        error={errors.number}
      />
      <Field
        name="sender"
        label={l.sender}
        hint={l.senderHint}
        value={query.sender}
        type="search"
        inputmode="email"
        maxlength={254}
        autocomplete="off"
        error={errors.sender}
      />
      <FieldFrame
        id="status"
        label={l.status}
        error={errors.status}
        control={(aria) => (
          <select id="status" name="status" {...aria}>
            <option value="" selected={query.status === ''}>
              {l.anyStatus}
            </option>
            {LOG_STATUSES.map((s) => (
              <option value={s} selected={query.status === s}>
                {statusLabel(l, s)}
              </option>
            ))}
          </select>
        )}
      />
      <button type="submit" class="primary">
        {l.filter}
      </button>{' '}
      <a href={base}>{l.showAll}</a>
    </form>
  )
}

/** A link to this page with the same filters and another `before` (or none). */
function pageLink(base: string, query: LogQuery, before: number | null): string {
  const params = new URLSearchParams()
  if (query.number) params.set('number', query.number)
  if (query.sender) params.set('sender', query.sender)
  if (query.status) params.set('status', query.status)
  if (before !== null) params.set('before', String(before))
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

function readQuery(c: Context<AdminEnv>): LogQuery {
  const value = (name: string) => (c.req.query(name) ?? '').trim().slice(0, 300)
  return {
    number: value('number'),
    sender: value('sender'),
    status: value('status'),
    before: value('before'),
  }
}

export const messagesRoutes = new Hono<AdminEnv>()

messagesRoutes.get('/', async (c) => {
  const deps = c.get('deps')
  const accountId = c.get('account').id
  const zone = timeZoneOrUtc(c.get('account').timeZone)
  const lang: Lang = c.get('lang')
  const l = t(lang)
  const base = accountPath(c, 'messages')
  const query = readQuery(c)
  const { filter, errors } = await readFilter(deps.db, accountId, query, l)
  const invalid = Object.keys(errors).length > 0
  const [chart, page] = await Promise.all([
    drawnChart(deps, accountId, zone.name, lang),
    invalid ? null : listAccountSms(deps.db, accountId, filter, PAGE_SIZE),
  ])
  const filtered = Boolean(filter.number || filter.numberPrefix || filter.sender || filter.status)
  if (invalid) c.status(400)
  return c.render(
    <>
      <p>{l.intro}</p>
      <section class="sms-chart" aria-labelledby="sms-chart-title">
        <h2 id="sms-chart-title">{l.chartTitle}</h2>
        {chart}
        <p class="hint">{l.chartNote(zone.name)}</p>
      </section>
      <FilterForm l={l} base={base} query={query} errors={errors} />
      {page && page.rows.length > 0 && <LogTable l={l} zone={zone} rows={page.rows} />}
      {page && page.rows.length === 0 && (
        <p class="empty">
          {filter.before !== undefined ? l.noMore : filtered ? l.noMatch : l.none}
        </p>
      )}
      {(page?.nextBefore != null || filter.before !== undefined) && (
        <nav class="pager" aria-label={l.pages}>
          {filter.before !== undefined && <a href={pageLink(base, query, null)}>{l.first}</a>}{' '}
          {page?.nextBefore != null && (
            <a rel="next" href={pageLink(base, query, page.nextBefore)}>
              {l.next}
            </a>
          )}
        </nav>
      )}
    </>,
    { title: l.title, section: 'messages' },
  )
})
