import { runReplyCorpus, type ReplyOutcome } from './reply'
import { corporaDir } from './corpora'

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
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
