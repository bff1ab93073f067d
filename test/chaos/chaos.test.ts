import assert from 'node:assert/strict'
import { runChaos, type ChaosResult } from './run'
import { readChaosSettings } from './settings'

/**
 * The gateway under faults: two MX and two workers on a private MariaDB, a steady load of
 * emails retried like an MTA would, and database, process, SMSC and network faults at seeded
 * random moments. CHAOS_SCALE=long (npm run test:chaos) runs ten minutes of it; CHAOS_SEED
 * replays a run; CHAOS_FAULTS=dbkill,workerkill,mxkill,smscdrop,dbfreeze picks the faults.
 */
describe('chaos: faults under a steady load', function () {
  const settings = readChaosSettings()
  this.timeout(settings.loadMs + settings.settleMs + 2 * settings.drainMs + 180_000)
  let result: ChaosResult
  let stopCluster: (() => Promise<void>) | undefined

  before(async () => {
    const log = (line: string) => console.log(`      ${line}`)
    result = await runChaos(settings, log, (stop) => (stopCluster = stop))
    console.log(result.report.replace(/^/gm, '      '))
  })

  // Stops what a run that timed out left behind; after a normal run, it is already stopped.
  after(() => stopCluster?.())

  const examples = (items: unknown[]) => JSON.stringify(items.slice(0, 5), null, 1)

  it('injected every planned fault and undid it', () => {
    const failed = result.reconciliation.faults.filter((f) => f.fault.error)
    assert.deepEqual(failed, [], `faults that could not be injected or undone: ${examples(failed)}`)
  })

  it('settles every email with a 250: faults only ever give 4xx', () => {
    const r = result.reconciliation
    assert.deepEqual(
      r.refused.map((e) => e.attempts),
      [],
      `5xx during faults: ${examples(r.refused)}`,
    )
    assert.equal(r.unsettled.length, 0, `emails never accepted: ${examples(r.unsettled)}`)
    assert.equal(r.accepted, r.emails)
  })

  it('loses nothing: each accepted email has one SMS row and reached the SMSC', () => {
    const { lost } = result.reconciliation
    assert.equal(lost.length, 0, `lost: ${examples(lost.map((l) => [l.email.number, l.why]))}`)
    assert.equal(result.reconciliation.wrongText, 0, 'some SMS carry another email’s text')
  })

  it('leaves no SMS queued or sending after the drain', () => {
    const { stuck } = result.reconciliation
    assert.equal(stuck.length, 0, `stuck: ${examples(stuck)}`)
  })

  it('leaves every MX and worker working: each MX takes mail at once, each worker polls', () => {
    const late = result.probes.filter((p) => p.attempts.length !== 1 || p.acceptedAt === null)
    assert.deepEqual(
      late.map((p) => p.attempts),
      [],
      'an MX did not accept a probe email at the first try after the faults',
    )
    assert.deepEqual(result.silentWorkers, [], 'workers that stopped polling the database')
  })

  it('sends twice no more SMS than the documented bounds allow', () => {
    const r = result.reconciliation
    assert.equal(r.duplicatesBeforeFaults, 0, 'submits repeated before any fault')
    assert.ok(
      r.extraSubmits <= r.duplicateAllowance,
      `${r.extraSubmits} repeated submits, allowed ${r.duplicateAllowance}: ${examples(r.duplicates)}`,
    )
  })
})
