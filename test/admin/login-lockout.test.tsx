import assert from 'node:assert/strict'
import { databaseKinds } from '../support/databases'
import type { AdminHarness } from './harness'
import { BASE_ORIGIN, BASE_URL, createAdminHarness, PASSWORD, withCookies } from './harness'

const ATTACKER = '198.51.100.66'
const OWNER = '203.0.113.10'
const LOCKOUT_MS = 15 * 60_000

/** A wait the test ends when it chooses, instead of a timer. */
class HeldSleep {
  readonly waits: Array<{ ms: number; release: () => void }> = []
  private waiting: Array<() => void> = []

  readonly sleep = (ms: number) =>
    new Promise<void>((release) => {
      this.waits.push({ ms, release })
      for (const notify of this.waiting.splice(0)) notify()
    })

  /** Resolves once `n` waits have started. */
  async started(n: number): Promise<void> {
    while (this.waits.length < n) await new Promise<void>((r) => this.waiting.push(r))
  }
}

for (const kind of databaseKinds()) {
  describe(`admin login: a locked address cannot keep its owner out (${kind})`, function () {
    this.timeout(60_000)
    let h: AdminHarness
    let held: HeldSleep

    before(async () => {
      h = await createAdminHarness(kind, { config: { lockedLoginDelayMs: 4000 } })
    })
    beforeEach(async () => {
      await h.reset()
      held = new HeldSleep()
      h.deps.sleep = held.sleep
    })
    after(() => h.drop())

    function loginFrom(ip: string, email: string, password: string, cookie = '') {
      return Promise.resolve(
        h.app.request(
          `${BASE_URL}/login`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              origin: BASE_ORIGIN,
              ...(cookie ? { cookie } : {}),
            },
            body: new URLSearchParams({ email, password }).toString(),
          },
          { incoming: { socket: { remoteAddress: ip } } },
        ),
      )
    }

    /** Five wrong passwords for Alice from the attacker's address: her address is locked. */
    async function lockAlice() {
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) {
        statuses.push((await loginFrom(ATTACKER, 'alice@acme.test', `guess-${i}`)).status)
      }
      assert.deepEqual(statuses, [401, 401, 401, 401, 429])
    }

    /** Alice's browser after one successful login: the device cookie only. */
    async function aliceDevice(): Promise<string> {
      const res = await loginFrom(OWNER, 'alice@acme.test', PASSWORD)
      assert.equal(res.status, 303)
      return withCookies('', res)
        .split('; ')
        .filter((c) => c.startsWith('m2s_device='))
        .join('; ')
    }

    it('sets a signed, long-lived device cookie at login, naming the admin and nothing secret', async () => {
      const res = await loginFrom(OWNER, 'alice@acme.test', PASSWORD)
      const line = res.headers.getSetCookie().find((c) => c.startsWith('m2s_device='))
      assert.ok(line)
      assert.match(line, /; Max-Age=34560000; Path=\/login; HttpOnly; SameSite=Lax/)
      const value = decodeURIComponent(line.split(';')[0].slice('m2s_device='.length))
      assert.match(
        value,
        new RegExp(`^${h.admins.alice.id}:[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`),
      )
      // Once the browser has logged in before, no failed login is charged to anyone.
      assert.equal(held.waits.length, 0)
    })

    it('lets a known browser log in at once while the address is locked', async () => {
      const device = await aliceDevice()
      await lockAlice()
      const res = await loginFrom(OWNER, 'alice@acme.test', PASSWORD, device)
      assert.equal(res.status, 303)
      assert.equal(held.waits.length, 0)
      // The lock still holds for everyone else.
      const row = await h
        .db('login_throttle')
        .where({ throttle_key: 'email:alice@acme.test' })
        .first()
      assert.ok(Number(row.locked_until) > h.clock.now)
    })

    it('exempts only the admin the cookie names, and only a cookie with its signature', async () => {
      const device = await aliceDevice()
      await lockAlice()
      const [name, value] = device.split('=')
      const forged = `${name}=${value.replace(/^\d+/, String(h.admins.bob.id))}`
      const bobLogin = await loginFrom(OWNER, 'bob@multi.test', 'wrong password', device)
      assert.equal(bobLogin.status, 401)
      // Alice's address with a forged cookie, or none: held like any unknown browser.
      for (const [n, cookie] of [forged, ''].entries()) {
        const attempt = loginFrom(OWNER, 'alice@acme.test', 'wrong password', cookie)
        await held.started(n + 1)
        held.waits[n].release()
        assert.equal((await attempt).status, 401)
      }
    })

    it('still counts a known browser’s failures, per device and per client', async () => {
      const device = await aliceDevice()
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) {
        statuses.push(
          (await loginFrom(`192.0.2.${i + 1}`, 'alice@acme.test', `x-${i}`, device)).status,
        )
      }
      // A stolen cookie buys no more guesses from many addresses than a lock allows.
      assert.deepEqual(statuses, [401, 401, 401, 401, 429])
      const refused = await loginFrom('192.0.2.99', 'alice@acme.test', PASSWORD, device)
      assert.equal(refused.status, 429)
      // Its guesses did not lock the address for others.
      assert.equal(
        await h.db('login_throttle').where({ throttle_key: 'email:alice@acme.test' }).first(),
        undefined,
      )
      // The per-client throttle applies to a known browser too.
      const other = await aliceDevice()
      for (let i = 0; i < 5; i++) await loginFrom(ATTACKER, `nobody-${i}@x.test`, 'whatever12')
      assert.equal((await loginFrom(ATTACKER, 'alice@acme.test', PASSWORD, other)).status, 429)
    })

    it('holds an unknown browser’s attempt on a locked address, then lets the right password in', async () => {
      await lockAlice()
      const pending = loginFrom(OWNER, 'alice@acme.test', PASSWORD)
      await held.started(1)
      assert.equal(held.waits[0].ms, 4000)
      // Meanwhile, a second attempt for the same address is turned away at once…
      const second = await loginFrom('192.0.2.7', 'alice@acme.test', 'another guess')
      assert.equal(second.status, 429)
      assert.equal(second.headers.get('retry-after'), '4')
      assert.match(
        await second.text(),
        /Une autre tentative de connexion à cette adresse est en cours/,
      )
      // …and other addresses are not held up.
      const bob = await loginFrom('192.0.2.8', 'bob@multi.test', PASSWORD)
      assert.equal(bob.status, 303)
      held.waits[0].release()
      const res = await pending
      assert.equal(res.status, 303)
      assert.match(res.headers.getSetCookie().join('\n'), /m2s_session=/)
      // The right password lifted the lock, and the slot is free again.
      assert.equal(
        await h.db('login_throttle').where({ throttle_key: 'email:alice@acme.test' }).first(),
        undefined,
      )
      assert.equal((await loginFrom('192.0.2.9', 'alice@acme.test', PASSWORD)).status, 303)
    })

    it('counts a wrong delayed attempt, and locks the address again when they add up', async () => {
      await lockAlice()
      const lockedAt = h.clock.now
      for (let i = 0; i < 5; i++) {
        h.clock.advance(60_000)
        const attempt = loginFrom(`192.0.2.${i + 1}`, 'alice@acme.test', `late-${i}`)
        await held.started(i + 1)
        held.waits[i].release()
        assert.equal((await attempt).status, 401, `delayed attempt ${i}`)
      }
      const row = await h
        .db('login_throttle')
        .where({ throttle_key: 'email:alice@acme.test' })
        .first()
      // The fifth wrong one started the lock over from its own time.
      assert.equal(Number(row.locked_until), h.clock.now + LOCKOUT_MS)
      assert.ok(Number(row.locked_until) > lockedAt + LOCKOUT_MS)
      // The attempts are charged to their clients too: the slot is not a free pass.
      const ipRow = await h.db('login_throttle').where({ throttle_key: 'ip:192.0.2.1' }).first()
      assert.equal(Number(ipRow.failures), 1)
    })

    it('frees the slot of a process that died holding it, once its lease runs out', async () => {
      await lockAlice()
      await h.db('login_throttle').insert({
        throttle_key: 'delayed:email:alice@acme.test',
        failures: 0,
        window_started_at: h.clock.now,
        locked_until: h.clock.now + 34_000,
      })
      assert.equal((await loginFrom(OWNER, 'alice@acme.test', PASSWORD)).status, 429)
      h.clock.advance(34_000)
      const attempt = loginFrom(OWNER, 'alice@acme.test', PASSWORD)
      await held.started(1)
      held.waits[0].release()
      assert.equal((await attempt).status, 303)
    })
  })
}
