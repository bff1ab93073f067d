import assert from 'node:assert/strict'
import { DailyChart, deliveryRate, scaleTop } from '../../admin/components/daily-chart'
import { DAY_MS, type DailyCount } from '../../lib/db/outbound'

const FIRST = Date.UTC(2026, 10, 21)

function days(
  counts: Array<[total: number, delivered: number, failed: number, unknown?: number]>,
): DailyCount[] {
  return counts.map(([total, delivered, failed, unknown = 0], i) => ({
    day: new Date(FIRST + i * DAY_MS).toISOString().slice(0, 10),
    start: FIRST + i * DAY_MS,
    total,
    delivered,
    failed,
    unknown,
  }))
}

async function render(data: DailyCount[], lang: 'fr' | 'en' = 'fr'): Promise<string> {
  return String(await (<DailyChart days={data} lang={lang} />).toString())
}

/** Each bar's height, in day order. */
function barHeights(svg: string): number[] {
  return [...svg.matchAll(/<rect class="bar"[^>]*\sheight="([^"]+)"/g)].map((m) => Number(m[1]))
}

describe('admin/components/daily-chart', () => {
  it('draws one bar per day, heights in proportion to the counts', async () => {
    const svg = await render(
      days([
        [10, 9, 1],
        [0, 0, 0],
        [20, 20, 0],
        [5, 0, 5],
        [40, 30, 2],
      ]),
    )
    const heights = barHeights(svg)
    assert.equal(heights.length, 5)
    assert.equal(heights[1], 0)
    assert.ok(heights[4] > 0)
    for (const [i, total] of [10, 0, 20, 5, 40].entries()) {
      assert.ok(Math.abs(heights[i] / heights[4] - total / 40) < 0.01, `bar ${i}`)
    }
    // The scale tops at 50 for a maximum of 40, and says so.
    assert.match(
      svg,
      /<div class="chart-scale chart-scale-count" aria-hidden="true"><span>50<\/span><span>0<\/span>/,
    )
  })

  it('marks the delivery rate of each day with an outcome, and none for the others', async () => {
    const svg = await render(
      days([
        [10, 9, 1],
        [0, 0, 0],
        [3, 0, 0],
        [4, 0, 4],
        [10, 10, 0],
      ]),
    )
    const dots = [...svg.matchAll(/<line class="dot" x1="[^"]+" y1="([^"]+)"/g)]
    assert.equal(dots.length, 3)
    const [ninety, zero, hundred] = dots.map((m) => Number(m[1]))
    // SVG y grows downwards: 100 % is highest, 0 % lowest, 90 % near the top.
    assert.ok(hundred < ninety && ninety < zero)
    assert.ok(Math.abs((zero - ninety) / (zero - hundred) - 0.9) < 0.01)
    // The line stops at days without an outcome: only the last two days are joined.
    assert.equal([...svg.matchAll(/<polyline/g)].length, 1)
  })

  it('draws an empty period without NaN or Infinity', async () => {
    const svg = await render(days(Array.from({ length: 30 }, () => [0, 0, 0])))
    assert.doesNotMatch(svg, /NaN|Infinity/)
    assert.deepEqual(barHeights(svg), Array(30).fill(0))
    assert.doesNotMatch(svg, /class="dot"/)
    assert.match(svg, /<desc id="daily-chart-desc">Aucun SMS sur la période.<\/desc>/)
    assert.doesNotMatch(await render([]), /NaN|Infinity/)
  })

  it('is a titled, described image with axis labels and no script', async () => {
    const svg = await render(
      days([
        [1200, 1100, 50],
        [800, 790, 10],
        [1000, 900, 100],
      ]),
      'en',
    )
    assert.match(
      svg,
      /<svg[^>]*role="img"[^>]*aria-labelledby="daily-chart-title daily-chart-desc"/,
    )
    assert.match(svg, /<title id="daily-chart-title">SMS per day and delivery rate, last 3 days/)
    assert.match(svg, /<desc id="daily-chart-desc">From 2026-11-21 to 2026-11-23: 3,000 SMS/)
    assert.match(svg, /<span>2,000<\/span>/)
    assert.match(svg, /<span>100%<\/span><span>50%<\/span><span>0%<\/span>/)
    assert.match(
      svg,
      /<div class="chart-days" aria-hidden="true"><span>21 Nov<\/span><span>22 Nov<\/span><span>23 Nov<\/span>/,
    )
    assert.match(svg, /<title>2026-11-21: 1,200 SMS, 1,100 delivered, 50 failed, 95.7% delivered/)
    assert.doesNotMatch(svg, /<script|style=|on[a-z]+=/i)
  })

  it('fills its container: a plot without a fixed size, stretched, strokes and dots unscaled', async () => {
    const html = await render(days(Array.from({ length: 30 }, (_, i) => [i, i, 0])))
    const plot = /<svg [^>]*class="chart-plot"[^>]*>/.exec(html)?.[0] ?? ''
    assert.match(plot, /viewBox="0 0 300 100"/)
    assert.match(plot, /preserveAspectRatio="none"/)
    // The stylesheet gives its size: 100 % of the container's width.
    assert.doesNotMatch(plot, /\s(width|height)=/)
    // Text would be stretched with the plot: the scales and days are HTML beside it.
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>'))
    assert.doesNotMatch(svg, /<text/)
    for (const line of svg.match(/<(line|polyline)\s[^>]*>/g) ?? []) {
      assert.match(line, /vector-effect="non-scaling-stroke"/, line)
    }
    // A dot is a round-capped line of no length: it stays round when the plot is stretched.
    assert.doesNotMatch(svg, /<circle/)
    assert.match(
      svg,
      /<line class="dot" x1="(\S+)" y1="(\S+)" x2="\1" y2="\2"[^>]*stroke-linecap="round"/,
    )
  })

  it('keeps each legend swatch with its words, in a list', async () => {
    const html = await render(days([[1, 1, 0]]))
    const legend = /<ul class="chart-legend">(.*?)<\/ul>/s.exec(html)?.[1] ?? ''
    const items = [
      ...legend.matchAll(/<li>(<svg class="chart-swatch"[^>]*>.*?<\/svg>)([^<]*)<\/li>/gs),
    ]
    assert.deepEqual(
      items.map((m) => m[2]),
      ['SMS par jour', 'Taux de remise (remis ÷ remis + en échec)'],
    )
    assert.match(items[0][1], /<rect [^>]*fill="#0b5cad"/)
    assert.match(items[1][1], /<circle [^>]*fill="#c25e00"/)
  })

  it('gives every figure in a table too, for those who cannot see the chart', async () => {
    const data = days([
      [10, 6, 2, 2],
      [0, 0, 0],
      [1200, 1100, 50, 50],
    ])
    const fr = await render(data)
    const table =
      /<details class="chart-figures"><summary>Les chiffres jour par jour<\/summary>.*?<\/details>/s.exec(
        fr,
      )?.[0] ?? ''
    // Each row's cells as read aloud: tags left out, the dash shown for "no rate" hidden.
    const rows = [...table.matchAll(/<tr><th scope="row">(.*?)<\/tr>/g)].map((m) =>
      m[1]
        .replace(/<span aria-hidden="true">[^<]*<\/span>/g, '')
        .split(/<\/t[hd]>/)
        .slice(0, -1)
        .map((cell) => cell.replace(/<[^>]*>/g, '').replace(/[\u00a0\u202f]/g, ' ')),
    )
    assert.deepEqual(rows, [
      ['21 nov.', '10', '6', '2', '2', '75 %'],
      ['22 nov.', '0', '0', '0', '0', 'pas de résultat'],
      ['23 nov.', '1 200', '1 100', '50', '50', '95,7 %'],
    ])
    assert.ok(table.includes('<time datetime="2026-11-21">21 nov.</time>'))
    assert.ok(
      table.includes(
        '<td><span aria-hidden="true">–</span><span class="visually-hidden">pas de résultat</span></td>',
      ),
    )
    assert.match(
      table,
      /<th scope="col">Jour \(UTC\)<\/th><th scope="col">SMS<\/th><th scope="col">Remis<\/th><th scope="col">En échec<\/th><th scope="col">Sans accusé<\/th><th scope="col">Taux de remise<\/th>/,
    )
    assert.match(await render(data, 'en'), /<summary>The figures day by day<\/summary>/)
    // The caption (the legend) names the figure: 30 rows of figures would make a poor name.
    assert.doesNotMatch(/<figcaption>.*?<\/figcaption>/s.exec(fr)?.[0] ?? '', /<table/)
  })

  it('says how many SMS got no receipt, in both languages, and leaves them out of the rate', async () => {
    const data = days([
      [10, 6, 2, 2],
      [4, 4, 0],
    ])
    assert.equal(deliveryRate(data[0]), 0.75)
    const fr = await render(data, 'fr')
    assert.match(
      fr,
      /<title>2026-11-21 : 10 SMS, 6 remis, 2 en échec, 75\s%\sremis, 2 sans accusé de réception<\/title>/,
    )
    const en = await render(data, 'en')
    assert.match(
      en,
      /<title>2026-11-21: 10 SMS, 6 delivered, 2 failed, 75% delivered, 2 without a receipt<\/title>/,
    )
    // A day where every SMS has its outcome says nothing of receipts.
    assert.match(en, /<title>2026-11-22: 4 SMS, 4 delivered, 0 failed, 100% delivered<\/title>/)
  })

  it('escapes what it prints', async () => {
    const data = days([[1, 1, 0]])
    data[0].day = '<script>alert(1)</script>'
    const svg = await render(data)
    assert.doesNotMatch(svg, /<script>/)
    assert.match(svg, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/)
  })

  it('rounds the scale up to 1, 2 or 5 times a power of ten', () => {
    assert.deepEqual(
      [0, 1, 3, 7, 10, 11, 40, 99, 101, 18172].map(scaleTop),
      [1, 1, 5, 10, 10, 20, 50, 100, 200, 20000],
    )
  })

  it('computes the rate over SMS with a final outcome', () => {
    assert.equal(deliveryRate(days([[10, 6, 2]])[0]), 0.75)
    assert.equal(deliveryRate(days([[10, 0, 0]])[0]), null)
  })
})
