import type { Cluster, Node } from './cluster'
import { pickInRange, type ChaosSettings, type FaultKind } from './settings'

export interface PlannedFault {
  kind: FaultKind
  /** Milliseconds after the load started. */
  at: number
}

export interface InjectedFault {
  kind: FaultKind
  target: string
  /** Date.now() when the fault was injected, and when the harness had undone it. */
  at: number
  restoredAt: number | null
  /** How it ended, for those that can end more than one way. */
  detail: string
  /** For a database kill: the workers whose server it was. */
  workersCut?: number
  error?: string
}

/**
 * Random moments in the middle of the load (not the first or last tenth), at least a few
 * seconds apart; with `short`, each enabled kind once in a shuffled order.
 */
export function planFaults(s: ChaosSettings, random: () => number): PlannedFault[] {
  if (s.faults.length === 0) return []
  const kinds =
    s.scale === 'short'
      ? shuffle([...s.faults], random)
      : Array.from({ length: s.faultCount }, () => s.faults[Math.floor(random() * s.faults.length)])
  const from = s.loadMs * 0.1
  const slot = (s.loadMs * 0.8) / kinds.length
  return kinds.map((kind, i) => ({ kind, at: Math.round(from + slot * i + random() * slot * 0.5) }))
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

function pick<T>(items: T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]
}

/** Longer than any restart takes: past it, the run goes on and the fault is reported failed. */
const FAULT_DEADLINE_MS = 120_000

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Injects one fault and undoes it as an operator or a service manager would. */
export async function injectFault(
  kind: FaultKind,
  c: Cluster,
  s: ChaosSettings,
  random: () => number,
): Promise<InjectedFault> {
  const fault: InjectedFault = { kind, target: '', at: Date.now(), restoredAt: null, detail: '' }
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not undone after ${FAULT_DEADLINE_MS} ms`)),
      FAULT_DEADLINE_MS,
    )
  })
  try {
    await Promise.race([act(kind, fault, c, s, random), deadline])
    fault.restoredAt = Date.now()
  } catch (err) {
    fault.error = (err as Error).message
  } finally {
    clearTimeout(timer)
  }
  return fault
}

async function act(
  kind: FaultKind,
  fault: InjectedFault,
  c: Cluster,
  s: ChaosSettings,
  random: () => number,
): Promise<void> {
  switch (kind) {
    case 'dbkill': {
      const down = pickInRange(random, s.downMs)
      fault.target = 'database'
      fault.detail = `down ${down} ms`
      const done = await c.servers.killAndRestart(down, random)
      fault.target = done.target
      fault.detail = done.detail
      fault.workersCut = done.workersCut
      break
    }
    case 'workerkill':
    case 'mxkill': {
      const node = pick<Node>(kind === 'mxkill' ? c.mx : c.workers, random)
      fault.target = node.service.name
      await node.service.kill()
      break
    }
    case 'smscdrop': {
      const down = pickInRange(random, s.downMs)
      fault.target = 'smsc'
      fault.detail = `down ${down} ms`
      await c.smsc.drop(down)
      break
    }
    case 'dbfreeze': {
      const node = pick<Node>([...c.mx, ...c.workers], random)
      const frozen = pickInRange(random, s.freezeMs)
      const resume = random() < 0.5
      fault.target = `${node.service.name} db link`
      fault.detail = `frozen ${frozen} ms, then ${resume ? 'resumed' : 'closed'}`
      node.dbProxy.freeze()
      await sleep(frozen)
      if (resume) node.dbProxy.thaw()
      else node.dbProxy.resetConnections()
      break
    }
  }
}

/** Runs the plan against the cluster, one fault after the other, from `start`. */
export async function runFaults(
  plan: PlannedFault[],
  c: Cluster,
  s: ChaosSettings,
  random: () => number,
  start: number,
  log: (line: string) => void,
): Promise<InjectedFault[]> {
  const done: InjectedFault[] = []
  for (const p of plan) {
    const wait = start + p.at - Date.now()
    if (wait > 0) await sleep(wait)
    const fault = await injectFault(p.kind, c, s, random)
    const when = ((fault.at - start) / 1000).toFixed(1)
    log(
      `${when} s: ${fault.kind} ${fault.target} ${fault.error ? `FAILED: ${fault.error}` : fault.detail}`,
    )
    done.push(fault)
  }
  return done
}
