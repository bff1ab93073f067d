import type { Next, Plugin, Server } from 'haraka'
import { AggregatorRegistry } from 'prom-client'
import { startServiceOps, type ServiceOps } from '../../lib/ops/service'
import { runtime } from '../_shared/haraka'

/** The listener of this process (the master, with nodes > 0); null before init or when off. */
let ops: ServiceOps | null = null

export function register(this: Plugin): void {
  this.register_hook('init_master', 'start_ops_listener')
  this.register_hook('init_child', 'share_metrics')
}

/**
 * The MX's ops listener (`[ops] mx_listen`): /metrics, /healthz, /readyz (the database answers
 * with its schema current). With smtp.ini nodes=0 (shipped) this process takes the mail and
 * serves its own metrics. With nodes > 0 the master takes no mail: it serves the sum of its
 * workers' metrics, asked over the cluster's IPC at each scrape (prom-client's
 * AggregatorRegistry), and its own database check.
 */
export function start_ops_listener(this: Plugin, next: Next, server?: Server): void {
  const rt = runtime((line) => this.lognotice(line))
  const aggregator = server?.cluster && rt.registry ? new AggregatorRegistry() : null
  startServiceOps({
    listen: rt.config.ops.mx,
    db: rt.db,
    registry: rt.registry ?? undefined,
    metrics: aggregator
      ? async () => ({
          text: await aggregator.clusterMetrics(),
          contentType: aggregator.contentType,
        })
      : undefined,
    log: (line) => this.lognotice(line),
    warn: (line) => (this.logwarn ?? this.logerror).call(this, line),
  })
    .then((started) => {
      ops = started
    })
    .catch((err: Error) => this.logerror(`ops listener failed: ${err.message}`))
    .finally(() => next())
}

/** A cluster worker (nodes > 0): answers the master's requests for its metrics. */
export function share_metrics(this: Plugin, next: Next): void {
  const rt = runtime((line) => this.lognotice(line))
  if (rt.registry) {
    // Constructing it installs the worker's IPC answer; setRegistries names what it sends.
    new AggregatorRegistry()
    AggregatorRegistry.setRegistries([rt.registry])
  }
  next()
}

export function shutdown(this: Plugin): void {
  const open = ops
  ops = null
  void open?.close()
}
