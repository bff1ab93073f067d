import fs from 'node:fs'
import path from 'node:path'

/** The parts of a V8 `.cpuprofile` (what `node --cpu-prof` writes) that the summary reads. */
interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileLine {
  name: string
  ms: number
  share: number
}

export interface ProfileSummary {
  file: string
  totalMs: number
  /** Self time by package (`node_modules/<name>`), project folder, Node internals or V8 state. */
  selfByArea: ProfileLine[]
  /** Self time by function. */
  selfByFunction: ProfileLine[]
  /**
   * As selfByArea and selfByFunction, but time in native code and Node internals is charged to
   * the JavaScript that called it: a write(2) to the client or to the log counts for Haraka's
   * logger or connection, a socket write to MariaDB for mysql2.
   */
  byCallerArea: ProfileLine[]
  byCallerFunction: ProfileLine[]
  /** Time in the project's own functions including what they call, each counted once a sample. */
  inclusiveProject: ProfileLine[]
}

const PROJECT = path.resolve(__dirname, '..')

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const file = url.replace(/^file:\/\//, '')
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)
  if (nm) return nm[1]
  if (file.startsWith('node:')) return 'node internals'
  if (file.startsWith(PROJECT))
    return path.relative(PROJECT, file).split(path.sep).slice(0, 2).join('/')
  return file
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.replace(/^file:\/\//, '')
  const where = file.startsWith(PROJECT)
    ? path.relative(PROJECT, file)
    : file.replace(/.*node_modules\//, '')
  return `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim()
}

function isUserland(url: string): boolean {
  return url !== '' && !url.startsWith('node:')
}

function isProjectCode(url: string): boolean {
  const file = url.replace(/^file:\/\//, '')
  return file.startsWith(PROJECT) && !file.includes('node_modules')
}

function top(map: Map<string, number>, totalMs: number, n: number): ProfileLine[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), share: ms / totalMs }))
}

function add(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms)
}

export function summariseProfile(file: string, lines = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)

  const stackOf = (id: number): ProfileNode[] => {
    const out: ProfileNode[] = []
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)
      if (frame) out.push(frame)
    }
    return out
  }

  const selfMs = new Map<number, number>()
  profile.samples.forEach((id, i) =>
    selfMs.set(id, (selfMs.get(id) ?? 0) + profile.timeDeltas[i] / 1000),
  )

  const byArea = new Map<string, number>()
  const byFunction = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const callerArea = new Map<string, number>()
  const callerFunction = new Map<string, number>()
  let totalMs = 0
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)
    if (!node) continue
    // Idle time is the event loop waiting (for MariaDB, for clients): not work.
    if (node.callFrame.functionName === '(idle)') continue
    const stack = stackOf(id)
    // The profiler's own work, writing the profile out: not Haraka's.
    if (stack.some((f) => f.callFrame.url.endsWith('profile-preload.js'))) continue
    totalMs += ms
    add(byArea, areaOf(node.callFrame.url, node.callFrame.functionName), ms)
    add(byFunction, frameName(node), ms)
    const caller = stack.find((f) => isUserland(f.callFrame.url)) ?? node
    add(callerArea, areaOf(caller.callFrame.url, caller.callFrame.functionName), ms)
    add(callerFunction, frameName(caller), ms)
    const seen = new Set<string>()
    for (const frame of stack) {
      if (!isProjectCode(frame.callFrame.url)) continue
      const name = frameName(frame)
      if (seen.has(name)) continue
      seen.add(name)
      add(inclusive, name, ms)
    }
  }
  return {
    file,
    totalMs: Math.round(totalMs),
    selfByArea: top(byArea, totalMs, lines),
    selfByFunction: top(byFunction, totalMs, lines),
    byCallerArea: top(callerArea, totalMs, lines),
    byCallerFunction: top(callerFunction, totalMs, lines),
    inclusiveProject: top(inclusive, totalMs, lines),
  }
}

/** `messages`: how many messages the profiled time served, to show the cost of each. */
export function formatProfile(title: string, s: ProfileSummary, messages: number): string {
  const rows = (list: ProfileLine[], n: number): string[] =>
    list
      .slice(0, n)
      .map(
        (l) =>
          `  ${(l.share * 100).toFixed(1).padStart(5)}%  ` +
          `${((l.ms * 1000) / messages).toFixed(0).padStart(5)} us/msg  ${l.name}`,
      )
  const perMessage = ((s.totalMs * 1000) / messages).toFixed(0)
  return [
    `${title}: ${s.totalMs} ms sampled (idle excluded) for ${messages} messages, ` +
      `${perMessage} us/msg; ${s.file}`,
    ' by package or project folder, native time charged to its JavaScript caller:',
    ...rows(s.byCallerArea, 12),
    ' by function, native time charged to its JavaScript caller:',
    ...rows(s.byCallerFunction, 15),
    ' self time by function:',
    ...rows(s.selfByFunction, 10),
    ' project functions, including their callees (and what Haraka runs inside next()):',
    ...rows(s.inclusiveProject, 15),
  ].join('\n')
}
