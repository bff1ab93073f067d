import type { MiddlewareHandler } from 'hono'
import { Histogram, type Registry } from 'prom-client'
import { FAST_BUCKETS, METRIC_PREFIX } from '../lib/ops/metrics'

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * Times every request by route pattern (`/a/:accountId/messages`, never the path with its
 * ids: one series per route, not per account or page) and status class. Mounted first, so
 * the time covers every middleware and the error page.
 */
export function requestMetrics(registry: Registry): MiddlewareHandler {
  const duration = new Histogram({
    name: `${METRIC_PREFIX}admin_request_duration_seconds`,
    help: 'Time the admin took to answer a request, by method, route pattern and status class',
    labelNames: ['method', 'route', 'status'],
    buckets: FAST_BUCKETS,
    registers: [registry],
  })
  return async (c, next) => {
    const started = process.hrtime.bigint()
    try {
      await next()
    } finally {
      // After next(), routePath names the last handler that ran: the route that answered, or
      // this middleware's '/*' when nothing matched.
      duration.observe(
        {
          method: METHODS.has(c.req.method) ? c.req.method : 'other',
          route: c.req.routePath,
          status: `${Math.floor(c.res.status / 100)}xx`,
        },
        Number(process.hrtime.bigint() - started) / 1e9,
      )
    }
  }
}
