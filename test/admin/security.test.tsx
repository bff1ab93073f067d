import assert from 'node:assert/strict'
import knex from 'knex'
import { databaseKinds } from '../support/databases'
import { createApp } from '../../admin/app'
import { addOptOut } from '../../lib/db/opt-outs'
import { addSender } from '../../lib/db/senders'
import { addAllowedIp } from '../../lib/db/allowlist'
import { rotateWebhookSecret } from '../../lib/db/account-settings'
import type { AdminApp, AdminHarness } from './harness'
import {
  BASE_ORIGIN,
  BASE_URL,
  createAdminHarness,
  get,
  login,
  PASSWORD,
  postForm,
} from './harness'

/** A login posted from a given client address, as the Node server reports the socket's. */
function postLoginFrom(
  app: AdminApp,
  remoteAddress: string,
  email: string,
  password: string,
  forwardedFor?: string,
) {
  return app.request(
    `${BASE_URL}/login`,
    {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: BASE_ORIGIN,
        ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}),
      },
      body: new URLSearchParams({ email, password }).toString(),
    },
    { incoming: { socket: { remoteAddress } } },
  )
}

for (const kind of databaseKinds()) {
  describe(`admin security review (${kind})`, function () {
    this.timeout(60_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(() => h.reset())
    after(() => h.drop())

    describe('login throttle', () => {
      it('lets no more than login_max_failures guesses sent at once reach the password', async () => {
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            postForm(h.app, '/login', { email: 'alice@acme.test', password: `guess-${i}` }),
          ),
        )
        const checked = answers.filter((res) => res.status === 401).length
        assert.ok(checked <= h.config.loginMaxFailures, `${checked} guesses were checked`)
        assert.ok(answers.every((res) => res.status === 401 || res.status === 429))
        const right = await postForm(h.app, '/login', {
          email: 'alice@acme.test',
          password: PASSWORD,
        })
        assert.equal(right.status, 429)
      })

      it('counts an IPv6 client by its /64, whichever address of it it uses', async () => {
        const statuses: number[] = []
        for (let i = 1; i <= 5; i++) {
          const res = await postLoginFrom(
            h.app,
            `2001:db8:0:7::${i.toString(16)}`,
            `nobody-${i}@x.test`,
            'whatever123',
          )
          statuses.push(res.status)
        }
        assert.deepEqual(statuses, [401, 401, 401, 401, 429])
        const sameNetwork = await postLoginFrom(
          h.app,
          '2001:db8:0:7:abcd::1',
          'bob@multi.test',
          PASSWORD,
        )
        assert.equal(sameNetwork.status, 429)
        const otherNetwork = await postLoginFrom(
          h.app,
          '2001:db8:0:8::1',
          'bob@multi.test',
          PASSWORD,
        )
        assert.equal(otherNetwork.status, 303)
      })

      it('counts an IPv4 client alike over IPv4 and as a mapped IPv6 address', async () => {
        for (let i = 0; i < 4; i++) {
          const from = i % 2 ? '192.0.2.7' : '::ffff:192.0.2.7'
          assert.equal(
            (await postLoginFrom(h.app, from, `n${i}@x.test`, 'whatever123')).status,
            401,
          )
        }
        const fifth = await postLoginFrom(h.app, '::FFFF:192.0.2.7', 'n5@x.test', 'whatever123')
        assert.equal(fifth.status, 429)
      })

      it('behind a trusted proxy, counts each forwarded client apart; elsewhere ignores the header', async () => {
        const app = createApp({ ...h.deps, config: { ...h.config, trustedProxies: ['127.0.0.1'] } })
        for (let i = 0; i < 5; i++) {
          const res = await postLoginFrom(
            app,
            '127.0.0.1',
            `p${i}@x.test`,
            'whatever123',
            '198.51.100.1',
          )
          assert.equal(res.status, i < 4 ? 401 : 429)
        }
        // Another client behind the same proxy is not locked out with the first.
        const other = await postLoginFrom(
          app,
          '127.0.0.1',
          'q@x.test',
          'whatever123',
          '198.51.100.2',
        )
        assert.equal(other.status, 401)
        // A client that is not the proxy cannot pick its address with the header.
        for (let i = 0; i < 5; i++) {
          const res = await postLoginFrom(
            app,
            '203.0.113.9',
            `r${i}@x.test`,
            'whatever123',
            `198.51.100.${10 + i}`,
          )
          assert.equal(res.status, i < 4 ? 401 : 429)
        }
      })

      it('shares the count of an address however its case and spaces are typed', async () => {
        const typed = ['alice@acme.test', 'ALICE@acme.test', ' Alice@Acme.Test ', 'alice@ACME.TEST']
        for (const email of typed) {
          assert.equal(
            (await postForm(h.app, '/login', { email, password: 'bad-one' })).status,
            401,
          )
        }
        const fifth = await postForm(h.app, '/login', {
          email: 'aLiCe@acme.test',
          password: 'x-bad',
        })
        assert.equal(fifth.status, 429)
      })

      it('does not charge a client for its successful logins', async () => {
        for (let i = 0; i < 8; i++) assert.ok(await login(h.app, 'bob@multi.test', PASSWORD))
        const rows = await h.db('login_throttle').where('throttle_key', 'like', 'ip:%')
        assert.ok(rows.every((row) => Number(row.failures) === 0))
      })

      it('a login of ones own does not reset the count of ones guesses at others', async () => {
        const statuses: number[] = []
        for (let i = 0; i < 4; i++) {
          const res = await postForm(h.app, '/login', {
            email: `x${i}@x.test`,
            password: 'guess-1',
          })
          statuses.push(res.status)
          assert.ok(await login(h.app, 'bob@multi.test', PASSWORD))
        }
        const fifth = await postForm(h.app, '/login', { email: 'x9@x.test', password: 'guess-1' })
        statuses.push(fifth.status)
        assert.deepEqual(statuses, [401, 401, 401, 401, 429])
      })

      it('throttles guesses at the current password sent at once from a session', async () => {
        const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
        const answers = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            postForm(
              h.app,
              '/details/password',
              {
                current: `guess-${i}`,
                password: 'a new long passphrase',
                confirm: 'a new long passphrase',
              },
              { cookie },
            ),
          ),
        )
        const checked = answers.filter((res) => res.status === 400).length
        assert.ok(checked <= h.config.loginMaxFailures, `${checked} guesses were checked`)
      })
    })

    describe('tenants', () => {
      /** Everything an account's pages can change, to compare before and after. */
      async function snapshot() {
        const tables = [
          'accounts',
          'account_senders',
          'account_ip_allowlist',
          'cache_versions',
          'outbound_sms',
          'opt_outs',
          'audit_log',
        ]
        const rows = await Promise.all(tables.map((table) => h.db(table).orderBy(1)))
        return JSON.stringify(rows)
      }

      it('every account route needs the session, an account of ones own and the Origin', async () => {
        const globex = h.accounts.globex.id
        const acme = h.accounts.acme.id
        const sender = await addSender(h.db, globex, 'them@globex.test', { status: 'pending' })
        await addAllowedIp(h.db, globex, '198.51.100.7')
        const [ip] = await h.db('account_ip_allowlist').where({ account_id: globex })
        await rotateWebhookSecret(h.db, globex)
        await addOptOut(h.db, globex, '+33611112222', 'STOP', h.clock.now)
        const pages = [
          'users',
          'preferences',
          'test-sms',
          'receiving',
          'ips',
          'limits',
          'messages',
          'messages/export.csv',
          'usage',
          'inbox',
          'opt-outs',
          'opt-outs/remove?number=%2B33611112222',
          'audit',
          // The confirmation pages of destructive actions, and the page showing a new secret.
          `users/${sender.id}/delete`,
          `ips/delete?id=${ip.id}`,
          'receiving/webhook-secret',
          'receiving/webhook-secret/new',
          'receiving/webhook-secret/clear',
        ]
        const posts: Array<[string, Record<string, string>]> = [
          ['users', { email: 'sneak@acme.test' }],
          [`users/${sender.id}/resend`, {}],
          [`users/${sender.id}/delete`, { confirm: 'yes' }],
          [
            'preferences',
            { signatureMarker: 'x', senderName: '', defaultCountry: 'FR', segmentCap: '3' },
          ],
          ['preferences/preview', { email: 'hello' }],
          ['receiving', { forwardAddresses: 'sneak@acme.test', directReply: 'on' }],
          ['receiving/webhook-secret', { confirm: 'yes' }],
          ['receiving/webhook-secret/clear', { confirm: 'yes' }],
          ['ips', { address: '203.0.113.9', note: '' }],
          ['ips/delete', { id: String(ip.id), confirm: 'yes' }],
          ['ips/blocks', { block: '203.0.113.0/30' }],
          ['test-sms', { form_id: 'a'.repeat(22), number: '+33612345678', text: 'x' }],
          ['opt-outs/remove', { number: '+33611112222', reason: 'asked', confirm: 'yes' }],
        ]
        const before = await snapshot()
        const alice = await login(h.app, 'alice@acme.test', PASSWORD)
        for (const page of pages) {
          const anonymous = await get(h.app, `/a/${globex}/${page}`)
          assert.equal(anonymous.status, 302, page)
          assert.match(anonymous.headers.get('location') ?? '', /^\/login\?next=/)
          assert.equal((await get(h.app, `/a/${globex}/${page}`, alice)).status, 404, page)
        }
        for (const [path, fields] of posts) {
          const anonymous = await postForm(h.app, `/a/${globex}/${path}`, fields)
          assert.equal(anonymous.status, 401, path)
          const theirs = await postForm(h.app, `/a/${globex}/${path}`, fields, { cookie: alice })
          assert.equal(theirs.status, 404, path)
          const forged = await postForm(h.app, `/a/${acme}/${path}`, fields, {
            cookie: alice,
            origin: 'http://evil.test',
          })
          assert.equal(forged.status, 403, path)
        }
        // Her own account's paths with the other account's sender and IP ids.
        for (const path of [`users/${sender.id}/resend`, `users/${sender.id}/delete`]) {
          assert.equal(
            (await postForm(h.app, `/a/${acme}/${path}`, { confirm: 'yes' }, { cookie: alice }))
              .status,
            404,
          )
        }
        assert.equal((await get(h.app, `/a/${acme}/users/${sender.id}/delete`, alice)).status, 404)
        const ipDelete = await postForm(
          h.app,
          `/a/${acme}/ips/delete`,
          { id: String(ip.id), confirm: 'yes' },
          { cookie: alice },
        )
        assert.equal(ipDelete.status, 404)
        assert.equal((await get(h.app, `/a/${acme}/ips/delete?id=${ip.id}`, alice)).status, 404)
        assert.equal(await snapshot(), before)
        assert.equal(h.mailer.sent.length, 0)
      })
    })

    it('refuses a name with a line break, which would go into invitation mails', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      for (const name of ['Alice\r\nBcc: x@evil.test', 'Alice\u2028Text', 'Alice\u202egnp.exe']) {
        const res = await postForm(h.app, '/details', { name }, { cookie })
        assert.equal(res.status, 400, JSON.stringify(name))
        assert.match(await res.text(), /sur une seule ligne/)
      }
      const row = await h.db('admins').where({ id: h.admins.alice.id }).first()
      assert.equal(row.name, 'Alice')
    })

    it('answers 400 to a form that does not parse, and logs nothing', async () => {
      for (const type of ['multipart/form-data', 'multipart/form-data; boundary=x']) {
        const res = await h.app.request(`${BASE_URL}/login`, {
          method: 'POST',
          headers: { 'content-type': type, origin: BASE_ORIGIN },
          body: 'not a multipart body',
        })
        assert.equal(res.status, 400, type)
        assert.match(await res.text(), /Requête incorrecte/)
      }
      assert.deepEqual(h.logs, [])
      // A well-formed multipart form still works.
      const form = new FormData()
      form.set('email', 'alice@acme.test')
      form.set('password', PASSWORD)
      const res = await h.app.request(`${BASE_URL}/login`, {
        method: 'POST',
        headers: { origin: BASE_ORIGIN },
        body: form,
      })
      assert.equal(res.status, 303)
    })

    it('answers a carrier 400, not 500, for a form body that does not parse', async () => {
      const secret = await rotateWebhookSecret(h.db, h.accounts.acme.id)
      const res = await h.app.request(`${BASE_URL}/webhooks/acme/inbound`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${secret}`,
          'content-type': 'multipart/form-data; boundary=x',
        },
        body: 'not a multipart body',
      })
      assert.equal(res.status, 400)
      assert.deepEqual(await res.json(), { ok: false, error: 'the body is not a valid form' })
      assert.deepEqual(h.logs, [])
    })

    it('keeps pages behind the login out of caches', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const page = await get(h.app, `/a/${h.accounts.acme.id}/users`, cookie)
      assert.equal(page.status, 200)
      assert.equal(page.headers.get('cache-control'), 'no-store')
      const css = await get(h.app, '/assets/admin.css')
      assert.equal(css.headers.get('cache-control'), 'public, max-age=300')
    })

    it('never writes an invitation token into the error log', async () => {
      const broken = knex({
        client: 'better-sqlite3',
        connection: { filename: ':memory:' },
        useNullAsDefault: true,
      })
      try {
        const logs: string[] = []
        const app = createApp({ ...h.deps, db: broken, log: (line) => logs.push(line) })
        const token = 'Tq3x9W0bq5kV7sZr1YhN2cD4eF6gH8jK0lM2nP4rS6u'
        const res = await app.request(`${BASE_URL}/activate/${token}`)
        assert.equal(res.status, 500)
        assert.equal(logs.length, 1)
        assert.match(logs[0], /admin error GET \/activate\/…:/)
        assert.doesNotMatch(logs[0], new RegExp(token))
      } finally {
        await broken.destroy()
      }
    })
  })
}
