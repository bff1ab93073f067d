import { itKeepsEveryEmail } from './checks'
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

  itKeepsEveryEmail(() => result)
})
