import http from 'node:http'

export interface HttpAnswer {
  status: number
  body: string
  contentType: string
}

/** One plain GET on loopback, as a scraper or a probe does it. */
export function httpGet(port: number, path: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (body += c))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body,
          contentType: String(res.headers['content-type'] ?? ''),
        }),
      )
    })
    req.on('error', reject)
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path}: no answer in 10 s`)))
  })
}

/** A parsed Prometheus text exposition: one entry per sample. */
export class Samples {
  private constructor(
    readonly entries: Array<{ name: string; labels: Record<string, string>; value: number }>,
  ) {}

  static parse(text: string): Samples {
    const entries: Samples['entries'] = []
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (!m) throw new Error(`not a Prometheus sample: ${line}`)
      const labels: Record<string, string> = {}
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]] = l[2].replace(/\\"/g, '"').replace(/\\n/g, '\n').replace(/\\\\/g, '\\')
      entries.push({ name: m[1], labels, value: Number(m[3]) })
    }
    return new Samples(entries)
  }

  /** The sum of the samples of `name` whose labels include `labels` (0 when there is none). */
  value(name: string, labels: Record<string, string> = {}): number {
    return this.matching(name, labels).reduce((sum, e) => sum + e.value, 0)
  }

  /** Whether a sample of `name` (with these labels) is exported at all. */
  has(name: string, labels: Record<string, string> = {}): boolean {
    return this.matching(name, labels).length > 0
  }

  names(): Set<string> {
    return new Set(this.entries.map((e) => e.name))
  }

  private matching(name: string, labels: Record<string, string>) {
    return this.entries.filter(
      (e) => e.name === name && Object.entries(labels).every(([k, v]) => e.labels[k] === v),
    )
  }
}

/** GET /metrics, checked to be Prometheus text, parsed. */
export async function scrape(port: number): Promise<Samples> {
  const answer = await httpGet(port, '/metrics')
  if (answer.status !== 200) throw new Error(`/metrics: ${answer.status} ${answer.body}`)
  if (!answer.contentType.startsWith('text/plain; version=0.0.4'))
    throw new Error(`/metrics content type: ${answer.contentType}`)
  return Samples.parse(answer.body)
}
