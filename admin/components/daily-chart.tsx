import type { Lang } from '../env'
import { defineMessages } from '../i18n'
import type { DailyCount } from '../../lib/db/outbound'

/**
 * SMS per day (bars, left scale) and delivery rate (dots joined by a line, right scale, 0-100 %)
 * as a plain SVG drawn on the server, as wide as its container: no script, no inline style (the
 * CSP forbids both), colours as presentation attributes, layout in admin.css. The scales, the
 * days and the legend are HTML beside the plot; the figures are also a table, folded under it.
 * The rate is delivered / (delivered + failed): SMS still waiting for a receipt, and those that
 * never got one (unknown), are not counted as failures; a partly delivered SMS is one. A day with
 * no final outcome has no dot.
 */

const t = defineMessages(
  {
    title: (days: number) => `SMS par jour et taux de remise, ${days} derniers jours`,
    summary: (from: string, to: string, total: string, rate: string) =>
      `Du ${from} au ${to} : ${total} SMS, ${rate} remis parmi ceux dont le résultat est connu.`,
    busiest: (count: string, day: string) => `Au plus ${count} SMS, le ${day}.`,
    none: 'Aucun SMS sur la période.',
    day: (day: string, total: string, delivered: string, failed: string, rate: string) =>
      `${day} : ${total} SMS, ${delivered} remis, ${failed} en échec${rate ? `, ${rate} remis` : ''}`,
    unknown: (count: string) => `, ${count} sans accusé de réception`,
    bars: 'SMS par jour',
    rate: 'Taux de remise (remis ÷ remis + en échec)',
    noRate: 'pas de résultat',
    figures: 'Les chiffres jour par jour',
    dayHeading: (zone: string) => `Jour (${zone})`,
    totalHeading: 'SMS',
    deliveredHeading: 'Remis',
    failedHeading: 'En échec',
    unknownHeading: 'Sans accusé',
    rateHeading: 'Taux de remise',
  },
  {
    title: (days: number) => `SMS per day and delivery rate, last ${days} days`,
    summary: (from: string, to: string, total: string, rate: string) =>
      `From ${from} to ${to}: ${total} SMS, ${rate} delivered of those with a known outcome.`,
    busiest: (count: string, day: string) => `At most ${count} SMS, on ${day}.`,
    none: 'No SMS in this period.',
    day: (day: string, total: string, delivered: string, failed: string, rate: string) =>
      `${day}: ${total} SMS, ${delivered} delivered, ${failed} failed${rate ? `, ${rate} delivered` : ''}`,
    unknown: (count: string) => `, ${count} without a receipt`,
    bars: 'SMS per day',
    rate: 'Delivery rate (delivered ÷ delivered + failed)',
    noRate: 'no outcome',
    figures: 'The figures day by day',
    dayHeading: (zone: string) => `Day (${zone})`,
    totalHeading: 'SMS',
    deliveredHeading: 'Delivered',
    failedHeading: 'Failed',
    unknownHeading: 'No receipt',
    rateHeading: 'Delivery rate',
  },
)

type Labels = ReturnType<typeof t>

// The plot's own units. It is stretched to its box (preserveAspectRatio="none"): bars and lines
// scale, strokes and dots keep their size (non-scaling-stroke), and every text is HTML around it,
// so that it reads the same at 390 px and at 1280 px.
const PLOT_W = 300
const PLOT_H = 100
const BAR_COLOUR = '#0b5cad'
const RATE_COLOUR = '#c25e00'
const GRID_COLOUR = '#d5dae1'

/** The top of the count scale: the maximum rounded up to 1, 2 or 5 times a power of ten. */
export function scaleTop(max: number): number {
  if (!(max > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(max))
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power
  return 10 * power
}

/** Delivered over delivered + failed, or null without any final outcome. */
export function deliveryRate(day: DailyCount): number | null {
  const settled = day.delivered + day.failed
  return settled > 0 ? day.delivered / settled : null
}

const round1 = (v: number): number => Math.round(v * 10) / 10

interface Formats {
  count: (v: number) => string
  percent: (v: number) => string
  /** A YYYY-MM-DD date, "6 déc." */
  shortDay: (date: string) => string
}

// Intl formatters cost far more to make than to use: one set per language for the process.
const FORMATS = new Map<Lang, Formats>()

function formats(lang: Lang): Formats {
  const known = FORMATS.get(lang)
  if (known) return known
  const locale = lang === 'en' ? 'en-GB' : 'fr-FR'
  const count = new Intl.NumberFormat(locale)
  const percent = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 })
  // The days are dates of the account's zone already: read as UTC midnights, they stay those dates.
  const short = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', timeZone: 'UTC' })
  const made: Formats = {
    count: (v) => count.format(v),
    percent: (v) => percent.format(v),
    shortDay: (date) => {
      const midnight = Date.parse(`${date}T00:00:00Z`)
      // Not a date (never from the counts): shown as it is, escaped like any text.
      return Number.isNaN(midnight) ? date : short.format(midnight)
    },
  }
  FORMATS.set(lang, made)
  return made
}

export interface DailyChartProps {
  days: DailyCount[]
  lang: Lang
  /** The IANA zone the days are days of (the account's), named in the table. Default UTC. */
  zone?: string
  /** Makes the title and description ids unique when a page has several charts. */
  id?: string
}

/** One row of figures per day: what the chart draws, for those who cannot see it. */
function FiguresTable(props: { l: Labels; f: Formats; days: DailyCount[]; zone: string }) {
  const { l, f, days, zone } = props
  return (
    <details class="chart-figures">
      <summary>{l.figures}</summary>
      <div class="chart-figures-scroll">
        <table>
          <caption class="visually-hidden">{l.title(days.length)}</caption>
          <thead>
            <tr>
              <th scope="col">{l.dayHeading(zone)}</th>
              <th scope="col">{l.totalHeading}</th>
              <th scope="col">{l.deliveredHeading}</th>
              <th scope="col">{l.failedHeading}</th>
              <th scope="col">{l.unknownHeading}</th>
              <th scope="col">{l.rateHeading}</th>
            </tr>
          </thead>
          <tbody>
            {days.map((d) => {
              const rate = deliveryRate(d)
              return (
                <tr>
                  <th scope="row">
                    <time datetime={d.day}>{f.shortDay(d.day)}</time>
                  </th>
                  <td>{f.count(d.total)}</td>
                  <td>{f.count(d.delivered)}</td>
                  <td>{f.count(d.failed)}</td>
                  <td>{f.count(d.unknown)}</td>
                  <td>
                    {rate === null ? (
                      // A dash keeps the column narrow enough for a phone; words for the ear.
                      <>
                        <span aria-hidden="true">–</span>
                        <span class="visually-hidden">{l.noRate}</span>
                      </>
                    ) : (
                      f.percent(rate)
                    )}
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </div>
    </details>
  )
}

export function DailyChart(props: DailyChartProps) {
  const { days, lang } = props
  const l = t(lang)
  const f = formats(lang)
  const id = props.id ?? 'daily-chart'
  const top = scaleTop(Math.max(0, ...days.map((d) => d.total)))
  const slot = days.length > 0 ? PLOT_W / days.length : PLOT_W
  const barWidth = round1(Math.max(0.5, slot * 0.7))
  const x = (i: number) => i * slot
  const yRate = (r: number) => PLOT_H - r * PLOT_H

  const total = days.reduce((n, d) => n + d.total, 0)
  const delivered = days.reduce((n, d) => n + d.delivered, 0)
  const failed = days.reduce((n, d) => n + d.failed, 0)
  const overall = delivered + failed > 0 ? f.percent(delivered / (delivered + failed)) : l.noRate
  const busiest = days.reduce<DailyCount | null>((b, d) => (!b || d.total > b.total ? d : b), null)
  const description =
    days.length === 0 || total === 0
      ? l.none
      : `${l.summary(days[0].day, days[days.length - 1].day, f.count(total), overall)} ${
          busiest ? l.busiest(f.count(busiest.total), busiest.day) : ''
        }`

  // The rate line is broken where a day has no outcome, rather than drawn across it.
  const points = days.map((d, i) => {
    const rate = deliveryRate(d)
    return rate === null ? null : { x: round1(x(i) + slot / 2), y: round1(yRate(rate)), day: d.day }
  })
  const runs: Array<Array<{ x: number; y: number }>> = []
  let run: Array<{ x: number; y: number }> = []
  for (const p of points) {
    if (p) run.push(p)
    else if (run.length > 0) {
      runs.push(run)
      run = []
    }
  }
  if (run.length > 0) runs.push(run)

  // First, middle and last day under the plot, spread by the stylesheet like the bars they name.
  const labelDays =
    days.length > 2
      ? [0, Math.floor((days.length - 1) / 2), days.length - 1]
      : days.map((_, i) => i)
  return (
    <figure class="daily-chart">
      <svg
        xmlns="http://www.w3.org/2000/svg"
        class="chart-plot"
        viewBox={`0 0 ${PLOT_W} ${PLOT_H}`}
        preserveAspectRatio="none"
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
      >
        <title id={`${id}-title`}>{l.title(days.length)}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <g class="grid" stroke={GRID_COLOUR} stroke-width="1">
          {[0, PLOT_H / 2, PLOT_H].map((y) => (
            <line x1="0" y1={y} x2={PLOT_W} y2={y} vector-effect="non-scaling-stroke" />
          ))}
        </g>
        <g class="bars" fill={BAR_COLOUR}>
          {days.map((d, i) => {
            const height = round1((d.total / top) * PLOT_H)
            const rate = deliveryRate(d)
            return (
              <rect
                class="bar"
                x={round1(x(i) + (slot - barWidth) / 2)}
                y={round1(PLOT_H - height)}
                width={barWidth}
                height={height}
                data-day={d.day}
              >
                <title>
                  {l.day(
                    d.day,
                    f.count(d.total),
                    f.count(d.delivered),
                    f.count(d.failed),
                    rate === null ? '' : f.percent(rate),
                  )}
                  {d.unknown > 0 ? l.unknown(f.count(d.unknown)) : ''}
                </title>
              </rect>
            )
          })}
        </g>
        <g class="rate" stroke={RATE_COLOUR} fill="none">
          {runs
            .filter((r) => r.length > 1)
            .map((r) => (
              <polyline
                stroke-width="1.5"
                vector-effect="non-scaling-stroke"
                points={r.map((p) => `${p.x},${p.y}`).join(' ')}
              />
            ))}
          {/* A line of no length with round caps: a dot that stays round however the plot is
              stretched, where a <circle> would become an ellipse. */}
          {points.map((p) =>
            p ? (
              <line
                class="dot"
                x1={p.x}
                y1={p.y}
                x2={p.x}
                y2={p.y}
                data-day={p.day}
                stroke-width="6"
                stroke-linecap="round"
                vector-effect="non-scaling-stroke"
              />
            ) : null,
          )}
        </g>
      </svg>
      <div class="chart-scale chart-scale-count" aria-hidden="true">
        <span>{f.count(top)}</span>
        <span>{f.count(0)}</span>
      </div>
      <div class="chart-scale chart-scale-rate" aria-hidden="true">
        <span>{f.percent(1)}</span>
        <span>{f.percent(0.5)}</span>
        <span>{f.percent(0)}</span>
      </div>
      <div class="chart-days" aria-hidden="true">
        {labelDays.map((i) => (
          <span>{f.shortDay(days[i].day)}</span>
        ))}
      </div>
      <FiguresTable l={l} f={f} days={days} zone={props.zone ?? 'UTC'} />
      {/* The legend names the figure; the table stays out of it, or it would be read as its name. */}
      <figcaption>
        <ul class="chart-legend">
          <li>
            <svg class="chart-swatch" viewBox="0 0 12 12" aria-hidden="true">
              <rect x="1" y="1" width="10" height="10" fill={BAR_COLOUR} />
            </svg>
            {l.bars}
          </li>
          <li>
            <svg class="chart-swatch" viewBox="0 0 12 12" aria-hidden="true">
              <line x1="0" y1="6" x2="12" y2="6" stroke={RATE_COLOUR} stroke-width="1.5" />
              <circle cx="6" cy="6" r="3" fill={RATE_COLOUR} />
            </svg>
            {l.rate}
          </li>
        </ul>
      </figcaption>
    </figure>
  )
}
