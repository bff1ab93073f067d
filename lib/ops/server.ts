import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { OpsListen } from '../config'
import { runChecks, type ReadinessCheck } from './readiness'

export interface OpsServerOptions {
  listen: OpsListen
  /** The Prometheus text, and its content type. */
  metrics: () => Promise<{ text: string; contentType: string }>
  /** What /readyz runs, read at each request (a service adds checks as its parts start). */
  checks: () => readonly ReadinessCheck[]
  log: (line: string) => void
  /** Where the one warning goes (a listener that could not start); `WARN …` on log otherwise. */
  warn?: (line: string) => void
}

export interface OpsServer {
  /** The port it listens on (the configured one, or the one given for port 0). */
  port: number
  close(): Promise<void>
}

function send(
  res: http.ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

async function handle(
  opts: OpsServerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    return send(res, 405, 'only GET and HEAD\n')
  }
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/healthz') return send(res, 200, 'ok\n')
  if (path === '/readyz') {
    const { ready, lines } = await runChecks(opts.checks())
    return send(res, ready ? 200 : 503, `${ready ? 'ready' : 'not ready'}\n${lines.join('\n')}\n`)
  }
  if (path === '/metrics') {
    const { text, contentType } = await opts.metrics()
    return send(res, 200, text, contentType)
  }
  return send(res, 404, 'not found: try /metrics, /healthz or /readyz\n')
}

/**
 * A service's ops listener (node:http): /metrics, /healthz, /readyz. Resolves with null when
 * the address cannot be taken (in use, not ours): the service runs on without it, and says so
 * once. Its requests never touch the service's hot path but through the readiness probe.
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer | null> {
  const server = http.createServer((req, res) => {
    handle(opts, req, res).catch((err: Error) => {
      if (!res.headersSent) send(res, 500, `${err.message}\n`)
      else res.destroy()
    })
  })
  // A scraper that stops reading must not hold a socket for ever.
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  server.keepAliveTimeout = 5_000
  const where = `${opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host}:${opts.listen.port}`
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(opts.listen.port, opts.listen.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const warn = opts.warn ?? ((l: string) => opts.log(`WARN ${l}`))
    warn(
      `ops listener not started on ${where}: ${e.code ?? e.message}; /metrics, /healthz and /readyz are off`,
    )
    return null
  }
  const port = (server.address() as AddressInfo).port
  opts.log(
    `ops listener on http://${where.replace(/:\d+$/, `:${port}`)} (/metrics /healthz /readyz)`,
  )
  let closing: Promise<void> | null = null
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })),
  }
}
