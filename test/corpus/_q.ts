import { runReplyCorpus, loadReplyCases } from '/work/main/test/corpus/reply'
runReplyCorpus().then((r) => {
  const cases = new Map(loadReplyCases().map((c) => [c.id, c]))
  for (const o of r.outcomes.filter((o) => !o.passed && o.step === (process.argv[2] ?? 'quote')))
    console.log(`\n######## ${o.id}\n${cases.get(o.id)!.input.slice(0, 1200)}\n-------- GOT\n${o.got.slice(0,300)}`)
})
