import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Registry } from 'prom-client'
import { createApp } from '../../admin/app'
import { requestMetrics } from '../../admin/metrics'
import { createTestDatabase, databaseKinds } from '../support/databases'
import { freePort } from '../support/mx'
import { httpGet, Samples, scrape } from '../support/ops'
import { databaseIni, startService } from '../support/service-process'
import { eventually } from '../worker/harness'
import { PASSWORD, createAdminHarness, get, login, type AdminHarness } from './harness'

const DURATION = 'mail2sms_admin_request_duration_seconds_count'

for (const kind of databaseKinds()) {
  describe(`admin: request metrics (${kind})`, function () {
    this.timeout(60_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })

    after(async () => {
      await h?.drop()
    })

    it('times requests by route pattern and status class, never by the path with its ids', async () => {
      const registry = new Registry()
      const app = createApp({ ...h.deps, observeRequests: requestMetrics(registry) })
      const cookie = await login(app, 'alice@acme.test', PASSWORD)
      const acme = h.accounts.acme.id
      for (let i = 0; i < 2; i++)
        assert.equal((await get(app, `/a/${acme}/messages`, cookie)).status, 200)
      assert.equal((await get(app, `/a/${acme}/messages?status=failed`, cookie)).status, 200)
      assert.equal((await get(app, '/no/such/page', cookie)).status, 404)
      // Another account's id: refused by the middleware in front of the account's pages, which
      // is then what answered.
      assert.equal((await get(app, `/a/${h.accounts.globex.id}/messages`, cookie)).status, 404)
      const samples = Samples.parse(await registry.metrics())
      assert.equal(
        samples.value(DURATION, { method: 'GET', route: '/a/:accountId/messages', status: '2xx' }),
        3,
      )
      assert.equal(
        samples.value(DURATION, { method: 'GET', route: '/a/:accountId/*', status: '4xx' }),
        1,
      )
      assert.equal(samples.value(DURATION, { method: 'POST', route: '/login', status: '3xx' }), 1)
      assert.equal(samples.value(DURATION, { route: '/*', status: '4xx' }), 1)
      const routes = samples.entries.filter((e) => e.name === DURATION).map((e) => e.labels.route)
      assert.ok(
        routes.every((r) => !/\/\d/.test(r) && !r.includes('no/such')),
        routes.join(' '),
      )
    })
  })
}

describe('admin: ops listener of the process', function () {
  this.timeout(90_000)

  it('serves /metrics with the request timing, /healthz and /readyz, and stops cleanly', async () => {
    const t = await createTestDatabase('sqlite')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-admin-ops-'))
    const [port, opsPort] = [await freePort(), await freePort()]
    const admin = startService(
      path.join(dir, 'admin.ini'),
      [
        ...databaseIni(t.config),
        '[admin]',
        `port=${port}`,
        `session_secret=${'s'.repeat(40)}`,
        '[mailer]',
        `directory=${dir}/mail`,
        '[ops]',
        `admin_listen=127.0.0.1:${opsPort}`,
      ],
      ['admin'],
    )
    try {
      const ready = await eventually(
        () => httpGet(opsPort, '/readyz').catch(() => ({ status: 0, body: '' })),
        (r) => r.status === 200,
        30_000,
      )
      assert.equal(ready.body, 'ready\ndatabase: ok, answers, migrations current\n')
      await eventually(
        () => httpGet(port, '/login').catch(() => ({ status: 0 })),
        (r) => r.status === 200,
      )
      const samples = await scrape(opsPort)
      assert.equal(samples.value(DURATION, { method: 'GET', route: '/login', status: '2xx' }), 1)
      assert.ok(samples.value('mail2sms_db_query_duration_seconds_count') > 0)
      assert.equal((await httpGet(opsPort, '/healthz')).body, 'ok\n')
      assert.equal((await httpGet(opsPort, '/other')).status, 404)
    } finally {
      assert.equal(await admin.stop(), 0, admin.logs())
      fs.rmSync(dir, { recursive: true, force: true })
      await t.drop()
    }
    // Closed with the admin: nothing answers on the ops port any more.
    await assert.rejects(httpGet(opsPort, '/healthz'), /ECONNREFUSED/)
  })
})
