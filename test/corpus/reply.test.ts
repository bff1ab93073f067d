import assert from 'node:assert/strict'
import { runReplyCorpus, meets, normaliseForComparison } from './reply'

/**
 * The reply corpus is a bar, not a snapshot: the share of cases where the whole text step gives
 * what a reader should see may only go up. Raise the bar when the rules get better.
 */
const FULL_PIPELINE_BAR = 112 / 115
const QUOTES_ALONE_BAR = 79 / 79

describe('reply corpus (../shared/corpora/reply/cases.json)', function () {
  this.timeout(60000)

  it('compares after the corpus normalisation, and checks startsWith/notContains', function () {
    assert.equal(normaliseForComparison('“Hi”\u200b —  there…\n\n'), '"Hi" - there...')
    assert.ok(meets('Hi  there', { exact: ['nope', 'Hi there'] }))
    assert.ok(!meets('Hi there, Bob', { startsWith: 'Hi', notContains: ['Bob'] }))
    assert.ok(meets('Hi there', { startsWith: 'Hi', notContains: ['Bob'] }))
  })

  it('gives the expected text on at least the bar of cases', async function () {
    const report = await runReplyCorpus()
    assert.ok(report.full.total >= 115, `only ${report.full.total} cases read`)
    const full = report.full.passed / report.full.total
    const quote = report.quote.passed / report.quote.total
    assert.ok(
      full >= FULL_PIPELINE_BAR,
      `full pipeline ${report.full.passed}/${report.full.total}, below the bar (npm run corpus -- -v)`,
    )
    assert.ok(
      quote >= QUOTES_ALONE_BAR,
      `quotes alone ${report.quote.passed}/${report.quote.total}, below the bar (npm run corpus -- -v)`,
    )
  })
})
