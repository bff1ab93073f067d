import assert from 'node:assert/strict'
import { rotateWebhookSecret } from '../../lib/db/account-settings'
import { createAccount } from '../../lib/db/accounts'
import { bumpCacheVersion } from '../../lib/db/versions'
import { WEBHOOK_MAX_BODY_BYTES } from '../../admin/routes/webhook'
import { BASE_URL, createAdminHarness, type AdminHarness } from '../admin/harness'
import { databaseKinds } from '../support/databases'

interface CallOptions {
  secret?: string | null
  /** How the secret travels; bearer by default. */
  via?: 'bearer' | 'header'
  form?: boolean
  contentType?: string
  raw?: string
}

for (const kind of databaseKinds()) {
  describe(`webhooks for HTTP carriers (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness
    let acmeSecret: string
    let globexSecret: string
    let n = 0

    before(async () => {
      h = await createAdminHarness(kind)
      await h.db.transaction(async (trx) => {
        await trx('accounts')
          .where({ id: h.accounts.acme.id })
          .update({ virtual_number: '+33700000001' })
        await trx('accounts')
          .where({ id: h.accounts.globex.id })
          .update({ virtual_number: '+33700000002' })
        await bumpCacheVersion(trx, 'directory')
      })
      acmeSecret = await rotateWebhookSecret(h.db, h.accounts.acme.id)
      globexSecret = await rotateWebhookSecret(h.db, h.accounts.globex.id)
      await createAccount(h.db, {
        ref: 'nosecret',
        name: 'No secret',
        virtualNumber: '+33700000003',
      })
    })

    after(async () => h?.drop())

    async function call(path: string, body: Record<string, unknown>, o: CallOptions = {}) {
      const headers: Record<string, string> = {}
      const secret = o.secret === undefined ? acmeSecret : o.secret
      if (secret !== null) {
        if (o.via === 'header') headers['x-webhook-secret'] = secret
        else headers.authorization = `Bearer ${secret}`
      }
      headers['content-type'] =
        o.contentType ?? (o.form ? 'application/x-www-form-urlencoded' : 'application/json')
      const payload =
        o.raw ??
        (o.form
          ? new URLSearchParams(
              Object.entries(body).map(([k, v]): [string, string] => [k, String(v)]),
            ).toString()
          : JSON.stringify(body))
      const res = await h.app.request(`${BASE_URL}/webhooks${path}`, {
        method: 'POST',
        headers,
        body: payload,
      })
      const text = await res.text()
      let json: Record<string, unknown> = {}
      try {
        json = JSON.parse(text)
      } catch {
        assert.fail(`not JSON (${res.status}): ${text.slice(0, 200)}`)
      }
      return { status: res.status, json }
    }

    const count = async (table: string) => Number((await h.db(table).count({ n: '*' }))[0].n)

    const mo = (over: Record<string, unknown> = {}) => ({
      from: '+33612345678',
      to: '+33700000001',
      text: `Réponse ${++n}`,
      id: `mo-${kind}-${n}`,
      ...over,
    })

    describe('inbound', () => {
      it('stores a JSON callback as an inbound SMS of the account, through the intake', async () => {
        const body = mo()
        const r = await call('/acme/inbound', body)
        assert.equal(r.status, 200, JSON.stringify(r.json))
        assert.equal(r.json.ok, true)
        const row = await h.db('inbound_sms').where({ id: r.json.id }).first()
        assert.equal(Number(row.account_id), h.accounts.acme.id)
        assert.equal(row.status, 'received')
        assert.equal(row.source, 'webhook')
        assert.equal(row.from_number, '+33612345678')
        assert.equal(row.to_number, '+33700000001')
        assert.equal(row.body, body.text)
        assert.equal(row.carrier_id, body.id)
        assert.equal(Number(row.received_at), h.clock.now)
      })

      it('stores a form callback with the common aliases and X-Webhook-Secret', async () => {
        const r = await call(
          '/acme/inbound',
          {
            msisdn: '33612345679',
            recipient: '33700000001',
            message: 'Oui ça marche',
            message_id: `f-${kind}`,
          },
          { form: true, via: 'header' },
        )
        assert.equal(r.status, 200, JSON.stringify(r.json))
        const row = await h.db('inbound_sms').where({ id: r.json.id }).first()
        assert.equal(row.from_number, '+33612345679')
        assert.equal(row.body, 'Oui ça marche')
        assert.equal(row.encoding, 'ucs2')
        assert.equal(Number(row.account_id), h.accounts.acme.id)
      })

      it('stores a callback the carrier retries once', async () => {
        const body = mo()
        const first = await call('/acme/inbound', body)
        const before = await count('inbound_sms')
        const again = await call('/acme/inbound', body)
        assert.equal(again.status, 200)
        assert.equal(again.json.id, first.json.id)
        assert.equal(await count('inbound_sms'), before)
      })

      it("keeps one account's SMS apart from another's that reuses its carrier id", async () => {
        const acme = await call('/acme/inbound', mo({ id: `clash-${kind}` }))
        assert.equal(acme.status, 200)
        const before = await count('inbound_sms')
        const globex = await call(
          '/globex/inbound',
          mo({ id: `clash-${kind}`, to: '+33700000002' }),
          { secret: globexSecret },
        )
        assert.equal(globex.status, 200)
        assert.notEqual(globex.json.id, acme.json.id)
        assert.equal(await count('inbound_sms'), before + 1)
        // The same id again on acme is a redelivery: acme's row, nothing new.
        const again = await call('/acme/inbound', mo({ id: `clash-${kind}` }))
        assert.equal(again.json.id, acme.json.id)
        assert.equal(await count('inbound_sms'), before + 1)
      })

      it('answers 401 and stores nothing for a wrong, missing or other account secret', async () => {
        const before = await count('inbound_sms')
        const wrong = await call('/acme/inbound', mo(), { secret: 'not-the-secret' })
        const wrongHeader = await call('/acme/inbound', mo(), { secret: 'nope', via: 'header' })
        const none = await call('/acme/inbound', mo(), { secret: null })
        const other = await call('/acme/inbound', mo(), { secret: globexSecret })
        const unknown = await call('/nobody/inbound', mo(), { secret: acmeSecret })
        const unset = await call('/nosecret/inbound', mo({ to: '+33700000003' }), { secret: '' })
        const unsetAny = await call('/nosecret/inbound', mo({ to: '+33700000003' }), {
          secret: 'x',
        })
        for (const r of [wrong, wrongHeader, none, other, unknown, unset, unsetAny]) {
          assert.equal(r.status, 401)
          assert.equal(r.json.ok, false)
          // The same answer whether the account exists or not.
          assert.deepEqual(r.json, wrong.json)
        }
        assert.equal(await count('inbound_sms'), before)
      })

      it("answers 400 naming the field, and stores nothing, for bad input or another account's number", async () => {
        const before = await count('inbound_sms')
        const noText = await call('/acme/inbound', mo({ text: '' }))
        assert.equal(noText.status, 400)
        assert.match(String(noText.json.error), /^text .*required/)
        const noFrom = await call('/acme/inbound', { to: '+33700000001', text: 'x' })
        assert.match(String(noFrom.json.error), /^from/)
        const globexNumber = await call('/acme/inbound', mo({ to: '+33700000002' }))
        assert.equal(globexNumber.status, 400)
        assert.match(String(globexNumber.json.error), /virtual number \+33700000001/)
        const badJson = await call('/acme/inbound', {}, { raw: '{"from": ' })
        assert.equal(badJson.status, 400)
        assert.match(String(badJson.json.error), /not valid JSON/)
        const array = await call('/acme/inbound', {}, { raw: '[1]' })
        assert.equal(array.status, 400)
        const plain = await call('/acme/inbound', {}, { raw: 'hello', contentType: 'text/plain' })
        assert.equal(plain.status, 415)
        const huge = await call('/acme/inbound', mo({ text: 'x'.repeat(WEBHOOK_MAX_BODY_BYTES) }))
        assert.equal(huge.status, 413)
        assert.equal(await count('inbound_sms'), before)
      })
    })

    describe('status', () => {
      /** An SMS the account sent, with the carrier's id for its one part. */
      async function sentSms(accountId: number, carrierId: string): Promise<number> {
        const now = h.clock.now
        const [id] = await h.db('outbound_sms').insert({
          account_id: accountId,
          sender_email: 'alice@acme.test',
          recipient: '+33612345678',
          body: 'hello',
          encoding: 'gsm7',
          segments: 1,
          status: 'sent',
          attempts: 1,
          next_attempt_at: now,
          source_message_id: '<orig@acme.test>',
          dedupe_key: `st-${carrierId}`,
          created_at: now,
          updated_at: now,
          sent_at: now,
          parts: 1,
        })
        await h.db('outbound_sms_parts').insert({
          sms_id: id,
          part_no: 1,
          smsc_message_id: carrierId,
          state: 'sent',
          created_at: now,
        })
        return Number(id)
      }

      const sms = async (id: number) => h.db('outbound_sms').where({ id }).first()

      it('a delivered callback settles the SMS through the receipt code', async () => {
        const id = await sentSms(h.accounts.acme.id, `d1${kind}`)
        const r = await call('/acme/status', { message_id: `D1${kind}`, status: 'delivered' })
        assert.equal(r.status, 200, JSON.stringify(r.json))
        assert.deepEqual(r.json, { ok: true, id })
        const row = await sms(id)
        assert.equal(row.status, 'delivered')
        assert.equal(row.notice_status, null)
        const event = await h.db('delivery_events').where({ sms_id: id }).first()
        assert.equal(event.state, 'delivered')
        assert.match(event.raw, /^webhook /)
      })

      it('a failed callback (form body) makes the SMS undeliverable and its notice due', async () => {
        const id = await sentSms(h.accounts.acme.id, `f1${kind}`)
        const r = await call(
          '/acme/status',
          { id: `f1${kind}`, status: 'failed', error: 'absent subscriber' },
          { form: true },
        )
        assert.equal(r.status, 200, JSON.stringify(r.json))
        const row = await sms(id)
        assert.equal(row.status, 'undeliverable')
        assert.match(row.last_error, /absent subscriber/)
        assert.equal(row.notice_status, 'due')
        assert.equal(Number(row.notice_next_at), h.clock.now)
      })

      it("cannot settle another account's SMS: 404, nothing stored", async () => {
        const id = await sentSms(h.accounts.globex.id, `g1${kind}`)
        const events = await count('delivery_events')
        const r = await call('/acme/status', { message_id: `g1${kind}`, status: 'failed' })
        assert.equal(r.status, 404)
        assert.equal(r.json.ok, false)
        assert.equal((await sms(id)).status, 'sent')
        assert.equal(await count('delivery_events'), events)
        // Its own account can.
        const own = await call(
          '/globex/status',
          { message_id: `g1${kind}`, status: 'expired' },
          { secret: globexSecret },
        )
        assert.equal(own.status, 200)
        assert.equal((await sms(id)).status, 'expired')
      })

      it('answers 401 with a wrong secret and 400 for an unknown status, changing nothing', async () => {
        const id = await sentSms(h.accounts.acme.id, `b1${kind}`)
        const events = await count('delivery_events')
        const bad = await call(
          '/acme/status',
          { message_id: `b1${kind}`, status: 'failed' },
          { secret: 'x' },
        )
        assert.equal(bad.status, 401)
        const word = await call('/acme/status', { message_id: `b1${kind}`, status: 'great' })
        assert.equal(word.status, 400)
        assert.match(String(word.json.error), /^status must be one of/)
        const noId = await call('/acme/status', { status: 'delivered' })
        assert.equal(noId.status, 400)
        assert.match(String(noId.json.error), /message_id/)
        assert.equal((await sms(id)).status, 'sent')
        assert.equal(await count('delivery_events'), events)
      })
    })

    it('answers a JSON 500 and logs it when storing fails, not the admin error page', async () => {
      const own = await createAdminHarness(kind)
      try {
        await own.db.transaction(async (trx) => {
          await trx('accounts')
            .where({ id: own.accounts.acme.id })
            .update({ virtual_number: '+33700000001' })
          await bumpCacheVersion(trx, 'directory')
        })
        const secret = await rotateWebhookSecret(own.db, own.accounts.acme.id)
        await own.db.schema.dropTable('inbound_sms')
        const res = await own.app.request(`${BASE_URL}/webhooks/acme/inbound`, {
          method: 'POST',
          headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
          body: JSON.stringify(mo()),
        })
        assert.equal(res.status, 500)
        assert.match(res.headers.get('content-type') ?? '', /application\/json/)
        assert.equal(((await res.json()) as { ok: boolean }).ok, false)
        assert.ok(own.logs.some((l) => l.startsWith('webhook error POST /webhooks/acme/inbound')))
      } finally {
        await own.drop()
      }
    })
  })
}
