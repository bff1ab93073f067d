/**
 * A bar chart as inline SVG, for the usage page: one bar per period, an optional limit line
 * (the account's quota), and the same figures as a table for screen readers and for anyone
 * who wants the numbers. The plot stretches to its container's width (viewBox, no fixed size);
 * its labels are HTML around it, so they keep their size at any width.
 */

export interface Bar {
  /** Under the bar, shortened: "6", "déc." */
  label: string
  /** The whole period, in the table and the bar's tooltip: "6 décembre 2026". */
  period: string
  value: number
}

/** The top of the scale: the largest bar or the limit, rounded up to a readable number. */
export function scaleTop(values: number[], limit: number | null): number {
  const top = Math.max(1, limit ?? 0, ...values)
  const magnitude = 10 ** Math.floor(Math.log10(top))
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (top <= step * magnitude) return step * magnitude
  }
  return 10 * magnitude
}

const WIDTH = 1000
const HEIGHT = 300

export function BarChart(props: {
  id: string
  title: string
  description: string
  bars: Bar[]
  /** A horizontal line, e.g. the monthly quota; null for none. */
  limit: { value: number; label: string } | null
  unit: string
  figuresLabel: string
  periodLabel: string
  format: (n: number) => string
}) {
  const { bars, limit } = props
  const top = scaleTop(
    bars.map((b) => b.value),
    limit?.value ?? null,
  )
  const slot = WIDTH / Math.max(1, bars.length)
  const gap = Math.min(8, slot * 0.2)
  const y = (v: number) => HEIGHT - (v / top) * HEIGHT
  // Labels along the bottom: every one up to twelve bars, else about ten.
  const every = bars.length <= 12 ? 1 : Math.ceil(bars.length / 10)
  return (
    <figure class="bar-chart" aria-labelledby={`${props.id}-title`}>
      <figcaption id={`${props.id}-title`}>{props.title}</figcaption>
      <div class="bar-chart-frame">
        <div class="bar-chart-scale" aria-hidden="true">
          <span>{props.format(top)}</span>
          <span>{props.format(top / 2)}</span>
          <span>0</span>
        </div>
        <svg
          class="bar-chart-plot"
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          preserveAspectRatio="none"
          role="img"
          aria-labelledby={`${props.id}-title ${props.id}-desc`}
        >
          <desc id={`${props.id}-desc`}>{props.description}</desc>
          <line class="grid" x1="0" x2={WIDTH} y1={y(top / 2)} y2={y(top / 2)} />
          <line class="grid" x1="0" x2={WIDTH} y1={HEIGHT} y2={HEIGHT} />
          {bars.map((b, i) => (
            <rect
              class="bar"
              x={i * slot + gap / 2}
              y={y(b.value)}
              width={Math.max(1, slot - gap)}
              height={HEIGHT - y(b.value)}
            >
              <title>{`${b.period} : ${props.format(b.value)} ${props.unit}`}</title>
            </rect>
          ))}
          {limit && (
            <line class="limit" x1="0" x2={WIDTH} y1={y(limit.value)} y2={y(limit.value)} />
          )}
        </svg>
        <div class="bar-chart-labels" aria-hidden="true">
          {bars.map((b, i) => (
            <span>{i % every === 0 ? b.label : ''}</span>
          ))}
        </div>
      </div>
      {limit && (
        <p class="bar-chart-legend">
          <span class="swatch swatch-bar" aria-hidden="true" /> {props.unit}{' '}
          <span class="swatch swatch-limit" aria-hidden="true" /> {limit.label}
        </p>
      )}
      <details class="chart-figures">
        <summary>{props.figuresLabel}</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">{props.periodLabel}</th>
              <th scope="col" class="num">
                {props.unit}
              </th>
            </tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr>
                <th scope="row">{b.period}</th>
                <td class="num">{props.format(b.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}
