import fs from 'node:fs'
import path from 'node:path'
import { plainTextToSmsText } from '../../lib/text/sms-text'
import { stripQuotedReply } from '../../lib/text/reply'
import { corporaDir, requireCorpus } from './corpora'

/**
 * Runs the reply corpus (`reply/cases.json`: quoted replies and signatures with the text a
 * reader should get) through our text step. Each case is checked twice: the whole pipeline
 * (`full`) and quote stripping alone (`quote`, where the case has one).
 */

export type Expectation = { exact: string[] } | { startsWith: string; notContains?: string[] }

export interface ReplyCase {
  corpus: string
  id: string
  kind: string
  input: string
  full: Expectation
  quote: Expectation | null
}

export interface ReplyOutcome {
  corpus: string
  id: string
  kind: string
  step: 'full' | 'quote'
  passed: boolean
  got: string
  expected: Expectation
}

export interface ReplyTally {
  corpus: string
  kind: string
  step: 'full' | 'quote'
  passed: number
  total: number
}

export interface ReplyCorpusReport {
  outcomes: ReplyOutcome[]
  tallies: ReplyTally[]
  full: { passed: number; total: number }
  quote: { passed: number; total: number }
}

const TYPOGRAPHY: Array<[RegExp, string]> = [
  [/[\u2018\u2019\u201a\u201b\u2032]/g, "'"],
  [/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"'],
  [/[\u2010-\u2015\u2212]/g, '-'],
  [/\u2026/g, '...'],
  [/[\u2022\u00b7\u25cf\u25e6\u2043]/g, '*'],
  [/[\u200b-\u200d\u2060\ufeff]/g, ''],
]

/** The corpus README's normalisation, applied to both sides before comparing. */
export function normaliseForComparison(text: string): string {
  let out = text.normalize('NFC')
  for (const [pattern, ascii] of TYPOGRAPHY) out = out.replace(pattern, ascii)
  return out.replace(/\s+/g, ' ').trim()
}

export function meets(got: string, expected: Expectation): boolean {
  const actual = normaliseForComparison(got)
  if ('exact' in expected) {
    return expected.exact.some((e) => normaliseForComparison(e) === actual)
  }
  return (
    actual.startsWith(normaliseForComparison(expected.startsWith)) &&
    (expected.notContains ?? []).every((s) => !actual.includes(normaliseForComparison(s)))
  )
}

export function loadReplyCases(dir = corporaDir()): ReplyCase[] {
  const file = requireCorpus(path.join(dir, 'reply', 'cases.json'))
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ReplyCase[]
}

function tally(outcomes: ReplyOutcome[]): ReplyTally[] {
  const byKey = new Map<string, ReplyTally>()
  for (const o of outcomes) {
    const key = `${o.step}\0${o.corpus}\0${o.kind}`
    const t = byKey.get(key) ?? {
      corpus: o.corpus,
      kind: o.kind,
      step: o.step,
      passed: 0,
      total: 0,
    }
    t.total++
    if (o.passed) t.passed++
    byKey.set(key, t)
  }
  return [...byKey.values()].sort(
    (a, b) =>
      a.step.localeCompare(b.step) ||
      a.corpus.localeCompare(b.corpus) ||
      a.kind.localeCompare(b.kind),
  )
}

function sum(outcomes: ReplyOutcome[], step: 'full' | 'quote'): { passed: number; total: number } {
  const of = outcomes.filter((o) => o.step === step)
  return { passed: of.filter((o) => o.passed).length, total: of.length }
}

function outcome(
  c: ReplyCase,
  step: 'full' | 'quote',
  got: string,
  expected: Expectation,
): ReplyOutcome {
  return {
    corpus: c.corpus,
    id: c.id,
    kind: c.kind,
    step,
    passed: meets(got, expected),
    got,
    expected,
  }
}

export async function runReplyCorpus(dir = corporaDir()): Promise<ReplyCorpusReport> {
  const outcomes: ReplyOutcome[] = []
  for (const c of loadReplyCases(dir)) {
    outcomes.push(outcome(c, 'full', await plainTextToSmsText(c.input), c.full))
    if (c.quote) outcomes.push(outcome(c, 'quote', await stripQuotedReply(c.input), c.quote))
  }
  return {
    outcomes,
    tallies: tally(outcomes),
    full: sum(outcomes, 'full'),
    quote: sum(outcomes, 'quote'),
  }
}
