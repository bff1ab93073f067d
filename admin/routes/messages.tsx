import { Hono, type Context } from 'hono'
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { parseNumberSearch } from '../../lib/phone-search'
import type { AdminDeps, AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { FilterCard, Pager } from '../components/list-page'
import { accountClock, accountPath } from '../account'
import { Field, FieldFrame } from '../components/form'
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
import { submitRefusalWording } from '../../lib/notices/failure-reason'
import { classifySubmitStatus } from '../../lib/smpp/status'
import { isErrorCode, readLastError, type LastError } from '../../lib/worker/last-error'
import type { TimeZone } from '../../lib/time/zone'

export const logLabels = defineMessages(
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
      'Un numéro complet (06 12 34 56 78), son début (+336 ou 06 12), ou des chiffres qu’il contient (5678).',
    sender: 'Expéditeur',
    senderHint: 'L’adresse complète, ou une partie : « dupont », « @exemple.fr ».',
    from: 'Du',
    to: 'Au',
    datesHint: (zone: string) => `Jours inclus, à l’heure de ${zone}.`,
    download: 'Télécharger en CSV',
    downloadHint: 'Tous les SMS de ces filtres, pas seulement cette page.',
    searchedBack: (date: string) =>
      `La recherche d’une partie de numéro ou d’adresse lit les SMS par lots : elle a lu jusqu’au ${date} sans remplir la page.`,
    searchFurther: 'Chercher dans les SMS plus anciens',
    badDate: (value: string) => `« ${value} » n’est pas une date (jour/mois/année).`,
    datesReversed: 'La date de fin est avant la date de début.',
    status: 'Statut',
    anyStatus: 'Tous',
    filter: 'Filtrer',
    showAll: 'Tout afficher',
    date: (zone: string) => `Date (${zone})`,
    dateShort: 'Date',
    text: 'Texte',
    fold: 'Afficher moins',
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
    carrierCode: (code: string) => `code d’erreur de l’opérateur : ${code}`,
    carrierWords: (words: string) => `motif de l’opérateur : « ${words} »`,
    notTakenInTime: 'l’opérateur ne l’a pas pris en charge à temps',
    partsNotTakenInTime: (parts: number[], of: number) =>
      parts.length === 1
        ? `partie ${parts[0]} sur ${of} non prise en charge à temps par l’opérateur`
        : `parties ${partNumberList(parts, 'fr')} sur ${of} non prises en charge à temps par l’opérateur`,
    lastTry: (why: string) => `dernier essai : ${why}`,
    carrierStatus: (status: string) => `réponse de l’opérateur : ${status}`,
    throttled: (status: string) => `l’opérateur a demandé de ralentir (${status})`,
    noAnswer: 'l’opérateur n’a pas répondu à temps',
    notBound: 'pas de connexion à l’opérateur à ce moment-là',
    connectionLost: 'connexion à l’opérateur perdue pendant l’envoi',
    earlierPartFailed: 'non envoyé : une partie précédente n’a pas été prise en charge',
    unexpectedAnswer: 'réponse inattendue de l’opérateur',
    notEncodable: 'le texte n’a pas pu être encodé pour l’opérateur',
    badNumberSent: 'numéro de destination invalide',
    badSenderSent: 'nom ou numéro d’expéditeur invalide',
    tooLong: (segments: number) => `texte trop long : ${segments} SMS, 255 au plus`,
    noFinalReceipt: 'aucun accusé de réception final dans le délai',
    untranslated: (text: string) => `détail enregistré, non traduit : « ${text} »`,
    none: 'Aucun SMS pour l’instant.',
    noMatch: 'Aucun SMS ne correspond à ces filtres.',
    noMore: 'Pas d’autre SMS plus ancien.',
    next: 'Page suivante',
    first: 'Retour aux plus récents',
    pages: 'Pages du journal',
    badNumber: (value: string) =>
      `« ${value} » n’est ni un numéro de téléphone, ni un début de numéro, ni des chiffres (de 2 à 15).`,
    badSender: (value: string) =>
      `« ${value} » n’est ni une adresse e-mail ni une partie d’adresse (sans espace).`,
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
      'A whole number (+44 7700 900123), its beginning (+447), or digits it contains (5678).',
    sender: 'Sender',
    senderHint: 'The whole address, or part of it: “smith”, “@example.com”.',
    from: 'From',
    to: 'To',
    datesHint: (zone: string) => `Whole days, in ${zone} time.`,
    download: 'Download as CSV',
    downloadHint: 'Every SMS of these filters, not only this page.',
    searchedBack: (date: string) =>
      `A search for part of a number or address reads the SMS in batches: it read back to ${date} without filling the page.`,
    searchFurther: 'Search older SMS',
    badDate: (value: string) => `"${value}" is not a date (year-month-day).`,
    datesReversed: 'The end date is before the start date.',
    status: 'Status',
    anyStatus: 'All',
    filter: 'Filter',
    showAll: 'Show all',
    date: (zone: string) => `Date (${zone})`,
    dateShort: 'Date',
    text: 'Text',
    fold: 'Show less',
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
    carrierCode: (code: string) => `carrier’s error code: ${code}`,
    carrierWords: (words: string) => `carrier’s reason: “${words}”`,
    notTakenInTime: 'the carrier did not take it in time',
    partsNotTakenInTime: (parts: number[], of: number) =>
      parts.length === 1
        ? `part ${parts[0]} of ${of} not taken by the carrier in time`
        : `parts ${partNumberList(parts, 'en')} of ${of} not taken by the carrier in time`,
    lastTry: (why: string) => `last try: ${why}`,
    carrierStatus: (status: string) => `carrier’s answer: ${status}`,
    throttled: (status: string) => `the carrier asked to slow down (${status})`,
    noAnswer: 'the carrier did not answer in time',
    notBound: 'no connection to the carrier at that moment',
    connectionLost: 'the connection to the carrier was lost while sending',
    earlierPartFailed: 'not sent: an earlier part was not taken',
    unexpectedAnswer: 'unexpected answer from the carrier',
    notEncodable: 'the text could not be encoded for the carrier',
    badNumberSent: 'invalid destination number',
    badSenderSent: 'invalid sender name or number',
    tooLong: (segments: number) => `text too long: ${segments} SMS, 255 at most`,
    noFinalReceipt: 'no final receipt in time',
    untranslated: (text: string) => `recorded detail, not translated: “${text}”`,
    none: 'No SMS yet.',
    noMatch: 'No SMS matches these filters.',
    noMore: 'No older SMS.',
    next: 'Next page',
    first: 'Back to the newest',
    pages: 'Log pages',
    badNumber: (value: string) =>
      `"${value}" is neither a phone number, nor the beginning of one, nor digits (2 to 15).`,
    badSender: (value: string) =>
      `"${value}" is neither an email address nor part of one (no spaces).`,
    badStatus: 'Choose a status from the list.',
    badBefore: 'This page link is not valid: go back to the newest SMS.',
    notFiltered: 'The log was not filtered: correct the field shown.',
  },
)

const t = logLabels
type Labels = ReturnType<typeof t>

export const PAGE_SIZE = 50
const CHART_DAYS = 30
/** Texts longer than this are folded, whole in a <details>. */
const SHORT_TEXT = 70

/** The query string as typed, kept to fill the form and the next page's link. */
export interface LogQuery {
  number: string
  sender: string
  status: string
  /** Days as the date inputs send them: YYYY-MM-DD. */
  from: string
  to: string
  before: string
}

interface QueryErrors {
  number?: string
  sender?: string
  status?: string
  from?: string
  to?: string
  before?: string
}

const QUERY_KEYS = ['number', 'sender', 'status', 'from', 'to'] as const

/**
 * A number to filter on, read as every number search box of the admin reads one
 * (lib/phone-search.ts): a whole number matched exactly, a beginning from the recipient index,
 * or digits found anywhere (two at least: one digit is in nearly every number). Null for
 * anything else.
 */
function parseNumberFilter(
  input: string,
  defaultCountry: string,
): Pick<SmsLogFilter, 'number' | 'numberPrefix' | 'numberContains'> | null {
  const search = parseNumberSearch(input, defaultCountry)
  if (!search) return null
  if (search.kind === 'exact') return { number: search.number }
  if (search.kind === 'prefix') {
    return /^\+\d{1,15}$/.test(search.prefix) ? { numberPrefix: search.prefix } : null
  }
  return /^\d{2,15}$/.test(search.digits) ? { numberContains: search.digits } : null
}

const NO_SPACE = /^[^\s\p{Cc}]{1,254}$/u

/** A day of the date inputs in the account's zone: its first instant, or null if not a date. */
function dayStart(clock: TimeZone, day: string, next: boolean): number | null {
  try {
    return next ? clock.startOfNextDate(day) : clock.startOfDate(day)
  } catch (err) {
    if (err instanceof RangeError) return null
    throw err
  }
}

export async function readFilter(
  db: Db,
  accountId: number,
  query: LogQuery,
  l: Labels,
  clock: TimeZone,
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
      if (NO_SPACE.test(query.sender)) filter.senderContains = query.sender
      else errors.sender = l.badSender(query.sender)
    }
  }
  if (query.from !== '') {
    const from = dayStart(clock, query.from, false)
    if (from === null) errors.from = l.badDate(query.from)
    else filter.from = from
  }
  if (query.to !== '') {
    const to = dayStart(clock, query.to, true)
    if (to === null) errors.to = l.badDate(query.to)
    else filter.to = to
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) {
    errors.to = l.datesReversed
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
  const key = `${accountId} ${lang} ${zone}`
  const figures = JSON.stringify(days)
  const last = drawings.get(key)
  if (last?.figures === figures) return last.html
  const html = raw(await (<DailyChart days={days} lang={lang} zone={zone} />).toString())
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

/**
 * What the worker recorded (last_error, in English for the logs), in the page's language. Null
 * when the status line already says it all (a receipt without an error of its own).
 */
function recordedReason(
  l: Labels,
  lang: Lang,
  error: LastError,
  code: number | null,
): string | null {
  switch (error.kind) {
    case 'receipt':
      if (error.carrierError === null) return null
      return isErrorCode(error.carrierError)
        ? l.carrierCode(error.carrierError)
        : l.carrierWords(error.carrierError)
    case 'not_taken_in_time':
      return l.notTakenInTime
    case 'parts_not_taken_in_time':
      return l.partsNotTakenInTime(error.parts, error.of)
    case 'gave_up': {
      const last = recordedReason(l, lang, error.last, code)
      return last === null ? l.notTakenInTime : l.lastTry(last)
    }
    case 'carrier_status': {
      const wording = code === null ? null : submitRefusalWording(code)
      if (wording) return `${wording[lang]} (${error.status})`
      if (code !== null && classifySubmitStatus(code) === 'throttled') {
        return l.throttled(error.status)
      }
      return l.carrierStatus(error.status)
    }
    case 'no_answer':
      return l.noAnswer
    case 'not_bound':
      return l.notBound
    case 'connection_lost':
      return l.connectionLost
    case 'earlier_part_failed':
      return l.earlierPartFailed
    case 'unexpected_answer':
      return l.unexpectedAnswer
    case 'not_encodable':
      return l.notEncodable
    case 'bad_number':
      return l.badNumberSent
    case 'bad_sender':
      return l.badSenderSent
    case 'too_long':
      return l.tooLong(error.segments)
    case 'no_final_receipt':
      return l.noFinalReceipt
    case 'other':
      return l.untranslated(error.text)
  }
}

// The rows are the page's hot loop (50 of them, each a dozen elements): written with Hono's html
// template, which escapes every value like JSX does, at a third of the cost.
function statusCell(l: Labels, lang: Lang, sms: SmsLogEntry) {
  const why = statusNote(l, sms)
  const code = sms.errorCode !== null ? ` (${l.code(sms.errorCode)})` : ''
  const recorded = sms.reason
    ? recordedReason(l, lang, readLastError(sms.reason), sms.errorCode)
    : null
  const reason = recorded ? ` — ${recorded}` : ''
  const more = why ? html`<span class="reason"><br />${why}${code}${reason}</span>` : ''
  return html`<td class="sms-status" data-label="${l.status}">
    <span class="status status-${sms.status}">${statusLabel(l, sms.status)}</span>${more}
  </td>`
}

/**
 * A text, folded when long. The cell keeps the SMS's line breaks (white-space: pre-wrap), so the
 * markup inside has no line breaks of its own: they would show as blank lines. Open, the summary
 * only offers to fold it again (admin.css hides the beginning), so the text is shown once.
 */
function smsText(l: Labels, body: string) {
  // Never more characters than UTF-16 units: most texts are measured without splitting them.
  const chars = body.length <= SHORT_TEXT ? null : Array.from(body)
  if (!chars || chars.length <= SHORT_TEXT) return html`<span class="log-text">${body}</span>`
  const short = `${chars.slice(0, SHORT_TEXT - 1).join('')}…`
  // No whitespace between these tags: the cell would show it (and prettier would add some).
  // prettier-ignore
  const summary = html`<summary><span class="log-text-start">${short}</span><span class="log-text-less">${l.fold}</span></summary>`
  // prettier-ignore
  return html`<details class="log-text">${summary}<span class="log-text-full">${body}</span></details>`
}

function logRow(l: Labels, lang: Lang, clock: TimeZone, sms: SmsLogEntry) {
  // 2026-03-29T03:30:00+02:00: the datetime as is, shown without the offset.
  const at = clock.format(sms.createdAt)
  return html`<tr id="sms-${sms.id}">
    <td class="mono nowrap" data-label="${l.dateShort}">
      <time datetime="${at}">${at.slice(0, 19).replace('T', ' ')}</time>
    </td>
    <td class="wrap-anywhere full" data-label="${l.sender}">${sms.senderEmail}</td>
    <td class="mono nowrap" data-label="${l.number}">${sms.recipient}</td>
    <td class="full" data-label="${l.text}">${smsText(l, sms.body)}</td>
    <td class="num" data-label="${l.segments}">${sms.segments}</td>
    ${statusCell(l, lang, sms)}
  </tr>`
}

function LogTable(props: { l: Labels; lang: Lang; clock: TimeZone; rows: SmsLogEntry[] }) {
  const { l, lang, clock, rows } = props
  return (
    <table class="sms-log stack">
      <thead>
        <tr>
          <th scope="col">{l.date(clock.name)}</th>
          <th scope="col">{l.sender}</th>
          <th scope="col">{l.number}</th>
          <th scope="col">{l.text}</th>
          <th scope="col" class="num">
            {l.segments}
          </th>
          <th scope="col">{l.status}</th>
        </tr>
      </thead>
      <tbody>{rows.map((sms) => logRow(l, lang, clock, sms))}</tbody>
    </table>
  )
}

function FilterForm(props: {
  l: Labels
  base: string
  query: LogQuery
  errors: QueryErrors
  zone: string
}) {
  const { l, base, query, errors } = props
  const invalid = Object.keys(errors).length > 0
  return (
    <FilterCard
      id="sms-filter-title"
      title={l.filterTitle}
      action={base}
      error={invalid ? (errors.before ?? l.notFiltered) : null}
      submit={l.filter}
      reset={l.showAll}
      extra={
        <>
          {!invalid && (
            <a
              class="button"
              href={pageLink(`${base}/export.csv`, query, null)}
              title={l.downloadHint}
            >
              {l.download}
            </a>
          )}
        </>
      }
    >
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
      <fieldset class="date-range">
        <legend>{l.datesHint(props.zone)}</legend>
        <FieldFrame
          id="from"
          label={l.from}
          error={errors.from}
          control={(aria) => (
            <input id="from" name="from" type="date" value={query.from} {...aria} />
          )}
        />
        <FieldFrame
          id="to"
          label={l.to}
          error={errors.to}
          control={(aria) => <input id="to" name="to" type="date" value={query.to} {...aria} />}
        />
      </fieldset>
    </FilterCard>
  )
}

/** A link to this page (or the export) with the same filters and another `before` (or none). */
export function pageLink(base: string, query: LogQuery, before: number | null): string {
  const params = new URLSearchParams()
  for (const key of QUERY_KEYS) if (query[key]) params.set(key, query[key])
  if (before !== null) params.set('before', String(before))
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

export function readQuery(c: Context<AdminEnv>): LogQuery {
  const value = (name: string) => (c.req.query(name) ?? '').trim().slice(0, 300)
  return {
    number: value('number'),
    sender: value('sender'),
    status: value('status'),
    from: value('from'),
    to: value('to'),
    before: value('before'),
  }
}

export const messagesRoutes = new Hono<AdminEnv>()

messagesRoutes.get('/', async (c) => {
  const deps = c.get('deps')
  const accountId = c.get('account').id
  const lang: Lang = c.get('lang')
  const l = t(lang)
  const base = accountPath(c, 'messages')
  const query = readQuery(c)
  const clock = await accountClock(c)
  const { filter, errors } = await readFilter(deps.db, accountId, query, l, clock)
  const invalid = Object.keys(errors).length > 0
  const [chart, page] = await Promise.all([
    drawnChart(deps, accountId, clock.name, lang),
    invalid ? null : listAccountSms(deps.db, accountId, filter, PAGE_SIZE),
  ])
  const filtered = QUERY_KEYS.some((key) => query[key] !== '')
  if (invalid) c.status(400)
  return c.render(
    <>
      <p>{l.intro}</p>
      <section class="sms-chart" aria-labelledby="sms-chart-title">
        <h2 id="sms-chart-title">{l.chartTitle}</h2>
        {chart}
        <p class="hint">{l.chartNote(clock.name)}</p>
      </section>
      <FilterForm l={l} base={base} query={query} errors={errors} zone={clock.name} />
      {page && page.rows.length > 0 && (
        <LogTable l={l} lang={lang} clock={clock} rows={page.rows} />
      )}
      {page && page.rows.length === 0 && page.searchedBackTo === null && (
        <p class="empty">
          {filter.before !== undefined ? l.noMore : filtered ? l.noMatch : l.none}
        </p>
      )}
      {page && page.searchedBackTo !== null && page.nextBefore !== null && (
        <p class="notice">
          {l.searchedBack(clock.format(page.searchedBackTo).slice(0, 10))}{' '}
          <a href={pageLink(base, query, page.nextBefore)}>{l.searchFurther}</a>
        </p>
      )}
      <Pager
        label={l.pages}
        first={
          filter.before !== undefined ? { href: pageLink(base, query, null), text: l.first } : null
        }
        next={
          page?.nextBefore != null && page.searchedBackTo === null
            ? { href: pageLink(base, query, page.nextBefore), text: l.next }
            : null
        }
      />
    </>,
    { title: l.title, section: 'messages' },
  )
})
