import type { Lang } from '../env'
import { defineMessages } from '../i18n'
import type { DailyCount } from '../../lib/db/outbound'

/**
 * SMS per day (bars, left scale) and delivery rate (dots joined by a line, right scale, 0-100 %)
 * as a plain SVG drawn on the server: no script, no inline style (the CSP forbids both), colours
 * as presentation attributes. The rate is delivered / (delivered + failed): SMS still waiting for
 * a receipt, and those that never got one (unknown), are not counted as failures; a partly
 * delivered SMS is one. A day with no final outcome has no dot.
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
  },
)

const CHART_WIDTH = 600
const CHART_HEIGHT = 160
const LEFT = 44
const RIGHT = 44
const TOP = 10
const BOTTOM = 22
const PLOT_W = CHART_WIDTH - LEFT - RIGHT
const PLOT_H = CHART_HEIGHT - TOP - BOTTOM
const BAR_COLOUR = '#0b5cad'
const RATE_COLOUR = '#c25e00'
const GRID_COLOUR = '#d5dae1'
const TEXT_COLOUR = '#5b6473'

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
    shortDay: (date) => short.format(new Date(`${date}T00:00:00Z`)),
  }
  FORMATS.set(lang, made)
  return made
}

export interface DailyChartProps {
  days: DailyCount[]
  lang: Lang
  /** Makes the title and description ids unique when a page has several charts. */
  id?: string
}

export function DailyChart(props: DailyChartProps) {
  const { days, lang } = props
  const l = t(lang)
  const f = formats(lang)
  const id = props.id ?? 'daily-chart'
  const top = scaleTop(Math.max(0, ...days.map((d) => d.total)))
  const slot = days.length > 0 ? PLOT_W / days.length : PLOT_W
  const barWidth = round1(Math.max(1, slot * 0.7))
  const x = (i: number) => LEFT + i * slot
  const yCount = (v: number) => TOP + PLOT_H - (v / top) * PLOT_H
  const yRate = (r: number) => TOP + PLOT_H - r * PLOT_H

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
    return rate === null ? null : { x: round1(x(i) + slot / 2), y: round1(yRate(rate)), rate }
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

  const labelDays = days.length > 2 ? [0, Math.floor((days.length - 1) / 2), days.length - 1] : []
  return (
    <figure class="daily-chart">
      <svg
        xmlns="http://www.w3.org/2000/svg"
        viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`}
        width={CHART_WIDTH}
        height={CHART_HEIGHT}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        font-family="system-ui, sans-serif"
        font-size="11"
      >
        <title id={`${id}-title`}>{l.title(days.length)}</title>
        <desc id={`${id}-desc`}>{description}</desc>
        <g class="grid" stroke={GRID_COLOUR} stroke-width="1">
          <line x1={LEFT} y1={TOP} x2={LEFT + PLOT_W} y2={TOP} />
          <line x1={LEFT} y1={TOP + PLOT_H / 2} x2={LEFT + PLOT_W} y2={TOP + PLOT_H / 2} />
          <line x1={LEFT} y1={TOP + PLOT_H} x2={LEFT + PLOT_W} y2={TOP + PLOT_H} />
        </g>
        <g class="axis" fill={TEXT_COLOUR}>
          <text x={LEFT - 6} y={TOP + 4} text-anchor="end">
            {f.count(top)}
          </text>
          <text x={LEFT - 6} y={TOP + PLOT_H + 4} text-anchor="end">
            0
          </text>
          <text x={LEFT + PLOT_W + 6} y={TOP + 4}>
            {f.percent(1)}
          </text>
          <text x={LEFT + PLOT_W + 6} y={TOP + PLOT_H / 2 + 4}>
            {f.percent(0.5)}
          </text>
          <text x={LEFT + PLOT_W + 6} y={TOP + PLOT_H + 4}>
            {f.percent(0)}
          </text>
          {labelDays.map((i, k) => (
            <text
              x={round1(x(i) + slot / 2)}
              y={CHART_HEIGHT - 6}
              text-anchor={k === 0 ? 'start' : k === 2 ? 'end' : 'middle'}
            >
              {f.shortDay(days[i].day)}
            </text>
          ))}
        </g>
        <g class="bars" fill={BAR_COLOUR}>
          {days.map((d, i) => {
            const height = round1(TOP + PLOT_H - yCount(d.total))
            const rate = deliveryRate(d)
            return (
              <rect
                class="bar"
                x={round1(x(i) + (slot - barWidth) / 2)}
                y={round1(TOP + PLOT_H - height)}
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
        <g class="rate" stroke={RATE_COLOUR} fill={RATE_COLOUR}>
          {runs
            .filter((r) => r.length > 1)
            .map((r) => (
              <polyline
                fill="none"
                stroke-width="1.5"
                points={r.map((p) => `${p.x},${p.y}`).join(' ')}
              />
            ))}
          {points.map((p) => (p ? <circle class="dot" cx={p.x} cy={p.y} r="2.5" /> : null))}
        </g>
      </svg>
      <figcaption class="chart-legend">
        <svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">
          <rect width="10" height="10" fill={BAR_COLOUR} />
        </svg>{' '}
        {l.bars}{' '}
        <svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true">
          <circle cx="5" cy="5" r="3" fill={RATE_COLOUR} />
        </svg>{' '}
        {l.rate}
      </figcaption>
    </figure>
  )
}
