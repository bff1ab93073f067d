/**
 * The SMSC simulator of `bench:worker`, in a process of its own, as a carrier's SMSC would be:
 * the worker and the raw client under test then have their event loop to themselves. Started by
 * bench/worker-smsc.ts over an IPC channel; it reports its port, then answers `report` (what it
 * received since the last report) and stops on `stop` or when the parent goes away.
 */
import { SmscSimulator } from '../test/support/smsc/simulator'
import type { SmscChildReport, SmscChildRequest } from './worker-smsc'

async function main(): Promise<void> {
  const send = process.send?.bind(process)
  if (!send) throw new Error('worker-smsc-child.ts runs under bench/worker-smsc.ts only')
  const simulator = await SmscSimulator.start({
    systemId: process.env.BENCH_SMSC_SYSTEM_ID ?? 'bench',
    password: process.env.BENCH_SMSC_PASSWORD ?? 'bench',
    receiptDelayMs: Number(process.env.BENCH_SMSC_RECEIPT_DELAY_MS ?? 10),
  })
  const stop = (): void => {
    void simulator.close().finally(() => process.exit(0))
  }
  process.on('disconnect', stop)
  process.on('message', (request: SmscChildRequest) => {
    if (request.type === 'stop') return stop()
    // Everything since the last report, then forgotten: each phase of the bench counts its own.
    const received = simulator.received.splice(0)
    const receipts = simulator.receipts.splice(0)
    const acks = simulator.deliverResponses.splice(0)
    const report: SmscChildReport = {
      type: 'report',
      submits: received.map((s) => [s.destAddr, s.at, s.status ?? -1]),
      receipts: receipts.length,
      receiptAcks: acks.filter((a) => a.kind === 'receipt' && a.commandStatus === 0).length,
      maxOutstanding: simulator.maxOutstanding,
      binds: simulator.binds,
    }
    simulator.maxOutstanding = simulator.outstanding
    send(report)
  })
  send({ type: 'ready', port: simulator.port })
}

main().catch((err) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err)
  process.exit(1)
})
