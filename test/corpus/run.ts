import { runReplyCorpus, type ReplyOutcome } from './reply'
import { corporaDir } from './corpora'
import { runMimeCorpus, type MimeCorpusReport } from './mime'

/**
 * `npm run corpus`: how the text step does on real mail from other projects, per corpus and
 * kind. `--verbose` (or `-v`) also prints every case that misses, with what we gave and what
 * was expected.
 */

function percent(passed: number, total: number): string {
  return total === 0 ? '-' : `${((100 * passed) / total).toFixed(1)}%`
}

function printMisses(misses: ReplyOutcome[]): void {
  for (const o of misses) {
    console.log(`\n  ${o.step} ${o.corpus}/${o.id} (${o.kind})`)
    console.log(`    got:      ${JSON.stringify(o.got).slice(0, 300)}`)
    console.log(`    expected: ${JSON.stringify(o.expected).slice(0, 300)}`)
  }
}

async function main(): Promise<void> {
  const verbose = process.argv.includes('--verbose') || process.argv.includes('-v')
  const dir = corporaDir()
  console.log(`corpora: ${dir}\n`)
  const reply = await runReplyCorpus(dir)
  console.log('reply/cases.json')
  for (const t of reply.tallies) {
    console.log(
      `  ${t.step.padEnd(6)} ${t.corpus.padEnd(6)} ${t.kind.padEnd(10)} ${`${t.passed}/${t.total}`.padStart(7)}  ${percent(t.passed, t.total)}`,
    )
  }
  console.log(
    `  full pipeline:  ${reply.full.passed}/${reply.full.total} (${percent(reply.full.passed, reply.full.total)})`,
  )
  console.log(
    `  quotes alone:   ${reply.quote.passed}/${reply.quote.total} (${percent(reply.quote.passed, reply.quote.total)})`,
  )
  if (verbose) printMisses(reply.outcomes.filter((o) => !o.passed))
  printMime(await runMimeCorpus(dir))
}

function refusals(refused: Record<string, number>): string {
  const list = Object.entries(refused).map(([reply, n]) => `${n} ${reply}`)
  return list.length ? `refused ${list.join(', ')}` : ''
}

function printMime(report: MimeCorpusReport): void {
  console.log(`\nmime/ through the MX (segment cap ${report.segmentCap})`)
  for (const f of report.folders) {
    console.log(
      `  ${f.folder.padEnd(42)} ${String(f.tried).padStart(4)} tried  ${String(f.accepted).padStart(4)} sent  ${refusals(f.refused)}`,
    )
  }
  console.log(
    `  all: ${report.tried} tried, ${report.accepted} sent, ${refusals(report.refused) || 'none refused'}`,
  )
  console.log(`  property violations: ${report.violations.length}`)
  for (const v of report.violations) {
    console.log(`    ${v.file}: ${v.property}: ${JSON.stringify(v.excerpt).slice(0, 200)}`)
  }
  if (report.violations.length > 0) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
