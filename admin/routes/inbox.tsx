import { Hono, type Context } from 'hono'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { FilterCard, Pager } from '../components/list-page'
import { accountClock, accountPath } from '../account'
import { Field, FieldFrame, formatDateTime } from '../components/form'
import { getAccountSettings } from '../../lib/db/account-settings'
import {
  INBOX_OUTCOMES,
  isInboxOutcome,
  listInbox,
  type InboxCursor,
  type InboxEntry,
  type InboxFilter,
  type InboxOutcomeFilter,
} from '../../lib/db/inbound-log'
import type { InboundReason, InboxOutcome } from '../../lib/inbound/inbox-outcome'
import { parseNumberSearch } from '../../lib/phone-search'
import { timeZone, type TimeZone } from '../../lib/time/zone'

const t = defineMessages(
  {
    title: 'SMS reçus',
    intro:
      'Les SMS envoyés au numéro virtuel de ce compte, du plus récent au plus ancien, et la suite donnée à chacun : transféré par e-mail aux adresses de transfert, envoyé en réponse directe à l’utilisateur qui avait écrit à ce numéro, en attente, en échec, ou désinscription (STOP).',
    filterTitle: 'Filtrer',
    number: 'Numéro',
    numberHint:
      'Tout ou partie du numéro : 06 12 34 56 78, +336, ou quelques chiffres (5678) présents n’importe où dans le numéro.',
    outcome: 'Suite donnée',
    anyOutcome: 'Toutes',
    from: 'Reçus à partir du',
    to: 'Reçus jusqu’au',
    dateHint: (zone: string) =>
      `Jour au format AAAA-MM-JJ, dans le fuseau horaire du compte (${zone}).`,
    filter: 'Filtrer',
    showAll: 'Tout afficher',
    received: 'Reçu le',
    text: 'Texte',
    more: 'suite',
    pending: 'En attente',
    forwarded: 'Transféré',
    replied: 'Réponse directe',
    failed: 'Échec',
    kept: 'Non transmis',
    opt_out: 'Désinscription (STOP)',
    opt_in: 'Réinscription (START)',
    incomplete: 'Incomplet',
    forwardedTo: (to: string) => `par e-mail à ${to}`,
    forwardedUnknown: 'par e-mail aux adresses de transfert d’alors',
    repliedTo: (to: string) => `par e-mail à ${to}, qui avait écrit à ce numéro`,
    repliedUnknown: 'par e-mail à l’utilisateur qui avait écrit à ce numéro',
    waiting: 'sera envoyé par e-mail sous peu',
    retrying: 'nouvel essai prévu',
    colon: ' : ',
    relayRefused: 'le serveur de messagerie a refusé l’e-mail',
    noAccount: 'le compte était désactivé à son arrivée',
    noDestination:
      'le compte n’avait ni adresse de transfert, ni utilisateur à qui répondre directement',
    otherReason: 'raison inconnue',
    optedOut: 'Ce numéro ne reçoit plus de SMS de ce compte.',
    optedIn: 'Ce numéro peut de nouveau recevoir des SMS de ce compte.',
    seeOptOuts: 'Voir les désinscriptions',
    missing: (came: number, total: number) =>
      `Incomplet : ${came} partie${came > 1 ? 's' : ''} reçue${came > 1 ? 's' : ''} sur ${total} ; « […] » marque ce qui manque.`,
    textPurged: 'Texte effacé (durée de conservation dépassée)',
    numberPurged: 'Numéro effacé',
    none: 'Aucun SMS reçu pour l’instant. Les réponses aux SMS de ce compte apparaîtront ici.',
    noMatch: 'Aucun SMS reçu ne correspond à ces filtres.',
    noMore: 'Pas d’autre SMS reçu plus ancien.',
    searched: (date: string) =>
      `Recherche faite parmi les SMS reçus jusqu’au ${date}. Pour aller plus vite, précisez les dates, le début du numéro (+336…) ou le numéro entier.`,
    searchOlder: 'Chercher dans les SMS plus anciens',
    next: 'Page suivante',
    first: 'Retour aux plus récents',
    pages: 'Pages des SMS reçus',
    badNumber: (value: string) =>
      `« ${value} » n’est pas un numéro ni une partie de numéro : tapez des chiffres, avec + ou 00 devant pour un numéro international.`,
    badOutcome: 'Choisissez une suite donnée de la liste.',
    badDate: (value: string) => `« ${value} » n’est pas une date au format AAAA-MM-JJ.`,
    badRange: 'Cette date est avant celle du début.',
    badBefore: 'Ce lien de page n’est pas valable : revenez aux SMS les plus récents.',
    notFiltered: 'La liste n’a pas été filtrée : corrigez le champ signalé.',
  },
  {
    title: 'Received SMS',
    intro:
      'The SMS sent to this account’s virtual number, newest first, and what became of each: forwarded by email to the forward addresses, sent as a direct reply to the user who had written to that number, waiting, failed, or opt-out (STOP).',
    filterTitle: 'Filter',
    number: 'Number',
    numberHint:
      'All or part of the number: +44 7700 900123, +447, or a few digits (5678) anywhere in the number.',
    outcome: 'Outcome',
    anyOutcome: 'All',
    from: 'Received from',
    to: 'Received until',
    dateHint: (zone: string) => `Day as YYYY-MM-DD, in the account’s time zone (${zone}).`,
    filter: 'Filter',
    showAll: 'Show all',
    received: 'Received',
    text: 'Text',
    more: 'more',
    pending: 'Waiting',
    forwarded: 'Forwarded',
    replied: 'Direct reply',
    failed: 'Failed',
    kept: 'Not passed on',
    opt_out: 'Opt-out (STOP)',
    opt_in: 'Opt-in (START)',
    incomplete: 'Incomplete',
    forwardedTo: (to: string) => `by email to ${to}`,
    forwardedUnknown: 'by email to the forward addresses of the time',
    repliedTo: (to: string) => `by email to ${to}, who had written to this number`,
    repliedUnknown: 'by email to the user who had written to this number',
    waiting: 'will be emailed shortly',
    retrying: 'to be tried again',
    colon: ': ',
    relayRefused: 'the mail server refused the email',
    noAccount: 'the account was switched off when it came',
    noDestination: 'the account had no forward address, and no user to reply to directly',
    otherReason: 'unknown reason',
    optedOut: 'This number no longer gets SMS from this account.',
    optedIn: 'This number can get SMS from this account again.',
    seeOptOuts: 'See the opt-outs',
    missing: (came: number, total: number) =>
      `Incomplete: ${came} part${came > 1 ? 's' : ''} of ${total} came; "[…]" marks what is missing.`,
    textPurged: 'Text deleted (retention period over)',
    numberPurged: 'Number deleted',
    none: 'No SMS received yet. Replies to this account’s SMS will show here.',
    noMatch: 'No received SMS matches these filters.',
    noMore: 'No older received SMS.',
    searched: (date: string) =>
      `Searched the SMS received down to ${date}. To search faster, narrow the dates, or type the number’s beginning (+447…) or the whole number.`,
    searchOlder: 'Search older SMS',
    next: 'Next page',
    first: 'Back to the newest',
    pages: 'Received SMS pages',
    badNumber: (value: string) =>
      `"${value}" is not a number nor part of one: type digits, with + or 00 in front for an international number.`,
    badOutcome: 'Choose an outcome from the list.',
    badDate: (value: string) => `"${value}" is not a date as YYYY-MM-DD.`,
    badRange: 'This date is before the start date.',
    badBefore: 'This page link is not valid: go back to the newest SMS.',
    notFiltered: 'The list was not filtered: correct the field shown.',
  },
)

type Labels = ReturnType<typeof t>

export const PAGE_SIZE = 50
/** Texts longer than this are folded: the rest is shown on demand, after the beginning. */
const SHORT_TEXT = 120

/** The query string as typed, kept to fill the form and the page links. */
interface InboxQuery {
  number: string
  outcome: string
  from: string
  to: string
  before: string
}

type QueryErrors = Partial<Record<keyof InboxQuery | 'range', string>>

/**
 * The first instant of a day typed as YYYY-MM-DD in the account's zone (or of the day after,
 * for the end of a range), DST-safe; null when it is not a real date.
 */
export function dayStart(
  value: string,
  zone: TimeZone = timeZone('UTC'),
  next = false,
): number | null {
  try {
    return next ? zone.startOfNextDate(value) : zone.startOfDate(value)
  } catch (err) {
    if (err instanceof RangeError) return null
    throw err
  }
}

function formatCursor(cursor: InboxCursor): string {
  return `${cursor.receivedAt}-${cursor.id}`
}

function parseCursor(value: string): InboxCursor | null {
  const m = /^(\d{1,15})-([1-9]\d{0,15})$/.exec(value)
  if (!m) return null
  const cursor = { receivedAt: Number(m[1]), id: Number(m[2]) }
  return Number.isSafeInteger(cursor.id) ? cursor : null
}

async function readFilter(
  c: Context<AdminEnv>,
  query: InboxQuery,
  l: Labels,
): Promise<{ filter: InboxFilter; errors: QueryErrors }> {
  const filter: InboxFilter = {}
  const errors: QueryErrors = {}
  const zone = await accountClock(c)
  if (query.number !== '') {
    // A national number or beginning is read in the account's country; others need none.
    const national = /^\s*0(?!0)/.test(query.number)
    const country = national
      ? ((await getAccountSettings(c.get('deps').db, c.get('account').id))?.defaultCountry ?? 'FR')
      : 'FR'
    const search = parseNumberSearch(query.number, country)
    if (search) filter.number = search
    else errors.number = l.badNumber(query.number)
  }
  if (query.outcome !== '') {
    if (isInboxOutcome(query.outcome)) filter.outcome = query.outcome
    else errors.outcome = l.badOutcome
  }
  if (query.from !== '') {
    const from = dayStart(query.from, zone)
    if (from === null) errors.from = l.badDate(query.from)
    else filter.from = from
  }
  if (query.to !== '') {
    // The whole day: before the next one starts.
    const to = dayStart(query.to, zone, true)
    if (to === null) errors.to = l.badDate(query.to)
    else filter.to = to
  }
  if (filter.from !== undefined && filter.to !== undefined && filter.to <= filter.from) {
    errors.to = l.badRange
  }
  if (query.before !== '') {
    const before = parseCursor(query.before)
    if (before) filter.before = before
    else errors.before = l.badBefore
  }
  return { filter, errors }
}

function outcomeLabel(l: Labels, outcome: InboxOutcomeFilter): string {
  return l[outcome]
}

function reasonText(l: Labels, reason: InboundReason): string {
  switch (reason.code) {
    case 'relay_refused':
      return l.relayRefused
    case 'no_account':
      return l.noAccount
    case 'no_destination':
      return l.noDestination
    default:
      return l.otherReason
  }
}

/** The reason in the page's language, then the technical words as recorded (English). */
function Reason(props: { l: Labels; reason: InboundReason; prefix?: string }) {
  const { l, reason } = props
  return (
    <span class="reason">
      {props.prefix ? `${props.prefix}${l.colon}` : ''}
      {reasonText(l, reason)}
      {reason.detail && (
        <>
          {' — '}
          <span lang="en">{reason.detail}</span>
        </>
      )}
    </span>
  )
}

/** The badge's colour: the SMS log's classes, by how the account should read the outcome. */
const BADGE: Record<InboxOutcome['kind'], string> = {
  forwarded: 'delivered',
  replied: 'delivered',
  pending: 'queued',
  failed: 'failed',
  kept: 'unknown',
  opt_out: 'sent',
  opt_in: 'sent',
}

function OutcomeCell(props: { l: Labels; lang: Lang; sms: InboxEntry; optOutsPath: string }) {
  const { l, sms } = props
  const o = sms.outcome
  const list = (to: string[]) => to.join(', ')
  let note: unknown = null
  switch (o.kind) {
    case 'forwarded':
      note = <span class="reason">{o.to ? l.forwardedTo(list(o.to)) : l.forwardedUnknown}</span>
      break
    case 'replied':
      note = <span class="reason">{o.to ? l.repliedTo(list(o.to)) : l.repliedUnknown}</span>
      break
    case 'pending':
      note = o.retryReason ? (
        <Reason l={l} reason={o.retryReason} prefix={l.retrying} />
      ) : (
        <span class="reason">{l.waiting}</span>
      )
      break
    case 'failed':
    case 'kept':
      note = <Reason l={l} reason={o.reason} />
      break
    case 'opt_out':
    case 'opt_in': {
      const href = `${props.optOutsPath}?number=${encodeURIComponent(sms.fromNumber)}`
      note = (
        <span class="reason">
          {o.kind === 'opt_out' ? l.optedOut : l.optedIn}{' '}
          {o.kind === 'opt_out' && !sms.addressesPurged && <a href={href}>{l.seeOptOuts}</a>}
        </span>
      )
      break
    }
  }
  return (
    <td class="sms-status full" data-label={l.outcome}>
      <span class={`status status-${BADGE[o.kind]}`}>{l[o.kind]}</span>
      {note}
      {sms.missingParts > 0 && (
        <span class="reason">{l.missing(sms.parts, sms.parts + sms.missingParts)}</span>
      )}
    </td>
  )
}

/**
 * The text, whole when short; else its beginning, with the rest after it on demand. Cut
 * between words, so that nothing is written twice and the two halves read as one.
 */
function SmsText(props: { l: Labels; body: string }) {
  const chars = Array.from(props.body)
  if (chars.length <= SHORT_TEXT) return <span class="log-text">{props.body}</span>
  // At the last space before the limit, which neither half keeps; else at the limit.
  const space = chars.lastIndexOf(' ', SHORT_TEXT)
  const [end, rest] = space > SHORT_TEXT / 2 ? [space, space + 1] : [SHORT_TEXT, SHORT_TEXT]
  return (
    <details class="log-text inbox-text">
      <summary>
        {chars.slice(0, end).join('')}
        <span class="inbox-more"> … ({props.l.more})</span>
      </summary>
      <span>{chars.slice(rest).join('')}</span>
    </details>
  )
}

function InboxRow(props: {
  l: Labels
  lang: Lang
  zone: string
  sms: InboxEntry
  optOutsPath: string
}) {
  const { l, lang, zone, sms } = props
  const at = new Date(sms.receivedAt).toISOString()
  return (
    <tr id={`inbound-${sms.id}`}>
      <td data-label={l.received}>
        <time datetime={at}>{formatDateTime(sms.receivedAt, lang, zone)}</time>
      </td>
      <td class="mono nowrap" data-label={l.number}>
        {sms.addressesPurged ? l.numberPurged : sms.fromNumber}
      </td>
      <td class="full" data-label={l.text}>
        {sms.textPurged ? <em>{l.textPurged}</em> : <SmsText l={l} body={sms.body} />}
      </td>
      <OutcomeCell {...props} />
    </tr>
  )
}

function FilterForm(props: {
  l: Labels
  base: string
  zone: string
  query: InboxQuery
  errors: QueryErrors
}) {
  const { l, base, zone, query, errors } = props
  const invalid = Object.keys(errors).length > 0
  const dateField = (name: 'from' | 'to', label: string) => (
    <FieldFrame
      id={name}
      label={label}
      hint={l.dateHint(zone)}
      error={errors[name]}
      control={(aria) => <input id={name} name={name} type="date" value={query[name]} {...aria} />}
    />
  )
  return (
    <FilterCard
      id="inbox-filter-title"
      title={l.filterTitle}
      action={base}
      error={invalid ? (errors.before ?? l.notFiltered) : null}
      submit={l.filter}
      reset={l.showAll}
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
      <FieldFrame
        id="outcome"
        label={l.outcome}
        error={errors.outcome}
        control={(aria) => (
          <select id="outcome" name="outcome" {...aria}>
            <option value="" selected={query.outcome === ''}>
              {l.anyOutcome}
            </option>
            {INBOX_OUTCOMES.map((o) => (
              <option value={o} selected={query.outcome === o}>
                {outcomeLabel(l, o)}
              </option>
            ))}
          </select>
        )}
      />
      {dateField('from', l.from)}
      {dateField('to', l.to)}
    </FilterCard>
  )
}

/** A link to this page with the same filters and another place (or none). */
function pageLink(base: string, query: InboxQuery, before: InboxCursor | null): string {
  const params = new URLSearchParams()
  for (const name of ['number', 'outcome', 'from', 'to'] as const) {
    if (query[name]) params.set(name, query[name])
  }
  if (before) params.set('before', formatCursor(before))
  const search = params.toString()
  return search ? `${base}?${search}` : base
}

function readQuery(c: Context<AdminEnv>): InboxQuery {
  const value = (name: string) => (c.req.query(name) ?? '').trim().slice(0, 300)
  return {
    number: value('number'),
    outcome: value('outcome'),
    from: value('from'),
    to: value('to'),
    before: value('before'),
  }
}

export const inboxRoutes = new Hono<AdminEnv>()

inboxRoutes.get('/', async (c) => {
  const lang = c.get('lang')
  const l = t(lang)
  const base = accountPath(c, 'inbox')
  const optOutsPath = accountPath(c, 'opt-outs')
  const query = readQuery(c)
  const zone = c.get('account').timeZone
  const { filter, errors } = await readFilter(c, query, l)
  const invalid = Object.keys(errors).length > 0
  const page = invalid
    ? null
    : await listInbox(c.get('deps').db, c.get('account').id, filter, PAGE_SIZE)
  const filtered = Boolean(filter.number || filter.outcome || filter.from || filter.to)
  if (invalid) c.status(400)
  const empty = filter.before ? l.noMore : filtered ? l.noMatch : l.none
  return c.render(
    <>
      <p>{l.intro}</p>
      <FilterForm l={l} base={base} zone={zone} query={query} errors={errors} />
      {page && page.rows.length > 0 && (
        <table class="sms-log inbox stack">
          <thead>
            <tr>
              <th scope="col">{l.received}</th>
              <th scope="col">{l.number}</th>
              <th scope="col">{l.text}</th>
              <th scope="col">{l.outcome}</th>
            </tr>
          </thead>
          <tbody>
            {page.rows.map((sms) => (
              <InboxRow l={l} lang={lang} zone={zone} sms={sms} optOutsPath={optOutsPath} />
            ))}
          </tbody>
        </table>
      )}
      {page && page.rows.length === 0 && page.searchedTo === null && <p class="empty">{empty}</p>}
      {page?.searchedTo != null && (
        <p class="hint">{l.searched(formatDateTime(page.searchedTo, lang, zone))}</p>
      )}
      <Pager
        label={l.pages}
        first={filter.before ? { href: pageLink(base, query, null), text: l.first } : null}
        next={
          page?.next
            ? {
                href: pageLink(base, query, page.next),
                text: page.searchedTo !== null ? l.searchOlder : l.next,
              }
            : null
        }
      />
    </>,
    { title: l.title, section: 'inbox' },
  )
})
