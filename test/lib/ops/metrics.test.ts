import assert from 'node:assert/strict'
import { Registry } from 'prom-client'
import {
  claimMetrics,
  countersFromTotals,
  createMetricsRegistry,
  databaseMetrics,
  loopMetrics,
  operationOf,
  purgeMetrics,
  smppMetrics,
} from '../../../lib/ops/metrics'
import { mxMetrics } from '../../../lib/ops/mx-metrics'
import { answer } from '../../../lib/mx/replies'
import { createTestDatabase, databaseKinds } from '../../support/databases'
import { Samples } from '../../support/ops'

async function samplesOf(registry: Registry): Promise<Samples> {
  return Samples.parse(await registry.metrics())
}

describe('lib/ops/metrics', () => {
  it('follows the SMPP session: bind state, window, submit latency by outcome, throttling', async () => {
    const registry = new Registry()
    const smpp = smppMetrics(registry)
    let s = await samplesOf(registry)
    assert.equal(s.value('mail2sms_smpp_bind_state', { state: 'unbound' }), 1)
    assert.equal(s.value('mail2sms_smpp_bind_state', { state: 'bound' }), 0)
    smpp.bindState('binding')
    smpp.bindState('bound')
    smpp.windowInUse(3)
    smpp.submitAnswered('accepted', 0.004)
    smpp.submitAnswered('accepted', 0.2)
    smpp.submitAnswered('throttled', 0.003)
    smpp.submitAnswered('timeout', 10)
    s = await samplesOf(registry)
    assert.deepEqual(
      ['unbound', 'binding', 'bound'].map((state) =>
        s.value('mail2sms_smpp_bind_state', { state }),
      ),
      [0, 0, 1],
    )
    assert.equal(s.value('mail2sms_smpp_window_in_use'), 3)
    const count = (outcome: string) =>
      s.value('mail2sms_smpp_submit_duration_seconds_count', { outcome })
    assert.deepEqual(['accepted', 'throttled', 'timeout', 'refused'].map(count), [2, 1, 1, 0])
    assert.equal(
      s.value('mail2sms_smpp_submit_duration_seconds_bucket', { outcome: 'accepted', le: '0.005' }),
      1,
    )
    assert.ok(
      Math.abs(
        s.value('mail2sms_smpp_submit_duration_seconds_sum', { outcome: 'accepted' }) - 0.204,
      ) < 1e-9,
    )
    assert.equal(s.value('mail2sms_smpp_throttled_total'), 1)
  })

  it('times poll rounds and lease claims by loop and kind of work', async () => {
    const registry = new Registry()
    const loops = loopMetrics(registry)
    const claims = claimMetrics(registry)
    loops.round('sms', 0.01, false)
    loops.round('sms', 0.02, true)
    loops.round('notices', 0.001, false)
    claims.claimed('sms', 50, 0.003, 0)
    claims.claimed('sms', 0, 0.001, 2)
    claims.claimed('inbound', 1, 0.002, 0)
    const s = await samplesOf(registry)
    assert.equal(s.value('mail2sms_poll_round_duration_seconds_count', { loop: 'sms' }), 2)
    assert.equal(s.value('mail2sms_poll_round_failures_total', { loop: 'sms' }), 1)
    assert.equal(s.value('mail2sms_poll_round_failures_total', { loop: 'notices' }), 0)
    assert.equal(s.value('mail2sms_lease_claimed_rows_total', { work: 'sms' }), 50)
    assert.equal(s.value('mail2sms_lease_claim_conflicts_total', { work: 'sms' }), 2)
    assert.equal(s.value('mail2sms_lease_claim_duration_seconds_count', { work: 'inbound' }), 1)
  })

  it('counts the rows the retention purge blanked, by step', async () => {
    const registry = new Registry()
    const purge = purgeMetrics(registry)
    purge.purged('outbound_text', 7)
    purge.purged('outbound_text', 3)
    purge.purged('inbound_both', 0)
    const s = await samplesOf(registry)
    assert.equal(s.value('mail2sms_retention_purged_rows_total', { step: 'outbound_text' }), 10)
    assert.equal(s.value('mail2sms_retention_purged_rows_total', { step: 'inbound_both' }), 0)
  })

  it('counts what running totals grew by since the last scrape, every label from the start', async () => {
    const registry = new Registry()
    const totals = { sent: 0, failed: 0 }
    countersFromTotals(registry, { name: 'mail2sms_test_total', help: 'test', labelName: 'to' }, [
      { totals: () => totals, labels: { sent: 'sent', failed: 'failed' } },
    ])
    let s = await samplesOf(registry)
    assert.equal(s.has('mail2sms_test_total', { to: 'failed' }), true)
    totals.sent += 3
    s = await samplesOf(registry)
    assert.equal(s.value('mail2sms_test_total', { to: 'sent' }), 3)
    totals.sent += 2
    totals.failed += 1
    s = await samplesOf(registry)
    assert.equal(s.value('mail2sms_test_total', { to: 'sent' }), 5)
    assert.equal(s.value('mail2sms_test_total', { to: 'failed' }), 1)
  })

  it('counts MX replies by code and catalogue name, and acceptances once per email', async () => {
    const registry = new Registry()
    const mx = mxMetrics(registry)
    mx.replied(answer('queued', { what: 'SMS 1', duplicate: false }))
    mx.replied({ action: 'accept' })
    mx.replied(answer('relayDenied', { domain: 'sms.example.com' }))
    mx.replied(answer('accountRateLimited', { account: 'acme', limit: 1, resetAt: '14:05 UTC' }))
    mx.queued(3)
    const s = await samplesOf(registry)
    assert.equal(s.value('mail2sms_mx_emails_accepted_total'), 1)
    assert.equal(s.value('mail2sms_mx_refusals_total', { code: '550', reply: 'relayDenied' }), 1)
    assert.equal(
      s.value('mail2sms_mx_refusals_total', { code: '451', reply: 'accountRateLimited' }),
      1,
    )
    assert.equal(s.value('mail2sms_mx_refusals_total', { reply: 'quotaSpent' }), 0)
    assert.equal(s.has('mail2sms_mx_refusals_total', { reply: 'quotaSpent' }), true)
    assert.equal(s.value('mail2sms_mx_sms_queued_total'), 3)
  })

  it('names statements by kind, never by their text', () => {
    assert.equal(operationOf('first', 'select * from x'), 'select')
    assert.equal(operationOf('del', 'delete from x'), 'delete')
    assert.equal(operationOf('raw', '  SELECT 1'), 'select')
    assert.equal(operationOf('raw', 'with a as (select 1) select * from a'), 'select')
    assert.equal(operationOf('raw', 'UPDATE x SET a = 1'), 'update')
    assert.equal(operationOf('raw', 'BEGIN;'), 'other')
    assert.equal(operationOf(undefined, undefined), 'other')
  })

  it('prefixes the process figures with mail2sms_', async () => {
    const s = await samplesOf(createMetricsRegistry())
    const names = [...s.names()]
    assert.ok(names.includes('mail2sms_process_cpu_user_seconds_total'))
    assert.ok(
      names.every((n) => n.startsWith('mail2sms_')),
      names.join(' '),
    )
  })

  for (const kind of databaseKinds()) {
    it(`times statements and counts their errors, transactions included (${kind})`, async () => {
      const t = await createTestDatabase(kind)
      const registry = new Registry()
      const detach = databaseMetrics(registry, t.db)
      try {
        await t.db('cache_versions').select('*')
        await t.db.transaction(async (trx) => {
          await trx('cache_versions').update({ version: 1 }).where('name', 'none')
          await trx('cache_versions').where('name', 'none').delete()
        })
        await assert.rejects(t.db.raw('select * from no_such_table'))
        const s = await samplesOf(registry)
        const count = (operation: string) =>
          s.value('mail2sms_db_query_duration_seconds_count', { operation })
        assert.equal(count('select'), 2)
        assert.equal(count('update'), 1)
        assert.equal(count('delete'), 1)
        assert.equal(s.value('mail2sms_db_query_errors_total', { operation: 'select' }), 1)
        assert.equal(s.value('mail2sms_db_query_errors_total'), 1)
      } finally {
        detach()
        await t.drop()
      }
      // Detached: the pool hands connections out as it did.
      assert.equal(typeof t.db.client.acquireConnection, 'function')
    })
  }
})
