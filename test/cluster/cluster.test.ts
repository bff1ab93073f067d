import assert from 'node:assert/strict'
import { itKeepsEveryEmail } from '../chaos/checks'
import { runChaos, type ChaosResult } from '../chaos/run'
import { GaleraCluster, GaleraServers, PLACEMENT } from './galera'
import { readClusterSettings } from './settings'

/**
 * Scale-out and high availability on MariaDB Galera: a three-node cluster on loopback, two MX
 * and two workers each on a node (PLACEMENT), a steady load over SMTP, one node killed with
 * SIGKILL mid-load and brought back, then the chaos suite's reconciliation.
 */
describe('cluster: two MX and two workers on a three-node Galera cluster', function () {
  const settings = readClusterSettings()
  const s = settings.chaos
  // Three nodes to start (two full state transfers), then the chaos run's own budget.
  this.timeout(240_000 + s.loadMs + s.settleMs + 2 * s.drainMs + 180_000)
  let result: ChaosResult
  let servers: GaleraServers | undefined
  let stopCluster: (() => Promise<void>) | undefined

  before(async () => {
    const log = (line: string) => console.log(`      ${line}`)
    log(
      `placement: mx1 node${PLACEMENT.mx[0] + 1}, mx2 node${PLACEMENT.mx[1] + 1}, ` +
        `worker1 node${PLACEMENT.workers[0] + 1}, worker2 node${PLACEMENT.workers[1] + 1}` +
        (settings.killNode === null ? '' : `; kills node${settings.killNode + 1}`),
    )
    result = await runChaos(
      s,
      log,
      (stop) => (stopCluster = stop),
      async () => {
        servers = new GaleraServers(await GaleraCluster.start(3, log), settings.killNode)
        return servers
      },
    )
    console.log(result.report.replace(/^/gm, '      '))
    // Claims that lost a certification on COMMIT: each starts a streak the worker logs once.
    result.workerLogs.forEach((logs, i) => {
      const streaks = logs.match(/cannot claim SMS: [^\n]*Deadlock/g)?.length ?? 0
      const deadlocks = logs.match(/Deadlock found/g)?.length ?? 0
      log(
        `worker${i + 1}: ${streaks} claim failure streaks on 1213, ${deadlocks} lines naming 1213`,
      )
    })
    for (const exit of result.unplannedExits)
      console.log(`      --- ${exit.service} ended by itself:\n${exit.logTail.slice(-800)}`)
  })

  after(async () => {
    await stopCluster?.()
    // A run that timed out while the cluster was starting never handed over its stop.
    await servers?.destroy()
  })

  it('migrates once when all three nodes start migrating at once', () => {
    const failed = result.migrations.filter((m) => m.error)
    assert.deepEqual(failed, [], 'a node failed to migrate')
    const applied = result.migrations.flatMap((m) => m.applied)
    assert.ok(applied.length > 0, 'no migration was applied')
    assert.equal(new Set(applied).size, applied.length, 'a migration was applied twice')
  })

  it('killed one node and it rejoined the cluster', () => {
    assert.equal(servers?.kills.length, 1)
    assert.ok(servers.kills[0].rejoinMs !== null, `${servers.kills[0].node} did not rejoin`)
  })

  itKeepsEveryEmail(() => result)
})
