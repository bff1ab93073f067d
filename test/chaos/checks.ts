import assert from 'node:assert/strict'
import type { ChaosResult } from './run'

const examples = (items: unknown[]) => JSON.stringify(items.slice(0, 5), null, 1)

/**
 * What every run under faults must show, whatever the database: declared as mocha tests on the
 * result that `result()` returns once the suite's `before` has run the scenario.
 */
export function itKeepsEveryEmail(result: () => ChaosResult): void {
  it('injected every planned fault and undid it', () => {
    const failed = result().reconciliation.faults.filter((f) => f.fault.error)
    assert.deepEqual(failed, [], `faults that could not be injected or undone: ${examples(failed)}`)
  })

  it('settles every email with a 250: faults only ever give 4xx', () => {
    const r = result().reconciliation
    assert.deepEqual(
      r.refused.map((e) => e.attempts),
      [],
      `5xx during faults: ${examples(r.refused)}`,
    )
    assert.equal(r.unsettled.length, 0, `emails never accepted: ${examples(r.unsettled)}`)
    assert.equal(r.accepted, r.emails)
  })

  it('loses nothing: each accepted email has one SMS row and reached the SMSC', () => {
    const { lost, wrongText } = result().reconciliation
    assert.equal(lost.length, 0, `lost: ${examples(lost.map((l) => [l.email.number, l.why]))}`)
    assert.equal(wrongText, 0, 'some SMS carry another email’s text')
  })

  it('leaves no SMS queued or sending after the drain', () => {
    const { stuck } = result().reconciliation
    assert.equal(stuck.length, 0, `stuck: ${examples(stuck)}`)
  })

  it('leaves every MX and worker working: each MX takes mail at once, each worker polls', () => {
    const late = result().probes.filter((p) => p.attempts.length !== 1 || p.acceptedAt === null)
    assert.deepEqual(
      late.map((p) => p.attempts),
      [],
      'an MX did not accept a probe email at the first try after the faults',
    )
    assert.deepEqual(result().silentWorkers, [], 'workers that stopped polling the database')
  })

  it('sends twice no more SMS than the documented bounds allow', () => {
    const r = result().reconciliation
    assert.equal(r.duplicatesBeforeFaults, 0, 'submits repeated before any fault')
    assert.ok(
      r.extraSubmits <= r.duplicateAllowance,
      `${r.extraSubmits} repeated submits, allowed ${r.duplicateAllowance}: ${examples(r.duplicates)}`,
    )
  })
}
