import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { Registry } from 'prom-client'
import { requestMetrics } from '../../../admin/metrics'
import { REPLIES } from '../../../lib/mx/replies'
import {
  claimMetrics,
  createMetricsRegistry,
  databaseMetrics,
  loopMetrics,
  smppMetrics,
} from '../../../lib/ops/metrics'
import { mxMetrics } from '../../../lib/ops/mx-metrics'
import { workerMetrics } from '../../../lib/ops/worker-metrics'
import { createTestDatabase, type TestDatabase } from '../../support/databases'

const DOCS = path.resolve(__dirname, '..', '..', '..', 'docs')

/** The PromQL of the alert rules: `expr:` on one line, or a `|` block indented below it. */
function alertExpressions(text: string): string[] {
  const lines = text.split('\n')
  const found: string[] = []
  for (const [i, line] of lines.entries()) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line)
    if (!m) continue
    if (m[2] !== '|') {
      found.push(m[2])
      continue
    }
    const block: string[] = []
    for (const next of lines.slice(i + 1)) {
      if (next.trim() && next.search(/\S/) <= m[1].length) break
      block.push(next.trim())
    }
    found.push(block.join(' '))
  }
  return found
}

function dashboardExpressions(dashboard: { panels: Array<{ targets?: Array<{ expr: string }> }> }) {
  return dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
}

/** Every series name the three services can export, histograms with their three series. */
async function exportedNames(t: TestDatabase): Promise<Set<string>> {
  const registry: Registry = createMetricsRegistry()
  const detach = databaseMetrics(registry, t.db)
  mxMetrics(registry)
  smppMetrics(registry)
  loopMetrics(registry)
  claimMetrics(registry)
  requestMetrics(registry)
  const zero = () => ({ sent: 0, retried: 0, failed: 0, expired: 0, unknown: 0 })
  workerMetrics(registry, {
    db: t.db,
    totals: {
      sms: zero,
      inbound: () => ({ received: 0, stored: 0, failed: 0, refused: 0 }),
      inboundMail: () => ({ forwarded: 0, replied: 0, kept: 0, retried: 0, failed: 0 }),
      notices: () => ({ sent: 0, skipped: 0, retried: 0, abandoned: 0 }),
    },
  })
  const names = new Set<string>()
  for (const m of await registry.getMetricsAsJSON()) {
    names.add(m.name)
    if (String(m.type) === 'histogram')
      for (const s of ['_bucket', '_count', '_sum']) names.add(m.name + s)
  }
  detach()
  return names
}

describe('docs: Grafana dashboard and Prometheus alerts', function () {
  this.timeout(30_000)
  let t: TestDatabase
  let names: Set<string>
  const alerts = fs.readFileSync(path.join(DOCS, 'prometheus-alerts.yml'), 'utf8')
  const dashboard = JSON.parse(fs.readFileSync(path.join(DOCS, 'grafana-dashboard.json'), 'utf8'))
  const expressions = [...alertExpressions(alerts), ...dashboardExpressions(dashboard)]

  before(async () => {
    t = await createTestDatabase('sqlite')
    names = await exportedNames(t)
  })

  after(() => t?.drop())

  it('has the alerts the issue asks for, each with an expression', () => {
    const rules = [...alerts.matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1])
    for (const wanted of [
      'Mail2SmsQueueStuck',
      'Mail2SmsSmscBindDown',
      'Mail2SmsRefusalSpike',
      'Mail2SmsQuotaReached',
    ])
      assert.ok(rules.includes(wanted), `${wanted} in ${rules.join(', ')}`)
    assert.equal(alertExpressions(alerts).length, rules.length)
  })

  it('only uses metric names the services export', () => {
    assert.ok(expressions.length > 30)
    for (const expr of expressions) {
      for (const [name] of expr.matchAll(/mail2sms_[a-z0-9_]+/g)) {
        assert.ok(names.has(name), `${name} (in "${expr}") is not exported`)
      }
    }
  })

  it('names replies of the catalogue and statuses the worker counts', () => {
    const replies = new Set(Object.keys(REPLIES))
    const transitions = new Set([
      'sent',
      'retry',
      'failed',
      'expired',
      'unknown',
      'delivered',
      'undeliverable',
      'partial',
    ])
    for (const expr of expressions) {
      for (const m of expr.matchAll(/\b(reply|to)=~?"([^"]+)"/g)) {
        const known = m[1] === 'reply' ? replies : transitions
        for (const value of m[2].split('|'))
          assert.ok(known.has(value), `${m[1]}="${value}" in "${expr}"`)
      }
    }
  })

  it('is a dashboard Grafana imports: a datasource input, unique panel ids, every query named', () => {
    assert.equal(dashboard.__inputs[0].name, 'DS_PROMETHEUS')
    const ids = dashboard.panels.map((p: { id: number }) => p.id)
    assert.equal(new Set(ids).size, ids.length)
    for (const p of dashboard.panels.filter((p: { type: string }) => p.type !== 'row')) {
      assert.ok(p.targets.length > 0, p.title)
      for (const target of p.targets) assert.match(target.refId, /^[A-Z]$/)
    }
  })
})
