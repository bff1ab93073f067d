import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import { addSender } from '../../lib/db/senders'
import type { AdminHarness } from './harness'
import { BASE_ORIGIN, BASE_URL, createAdminHarness, login, PASSWORD } from './harness'

/** Bodies a forging page (or script) could send that are not HTML forms. */
const BODIES: Array<{ name: string; headers: Record<string, string>; body?: string }> = [
  {
    name: 'JSON',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'alice@acme.test', password: PASSWORD }),
  },
  { name: 'text/plain', headers: { 'content-type': 'text/plain' }, body: 'email=x' },
  { name: 'no content-type', headers: {} },
]

const ORIGINS: Array<{ name: string; origin?: string }> = [
  { name: 'missing Origin' },
  { name: 'wrong Origin', origin: 'http://evil.test' },
  { name: 'Origin null', origin: 'null' },
  { name: 'another port of the same host', origin: 'http://admin.test:8443' },
]

for (const kind of databaseKinds()) {
  describe(`admin Origin check on every unsafe method (${kind})`, function () {
    this.timeout(60_000)
    let h: AdminHarness

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(() => h.reset())
    after(() => h.drop())

    function send(
      method: string,
      path: string,
      body: (typeof BODIES)[number],
      origin: string | undefined,
      cookie = '',
    ) {
      const headers: Record<string, string> = { ...body.headers }
      if (origin !== undefined) headers.origin = origin
      if (cookie) headers.cookie = cookie
      return Promise.resolve(
        h.app.request(`${BASE_URL}${path}`, { method, headers, body: body.body }),
      )
    }

    it('refuses a logged-in route that ignores its body, whatever the body type', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const sender = await addSender(h.db, h.accounts.acme.id, 'bob@acme.test', {
        status: 'pending',
      })
      const path = `/a/${h.accounts.acme.id}/users/${sender.id}/delete`
      for (const body of BODIES) {
        for (const { name, origin } of ORIGINS) {
          for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
            const res = await send(method, path, body, origin, cookie)
            assert.equal(res.status, 403, `${method} ${body.name}, ${name}`)
          }
        }
      }
      assert.equal((await h.db('account_senders').where({ id: sender.id })).length, 1)
      // The same request from the admin's own origin goes through: the check is what refused.
      // (A deletion needs its confirmation field, which only a form can carry.)
      const confirmed = {
        name: 'confirmed form',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'confirm=yes',
      }
      const allowed = await send('POST', path, confirmed, BASE_ORIGIN, cookie)
      assert.equal(allowed.status, 303)
      assert.equal((await h.db('account_senders').where({ id: sender.id })).length, 0)
    })

    it('refuses logout and login posted without the admin’s Origin, whatever the body type', async () => {
      const cookie = await login(h.app, 'alice@acme.test', PASSWORD)
      const sessions = async () => Number((await h.db('admin_sessions').count({ n: '*' }))[0].n)
      const before = await sessions()
      const throttle = async () => JSON.stringify(await h.db('login_throttle').orderBy(1))
      const counted = await throttle()
      for (const body of BODIES) {
        for (const { name, origin } of ORIGINS) {
          for (const path of ['/logout', '/login']) {
            const res = await send('POST', path, body, origin, cookie)
            assert.equal(res.status, 403, `${path} ${body.name}, ${name}`)
            assert.deepEqual(res.headers.getSetCookie(), [], `${path} ${body.name}, ${name}`)
          }
        }
      }
      assert.equal(await sessions(), before)
      // Nothing was counted against the address either: the check comes before the login.
      assert.equal(await throttle(), counted)
      const loggedOut = await send('POST', '/logout', BODIES[2], BASE_ORIGIN, cookie)
      assert.equal(loggedOut.status, 303)
      assert.equal(await sessions(), before - 1)
    })

    it('leaves the carrier webhook to its bearer secret, without an Origin', async () => {
      const res = await send('POST', '/webhooks/acme/inbound', BODIES[0], undefined)
      // Reaches the route, which asks for its secret.
      assert.equal(res.status, 401)
      assert.equal(((await res.json()) as { ok: boolean }).ok, false)
    })
  })
}
