import { Hono, type Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { AdminEnv, Lang } from '../env'
import { defineMessages } from '../i18n'
import { accountClock, accountPath } from '../account'
import { BarChart, type Bar } from '../components/bar-chart'
import { FieldFrame, FormError } from '../components/form'
import { quotaUse } from './limits'
import { DEFAULT_LIMITS } from '../../lib/config'
import { findAccountByRef, type Account } from '../../lib/db/accounts'
import {
  PastDaysCache,
  periodsOf,
  usageByDay,
  usageBySender,
  type UsagePeriod,
} from '../../lib/db/outbound'
import type { Db } from '../../lib/db/connection'
import { effectiveLimits } from '../../lib/limits/spend'
import { dateOf, dayOfDate } from '../../lib/time/zone'

const MONTHS_SHOWN = 12

// Per database, so that test apps on their own databases never share figures.
const caches = new WeakMap<Db, PastDaysCache>()
function cacheFor(db: Db): PastDaysCache {
  let cache = caches.get(db)
  if (!cache) caches.set(db, (cache = new PastDaysCache()))
  return cache
}

const t = defineMessages(
  {
    title: 'Consommation',
    intro:
      'Les SMS demandés à la passerelle par ce compte et les segments qu’ils coûtent (un SMS long en compte plusieurs : c’est ce que l’opérateur facture), par mois, par jour et par utilisateur. Chaque SMS compte, quelle que soit la suite (remis, en échec…).',
    month: 'Mois',
    show: 'Afficher',
    badMonth: (value: string) =>
      `« ${value} » n’est pas un mois (année-mois, par exemple 2026-12).`,
    futureMonth: 'Ce mois n’a pas encore commencé.',
    monthsTitle: (n: number) => `Segments par mois, ${n} derniers mois`,
    monthsDesc: (n: number) =>
      `Un bâton par mois, de gauche (le plus ancien) à droite, sur ${n} mois.`,
    daysTitle: (month: string) => `Segments par jour, ${month}`,
    daysDesc: 'Un bâton par jour du mois.',
    segmentsUnit: 'Segments',
    smsUnit: 'SMS',
    figures: 'Les chiffres',
    period: 'Période',
    day: 'Jour',
    monthlyQuota: (n: string) => `Quota mensuel : ${n} segments`,
    quotaLine: (used: string, quota: string, percent: number) =>
      `Ce mois-ci (mois UTC, comme le quota) : ${used} segments sur ${quota} (${percent} %).`,
    noQuota: 'Le compte n’a pas de quota mensuel.',
    dailyQuotaLine: (used: string, quota: string) =>
      `Aujourd’hui (jour UTC) : ${used} segments sur ${quota} par jour.`,
    totalsTitle: (month: string) => `Total de ${month}`,
    sendersTitle: (month: string) => `Par utilisateur, ${month}`,
    sender: 'Utilisateur',
    share: 'Part des segments',
    purgedSender: '(adresse effacée par la durée de conservation)',
    noSms: 'Aucun SMS ce mois-ci.',
    zoneNote: (zone: string) =>
      `Jours et mois comptés dans le fuseau horaire du compte : ${zone} (Préférences).`,
  },
  {
    title: 'Usage',
    intro:
      'The SMS this account asked of the gateway and the segments they cost (a long SMS counts several: that is what the carrier bills), by month, by day and by user. Every SMS counts, whatever became of it (delivered, failed…).',
    month: 'Month',
    show: 'Show',
    badMonth: (value: string) => `"${value}" is not a month (year-month, for example 2026-12).`,
    futureMonth: 'That month has not started yet.',
    monthsTitle: (n: number) => `Segments per month, last ${n} months`,
    monthsDesc: (n: number) =>
      `One bar per month, from the oldest (left) to the newest, ${n} months.`,
    daysTitle: (month: string) => `Segments per day, ${month}`,
    daysDesc: 'One bar per day of the month.',
    segmentsUnit: 'Segments',
    smsUnit: 'SMS',
    figures: 'The figures',
    period: 'Period',
    day: 'Day',
    monthlyQuota: (n: string) => `Monthly quota: ${n} segments`,
    quotaLine: (used: string, quota: string, percent: number) =>
      `This month (UTC month, as the quota counts): ${used} segments of ${quota} (${percent} %).`,
    noQuota: 'The account has no monthly quota.',
    dailyQuotaLine: (used: string, quota: string) =>
      `Today (UTC day): ${used} segments of ${quota} per day.`,
    totalsTitle: (month: string) => `Total for ${month}`,
    sendersTitle: (month: string) => `By user, ${month}`,
    sender: 'User',
    share: 'Share of segments',
    purgedSender: '(address removed by the retention period)',
    noSms: 'No SMS this month.',
    zoneNote: (zone: string) =>
      `Days and months counted in the account’s time zone: ${zone} (Preferences).`,
  },
)

type Labels = ReturnType<typeof t>

/** A month from 1970 on: day numbers count from then, and the page has nothing earlier. */
const MONTH = /^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/

// Made once per language: a new Intl formatter costs about 0.2 ms, and a page names 40 months.
const LOCALE: Record<Lang, string> = { fr: 'fr-FR', en: 'en-GB' }
const formatters = <T,>(make: (locale: string) => T): Record<Lang, T> => ({
  fr: make(LOCALE.fr),
  en: make(LOCALE.en),
})
const LONG_MONTH = formatters(
  (locale) => new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' }),
)
const SHORT_MONTH = formatters(
  (locale) => new Intl.DateTimeFormat(locale, { month: 'short', timeZone: 'UTC' }),
)
const NUMBER = formatters((locale) => new Intl.NumberFormat(locale))

/** "2026-12" → "décembre 2026" / "December 2026". */
function monthName(month: string, lang: Lang): string {
  const [y, m] = month.split('-').map(Number)
  return LONG_MONTH[lang].format(Date.UTC(y, m - 1, 1))
}

/** "2026-12" → "déc." / "Dec". */
function shortMonth(month: string, lang: Lang): string {
  const [y, m] = month.split('-').map(Number)
  return SHORT_MONTH[lang].format(Date.UTC(y, m - 1, 1))
}

/** The month `n` months after `month` (negative: before), as YYYY-MM. */
function addMonths(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number)
  const d = new Date(Date.UTC(y, m - 1 + n, 1))
  return d.toISOString().slice(0, 7)
}

function daysInMonth(month: string): number {
  return dayOfDate(`${addMonths(month, 1)}-01`) - dayOfDate(`${month}-01`)
}

async function loadAccount(c: Context<AdminEnv>): Promise<Account> {
  const account = await findAccountByRef(c.get('deps').db, c.get('account').ref)
  if (!account) throw new HTTPException(404)
  return account
}

function SendersTable(props: {
  l: Labels
  lang: Lang
  month: string
  senders: Array<{ senderEmail: string; sms: number; segments: number }>
  total: number
  format: (n: number) => string
}) {
  const { l, format } = props
  return (
    <table class="usage-senders stack">
      <caption>{l.sendersTitle(monthName(props.month, props.lang))}</caption>
      <thead>
        <tr>
          <th scope="col">{l.sender}</th>
          <th scope="col" class="num">
            {l.smsUnit}
          </th>
          <th scope="col" class="num">
            {l.segmentsUnit}
          </th>
          <th scope="col" class="num">
            {l.share}
          </th>
        </tr>
      </thead>
      <tbody>
        {props.senders.map((s) => (
          <tr>
            <td class="wrap-anywhere full" data-label={l.sender}>
              {s.senderEmail || l.purgedSender}
            </td>
            <td class="num" data-label={l.smsUnit}>
              {format(s.sms)}
            </td>
            <td class="num" data-label={l.segmentsUnit}>
              {format(s.segments)}
            </td>
            <td class="num" data-label={l.share}>
              {props.total > 0 ? `${Math.round((s.segments * 100) / props.total)} %` : '–'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

export const usageRoutes = new Hono<AdminEnv>()

usageRoutes.get('/', async (c) => {
  const lang = c.get('lang')
  const l = t(lang)
  const { db, clock, limits } = c.get('deps')
  const zone = await accountClock(c)
  const today = zone.dayOf(clock())
  const current = dateOf(today).slice(0, 7)
  const asked = (c.req.query('month') ?? '').trim()
  let month = current
  let error: string | null = null
  if (asked !== '') {
    if (!MONTH.test(asked)) error = l.badMonth(asked.slice(0, 40))
    else if (asked > current) error = l.futureMonth
    else month = asked
  }
  const format = (n: number) => NUMBER[lang].format(n)

  const firstOfMonth = dayOfDate(`${month}-01`)
  // The whole month, days to come included (they count nothing yet).
  const lastOfMonth = firstOfMonth + daysInMonth(month) - 1
  const firstMonth = addMonths(month, -(MONTHS_SHOWN - 1))
  const account = await loadAccount(c)
  // Two sums read from the database, by day and by user; the days that are over come from the
  // process's cache (see PastDaysCache), today afresh.
  const firstDay = dayOfDate(`${firstMonth}-01`)
  const now = clock()
  const cache = cacheFor(db)
  const [byDay, senders, quota] = await Promise.all([
    usageByDay(db, account.id, { first: firstDay, last: lastOfMonth, today, now }, cache),
    usageBySender(db, account.id, { first: firstOfMonth, last: lastOfMonth, today, now }, cache),
    quotaUse(c, account),
  ])
  const months = periodsOf(byDay, firstDay, lastOfMonth, 'month')
  const days = periodsOf(byDay, firstOfMonth, lastOfMonth, 'day')
  const total = {
    sms: days.reduce((n, d) => n + d.sms, 0),
    segments: days.reduce((n, d) => n + d.segments, 0),
  }
  const effective = effectiveLimits(account, limits ?? DEFAULT_LIMITS)
  const monthBars: Bar[] = months.map((m: UsagePeriod) => ({
    label: shortMonth(m.period, lang),
    period: monthName(m.period, lang),
    value: m.segments,
  }))
  const dayBars: Bar[] = days.map((d: UsagePeriod) => ({
    label: String(Number(d.period.slice(8))),
    period: d.period,
    value: d.segments,
  }))
  if (error) c.status(400)
  const base = accountPath(c, 'usage')
  return c.render(
    <>
      <p class="message">{l.intro}</p>
      <form method="get" action={base} class="usage-month">
        <FormError message={error} />
        <FieldFrame
          id="month"
          label={l.month}
          error={null}
          control={(aria) => (
            <input id="month" name="month" type="month" value={month} max={current} {...aria} />
          )}
        />
        <button type="submit">{l.show}</button>
      </form>
      <section class="notice usage-quota">
        {effective.segmentsPerMonth > 0 ? (
          <p>
            {l.quotaLine(
              format(quota.month),
              format(effective.segmentsPerMonth),
              Math.floor((quota.month * 100) / effective.segmentsPerMonth),
            )}
            <meter min={0} max={effective.segmentsPerMonth} value={quota.month} />
          </p>
        ) : (
          <p>{l.noQuota}</p>
        )}
        {effective.segmentsPerDay > 0 && (
          <p>{l.dailyQuotaLine(format(quota.day), format(effective.segmentsPerDay))}</p>
        )}
      </section>
      <BarChart
        id="usage-months"
        title={l.monthsTitle(MONTHS_SHOWN)}
        description={l.monthsDesc(MONTHS_SHOWN)}
        bars={monthBars}
        limit={
          effective.segmentsPerMonth > 0
            ? {
                value: effective.segmentsPerMonth,
                label: l.monthlyQuota(format(effective.segmentsPerMonth)),
              }
            : null
        }
        unit={l.segmentsUnit}
        figuresLabel={l.figures}
        periodLabel={l.month}
        format={format}
      />
      <h2>{l.totalsTitle(monthName(month, lang))}</h2>
      <dl class="usage-totals">
        <div>
          <dt>{l.smsUnit}</dt>
          <dd>{format(total.sms)}</dd>
        </div>
        <div>
          <dt>{l.segmentsUnit}</dt>
          <dd>{format(total.segments)}</dd>
        </div>
      </dl>
      <BarChart
        id="usage-days"
        title={l.daysTitle(monthName(month, lang))}
        description={l.daysDesc}
        bars={dayBars}
        limit={null}
        unit={l.segmentsUnit}
        figuresLabel={l.figures}
        periodLabel={l.day}
        format={format}
      />
      {senders.length > 0 ? (
        <SendersTable
          l={l}
          lang={lang}
          month={month}
          senders={senders}
          total={total.segments}
          format={format}
        />
      ) : (
        <p class="empty">{l.noSms}</p>
      )}
      <p class="hint">{l.zoneNote(zone.name)}</p>
    </>,
    { title: l.title, section: 'usage' },
  )
})
