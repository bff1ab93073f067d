import fs from 'node:fs'
import path from 'node:path'
import inspector from 'node:inspector'

/**
 * V8's CPU profiler on this very process (the worker runs inside the bench), for the measured
 * drain only. stop() writes a `.cpuprofile` that bench/cpu-profile.ts summarises.
 */
export class InProcessProfiler {
  private readonly session = new inspector.Session()

  private post(method: string, params?: object): Promise<unknown> {
    return new Promise((resolve, reject) =>
      this.session.post(method, params ?? {}, (err, result) =>
        err ? reject(err) : resolve(result),
      ),
    )
  }

  async start(): Promise<void> {
    this.session.connect()
    await this.post('Profiler.enable')
    await this.post('Profiler.setSamplingInterval', { interval: 500 })
    await this.post('Profiler.start')
  }

  /** Writes the profile to `file` and returns its path. */
  async stop(file: string): Promise<string> {
    const { profile } = (await this.post('Profiler.stop')) as { profile: CpuProfile }
    this.session.disconnect()
    fs.mkdirSync(path.dirname(file), { recursive: true })
    fs.writeFileSync(file, JSON.stringify(withoutProfiler(profile)))
    return file
  }
}

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string }; children?: number[] }>
  samples: number[]
  timeDeltas: number[]
}

/**
 * The profile without the samples taken inside this file (V8 starting its profiler, which
 * takes a while on a large heap): that is not the worker's time.
 */
function withoutProfiler(profile: CpuProfile): CpuProfile {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const drop = new Set<number>()
  const mark = (id: number): void => {
    drop.add(id)
    for (const child of byId.get(id)?.children ?? []) mark(child)
  }
  for (const n of profile.nodes) if (n.callFrame.url.endsWith('worker-profile.ts')) mark(n.id)
  const keep = profile.samples.map((id) => !drop.has(id))
  return {
    ...profile,
    samples: profile.samples.filter((_, i) => keep[i]),
    timeDeltas: profile.timeDeltas.filter((_, i) => keep[i]),
  }
}
