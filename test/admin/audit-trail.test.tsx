import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { addSender } from '../../lib/db/senders'
import {
  SECRET_CHANGED,
  listAuditEntries,
  recordAuditEntry,
  type AuditEntry,
} from '../../lib/db/audit'
import { accountAuditFields } from '../../lib/db/account-audit'
import { databaseKinds } from '../support/databases'
import {
  BASE_ORIGIN,
  BASE_URL,
  PASSWORD,
  createAdminHarness,
  decoded,
  follow,
  get,
  linkOf,
  login,
  type AdminHarness,
} from './harness'

/**
 * Every change an admin makes to an account, made through its real route, lands in the account's
 * audit log with who, what, to what, before and after, from where and when; a refused change
 * lands nowhere; secrets never land at all. The page itself is tested in audit.test.tsx.
 */

/** Where the requests come from: the entries must say so. */
const REMOTE = '203.0.113.7'
const HOUR = 3_600_000
const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex')
const iso = (ms: number) => new Date(ms).toISOString()

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

for (const kind of databaseKinds()) {
  describe(`admin audit trail: what each route records (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness
    let cookie: string

    const path = (section: string, accountId = h.accounts.acme.id) => `/a/${accountId}/${section}`

    /** A form post as the browser sends it, from REMOTE; repeated fields as arrays. */
    function send(
      to: string,
      fields: Record<string, string | string[]>,
      session = cookie,
    ): Promise<Response> {
      const body = new URLSearchParams()
      for (const [name, value] of Object.entries(fields)) {
        for (const v of Array.isArray(value) ? value : [value]) body.append(name, v)
      }
      return Promise.resolve(
        h.app.request(
          `${BASE_URL}${to}`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              origin: BASE_ORIGIN,
              cookie: session,
            },
            body: body.toString(),
          },
          { incoming: { socket: { remoteAddress: REMOTE } } },
        ),
      )
    }

    /** The account's log, newest first, as lib/db/audit.ts reads it. */
    const entries = async (accountId = h.accounts.acme.id) =>
      (await listAuditEntries(h.db, accountId, {}, 100)).rows
    const latest = async () => (await entries())[0]
    const count = async () => Number((await h.db('audit_log').count({ n: '*' }))[0].n)
    /** The table as stored, every column: what a leaked backup would show. */
    const rawLog = async () => JSON.stringify(await h.db('audit_log').select())

    const makeOperator = () =>
      h.db('admins').where({ id: h.admins.alice.id }).update({ is_operator: true })

    /** Who, where and when, the same for every entry of these tests. */
    function assertWhoWhereWhen(entry: AuditEntry, accountId = h.accounts.acme.id) {
      assert.equal(entry.accountId, accountId)
      assert.equal(entry.adminId, h.admins.alice.id)
      assert.equal(entry.adminEmail, 'alice@acme.test')
      assert.equal(entry.clientIp, REMOTE)
      assert.equal(entry.createdAt, h.clock.now)
    }

    /**
     * The entry's row on the audit page, in French and in English: the admin, the action in
     * the page's words, the subject, the address; and in French, each `change` (field : before
     * → after) as the page shows it.
     */
    async function assertShown(
      entry: AuditEntry,
      label: { fr: string; en: string },
      changes: string[] = [],
    ) {
      for (const lang of ['fr', 'en'] as const) {
        const res = await get(h.app, path('audit'), cookie, { 'accept-language': lang })
        const html = decoded((await res.text()).replace(/>\s+</g, '><'))
        const start = html.indexOf(`<tr id="audit-${entry.id}"`)
        assert.ok(start >= 0, `entry ${entry.id} is not on the page`)
        const row = html.slice(start, html.indexOf('</tr>', start))
        const cells = new RegExp(
          `<td[^>]*>alice@acme\\.test</td><td[^>]*>${escapeRegExp(label[lang])}</td><td class="mono[^"]*"[^>]*>${escapeRegExp(entry.subject)}</td>`,
        )
        assert.match(row, cells, lang)
        assert.match(row, new RegExp(`<td class="mono"[^>]*>${escapeRegExp(REMOTE)}</td>`))
        if (lang === 'fr') {
          for (const change of changes) assert.ok(row.includes(change), `${change}\nnot in\n${row}`)
        }
      }
    }

    /** What the page shows for a field: its label, then before → after. */
    const shown = (field: string, before: string | null, after: string | null) =>
      `<span class="audit-field">${field}</span> : ` +
      (before === null
        ? '<span class="audit-empty">(vide)</span>'
        : `<del class="audit-before">${before}</del>`) +
      ' → ' +
      (after === null
        ? '<span class="audit-empty">(vide)</span>'
        : `<ins class="audit-after">${after}</ins>`)
    const secretShown = (field: string) =>
      `<span class="audit-field">${field}</span> : <span class="audit-after">modifié (valeur non enregistrée)</span>`

    async function assertNoneOf(values: string[]) {
      const raw = await rawLog()
      for (const value of values) assert.ok(!raw.includes(value), `${value} is in the audit log`)
    }

    before(async () => {
      h = await createAdminHarness(kind)
    })
    beforeEach(async () => {
      await h.reset()
      cookie = await login(h.app, 'alice@acme.test', PASSWORD)
    })
    after(async () => h?.drop())

    describe('users', () => {
      const tokenOf = (mail: number) => linkOf(h.mailer.sent[mail].text).slice('/activate/'.length)
      const senderId = async (email: string) =>
        Number((await h.db('account_senders').where({ email }).first('id')).id)

      it('records an invitation: the address and until when its link works, never the link', async () => {
        const res = await send(path('users'), { email: 'New@Acme.test' })
        assert.equal(res.status, 303)
        const entry = await latest()
        assert.equal(await count(), 1)
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'user.invite')
        assert.equal(entry.subject, 'new@acme.test')
        assert.equal(entry.before, null)
        assert.deepEqual(entry.after, {
          email: 'new@acme.test',
          accepted: false,
          invitationExpiresAt: iso(h.clock.now + 72 * HOUR),
        })
        await assertShown(entry, { fr: 'Utilisateur invité', en: 'User invited' }, [
          shown('Adresse e-mail', null, 'new@acme.test'),
          shown('Invitation acceptée', null, 'non'),
          shown('Lien valable jusqu’au', null, '30 nov. 2026, 09:00 UTC'),
        ])
        const token = tokenOf(0)
        await assertNoneOf([token, sha256(token)])
      })

      it('records a resend: the new expiry, and that the link changed, never either link', async () => {
        await send(path('users'), { email: 'p@acme.test' })
        h.clock.advance(HOUR)
        const res = await send(`${path('users')}/${await senderId('p@acme.test')}/resend`, {})
        assert.equal(res.status, 303)
        assert.equal(h.mailer.sent.length, 2)
        const entry = await latest()
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'user.resend')
        assert.equal(entry.subject, 'p@acme.test')
        assert.deepEqual(entry.before, {
          invitationExpiresAt: iso(h.clock.now - HOUR + 72 * HOUR),
          invitationToken: SECRET_CHANGED,
        })
        assert.deepEqual(entry.after, {
          invitationExpiresAt: iso(h.clock.now + 72 * HOUR),
          invitationToken: SECRET_CHANGED,
        })
        await assertShown(entry, { fr: 'Invitation renvoyée', en: 'Invitation sent again' }, [
          shown('Lien valable jusqu’au', '30 nov. 2026, 09:00 UTC', '30 nov. 2026, 10:00 UTC'),
          secretShown('Lien d’invitation'),
        ])
        // Adding an address that is still pending sends it a new link: a resend as well.
        await send(path('users'), { email: 'p@acme.test' })
        assert.equal((await latest()).action, 'user.resend')
        assert.equal(await count(), 3)
        const tokens = [0, 1, 2].map(tokenOf)
        await assertNoneOf([...tokens, ...tokens.map(sha256)])
      })

      it('records the earlier link put back when the new link’s mail could not leave', async () => {
        await send(path('users'), { email: 'p@acme.test' })
        h.clock.advance(HOUR)
        h.mailer.failWith = new Error('relay unreachable')
        const res = await send(`${path('users')}/${await senderId('p@acme.test')}/resend`, {})
        assert.equal(res.status, 303)
        const [restored, resent, invited] = await entries()
        assert.deepEqual(
          [restored.action, resent.action, invited.action],
          ['user.invitation_restore', 'user.resend', 'user.invite'],
        )
        // The reverse of the resend: the link that works is the earlier one again.
        assert.deepEqual(restored.before, resent.after)
        assert.deepEqual(restored.after, resent.before)
        const row = await h.db('account_senders').where({ email: 'p@acme.test' }).first()
        assert.equal(Number(row.invitation_expires_at), h.clock.now - HOUR + 72 * HOUR)
        await assertShown(
          restored,
          {
            fr: 'Invitation non partie : lien précédent rétabli',
            en: 'Invitation not sent: earlier link restored',
          },
          [shown('Lien valable jusqu’au', '30 nov. 2026, 10:00 UTC', '30 nov. 2026, 09:00 UTC')],
        )
        await assertNoneOf([tokenOf(0), sha256(tokenOf(0)), row.invitation_token_hash])
      })

      it('records a deletion once confirmed, with the user as it was', async () => {
        await addSender(h.db, h.accounts.acme.id, 'old@acme.test', { status: 'accepted' })
        const id = await senderId('old@acme.test')
        const unconfirmed = await send(`${path('users')}/${id}/delete`, {})
        assert.equal(unconfirmed.status, 303)
        assert.equal(await count(), 0)
        const res = await send(`${path('users')}/${id}/delete`, { confirm: 'yes' })
        assert.equal(res.status, 303)
        const entry = await latest()
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'user.delete')
        assert.equal(entry.subject, 'old@acme.test')
        assert.deepEqual(entry.before, { email: 'old@acme.test', accepted: true })
        assert.equal(entry.after, null)
        await assertShown(entry, { fr: 'Utilisateur effacé', en: 'User deleted' }, [
          shown('Adresse e-mail', 'old@acme.test', null),
          shown('Invitation acceptée', 'oui', null),
        ])
      })

      it('records nothing for a refused invitation (400)', async () => {
        await addSender(h.db, h.accounts.acme.id, 'in@acme.test', { status: 'accepted' })
        assert.equal((await send(path('users'), { email: 'in@acme.test' })).status, 400)
        assert.equal((await send(path('users'), { email: 'not an address' })).status, 400)
        assert.equal(await count(), 0)
      })
    })

    describe('preferences and receiving', () => {
      const preferences = {
        signatureMarker: '',
        senderName: 'AcmeSMS',
        defaultCountry: 'FR',
        segmentCap: '6',
      }

      it('records only the preferences a save changed, before and after', async () => {
        const res = await send(path('preferences'), preferences)
        assert.equal(res.status, 303)
        const entry = await latest()
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'preferences.update')
        assert.equal(entry.subject, 'acme')
        assert.deepEqual(entry.before, { senderName: null, segmentCap: 4 })
        assert.deepEqual(entry.after, { senderName: 'AcmeSMS', segmentCap: 6 })
        await assertShown(entry, { fr: 'Préférences modifiées', en: 'Preferences changed' }, [
          shown('Nom d’émetteur', null, 'AcmeSMS'),
          shown('Nombre maximal de SMS par e-mail', '4', '6'),
        ])
        // Saved again as it is: nothing changed, nothing recorded. (A minute later: MySQL counts
        // a row whose every value stays, updated_at too, as not found.)
        h.clock.advance(60_000)
        assert.equal((await send(path('preferences'), preferences)).status, 303)
        assert.equal(await count(), 1)
        // The checkbox alone.
        await send(path('preferences'), { ...preferences, gsmOnly: 'on' })
        assert.deepEqual((await latest()).before, { gsmOnly: false })
        assert.deepEqual((await latest()).after, { gsmOnly: true })
      })

      it('records nothing for a refused save (400), and changes nothing', async () => {
        const res = await send(path('preferences'), { ...preferences, segmentCap: '99' })
        assert.equal(res.status, 400)
        assert.equal(await count(), 0)
        const row = await h.db('accounts').where({ id: h.accounts.acme.id }).first()
        assert.equal(row.sender_name, null)
      })

      it('records the receiving settings a save changed', async () => {
        const res = await send(path('receiving'), {
          forwardAddresses: 'a@acme.test, B@acme.test',
          directReply: 'on',
          failureNotices: 'on',
        })
        assert.equal(res.status, 303)
        const entry = await latest()
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'receiving.update')
        assert.deepEqual(entry.before, { forwardAddresses: [], directReply: false })
        assert.deepEqual(entry.after, {
          forwardAddresses: ['a@acme.test', 'b@acme.test'],
          directReply: true,
        })
        await assertShown(entry, { fr: 'Réception modifiée', en: 'Receiving settings changed' }, [
          shown('Transfert d’e-mail', null, 'a@acme.test, b@acme.test'),
          shown('Réponse directe', 'non', 'oui'),
        ])
        await send(path('receiving'), { forwardAddresses: 'a@acme.test' })
        const next = await latest()
        assert.deepEqual(next.before, {
          forwardAddresses: ['a@acme.test', 'b@acme.test'],
          directReply: true,
          failureNotices: true,
        })
        assert.deepEqual(next.after, {
          forwardAddresses: ['a@acme.test'],
          directReply: false,
          failureNotices: false,
        })
        assert.equal((await send(path('receiving'), { forwardAddresses: 'x@' })).status, 400)
        assert.equal(await count(), 2)
      })

      it('records the webhook secret generated, replaced and cleared, never the secret', async () => {
        const generate = async (fields: Record<string, string>) => {
          const res = await send(`${path('receiving')}/webhook-secret`, fields)
          assert.equal(res.status, 303)
          const page = await (await follow(h.app, res, cookie)).res.text()
          const match = /Authorization: Bearer ([A-Za-z0-9_-]{43})</.exec(page)
          assert.ok(match, 'no secret shown')
          return match[1]
        }
        const first = await generate({})
        const generated = await latest()
        assertWhoWhereWhen(generated)
        assert.equal(generated.action, 'webhook_secret.generate')
        assert.deepEqual(generated.before, {})
        assert.deepEqual(generated.after, { webhookSecret: SECRET_CHANGED })
        // Replacing asks first: not confirmed, nothing is replaced or recorded.
        const unconfirmed = await send(`${path('receiving')}/webhook-secret`, {})
        assert.equal(unconfirmed.headers.get('location'), `${path('receiving')}/webhook-secret`)
        assert.equal(await count(), 1)
        const second = await generate({ confirm: 'yes' })
        const replaced = await latest()
        assert.equal(replaced.action, 'webhook_secret.replace')
        assert.deepEqual(replaced.before, { webhookSecret: SECRET_CHANGED })
        assert.deepEqual(replaced.after, { webhookSecret: SECRET_CHANGED })
        const res = await send(`${path('receiving')}/webhook-secret/clear`, { confirm: 'yes' })
        assert.equal(res.status, 303)
        const cleared = await latest()
        assert.equal(cleared.action, 'webhook_secret.clear')
        assert.deepEqual(cleared.before, { webhookSecret: SECRET_CHANGED })
        assert.deepEqual(cleared.after, {})
        for (const [entry, label] of [
          [generated, { fr: 'Secret des webhooks généré', en: 'Webhook secret generated' }],
          [replaced, { fr: 'Secret des webhooks remplacé', en: 'Webhook secret replaced' }],
          [cleared, { fr: 'Secret des webhooks effacé', en: 'Webhook secret cleared' }],
        ] as const) {
          await assertShown(entry, label, [secretShown('Secret des webhooks')])
        }
        await assertNoneOf([first, second, sha256(first), sha256(second)])
      })

      it('records the virtual number an operator sets and clears; nothing when refused', async () => {
        const post = (virtualNumber: string) =>
          send(`${path('receiving')}/virtual-number`, { virtualNumber })
        assert.equal((await post('+33700000009')).status, 403)
        await makeOperator()
        await h
          .db('accounts')
          .where({ id: h.accounts.globex.id })
          .update({ virtual_number: '+33700000002' })
        assert.equal((await post('+33700000002')).status, 409)
        assert.equal((await post('06 12')).status, 400)
        assert.equal(await count(), 0)
        assert.equal((await post('07 00 00 00 09')).status, 303)
        const set = await latest()
        assertWhoWhereWhen(set)
        assert.equal(set.action, 'virtual_number.set')
        assert.equal(set.subject, '+33700000009')
        assert.deepEqual(set.before, { virtualNumber: null })
        assert.deepEqual(set.after, { virtualNumber: '+33700000009' })
        await assertShown(set, { fr: 'Numéro virtuel attribué', en: 'Virtual number set' }, [
          shown('Numéro virtuel', null, '+33700000009'),
        ])
        assert.equal((await post('')).status, 303)
        const cleared = await latest()
        assert.equal(cleared.action, 'virtual_number.clear')
        assert.equal(cleared.subject, '+33700000009')
        assert.deepEqual(cleared.after, { virtualNumber: null })
        await assertShown(cleared, { fr: 'Numéro virtuel retiré', en: 'Virtual number removed' })
      })
    })

    describe('IP addresses', () => {
      it('records an address added, blocks added together, and a deletion once confirmed', async () => {
        assert.equal(
          (await send(path('ips'), { address: '192.0.2.10', note: 'Relais' })).status,
          303,
        )
        const added = await latest()
        assertWhoWhereWhen(added)
        const [stored] = await h.db('account_ip_allowlist').select()
        assert.equal(added.action, 'ip.add')
        assert.equal(added.subject, stored.cidr)
        assert.equal(added.before, null)
        assert.deepEqual(added.after, { cidr: stored.cidr, note: 'Relais' })
        await assertShown(added, { fr: 'Adresse IP ajoutée', en: 'IP address added' }, [
          shown('Adresse IP', null, stored.cidr),
          shown('Note', null, 'Relais'),
        ])

        const blocks = ['198.51.100.0/25', '198.51.100.128/26']
        assert.equal(
          (await send(`${path('ips')}/blocks`, { block: blocks, note: 'Bureau' })).status,
          303,
        )
        const range = await latest()
        assert.equal(range.action, 'ip.add_blocks')
        assert.equal(range.subject, '198.51.100.0/25 … 198.51.100.128/26')
        assert.deepEqual(range.after, { cidrs: blocks, note: 'Bureau' })
        await assertShown(
          range,
          { fr: 'Blocs d’adresses IP ajoutés', en: 'IP address blocks added' },
          [shown('Adresses IP', null, blocks.join(', '))],
        )
        // Posted again: all present, nothing added, nothing recorded.
        await send(`${path('ips')}/blocks`, { block: blocks, note: 'Bureau' })
        assert.equal(await count(), 2)

        const unconfirmed = await send(`${path('ips')}/delete`, { id: String(stored.id) })
        assert.equal(unconfirmed.status, 303)
        assert.equal(await count(), 2)
        const res = await send(`${path('ips')}/delete`, { id: String(stored.id), confirm: 'yes' })
        assert.equal(res.status, 303)
        const removed = await latest()
        assert.equal(removed.action, 'ip.delete')
        assert.equal(removed.subject, stored.cidr)
        assert.deepEqual(removed.before, { cidr: stored.cidr, note: 'Relais' })
        assert.equal(removed.after, null)
        await assertShown(removed, { fr: 'Adresse IP effacée', en: 'IP address deleted' })
      })

      it('records nothing for a refused address (400)', async () => {
        await send(path('ips'), { address: '192.0.2.10', note: '' })
        assert.equal((await send(path('ips'), { address: '192.0.2.10', note: '' })).status, 400)
        assert.equal((await send(path('ips'), { address: '0.0.0.0/0', note: '' })).status, 400)
        assert.equal(await count(), 1)
      })
    })

    describe('limits', () => {
      const limits = {
        smsPerMinute: '10',
        senderSmsPerMinute: '',
        segmentsPerDay: '',
        segmentsPerMonth: '',
        destinations: 'BE, DE',
      }

      it('records nothing when an account admin tries (403)', async () => {
        assert.equal((await send(path('limits'), limits)).status, 403)
        assert.equal(await count(), 0)
      })

      it('records the limits an operator changed, before and after', async () => {
        await makeOperator()
        assert.equal((await send(path('limits'), limits)).status, 303)
        const entry = await latest()
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'limits.update')
        assert.equal(entry.subject, 'acme')
        assert.deepEqual(entry.before, { smsPerMinute: null, allowedDestinations: null })
        assert.deepEqual(entry.after, { smsPerMinute: 10, allowedDestinations: ['BE', 'DE'] })
        await assertShown(
          entry,
          { fr: 'Limites d’envoi modifiées', en: 'Sending limits changed' },
          [
            shown('SMS par minute (compte)', null, '10'),
            shown('Destinations autorisées', null, 'BE, DE'),
          ],
        )
        // Back to the default: an empty field, shown as empty.
        await send(path('limits'), { ...limits, smsPerMinute: '' })
        assert.deepEqual((await latest()).before, { smsPerMinute: 10 })
        assert.deepEqual((await latest()).after, { smsPerMinute: null })
        assert.equal((await send(path('limits'), { ...limits, smsPerMinute: 'x' })).status, 400)
        assert.equal(await count(), 2)
      })
    })

    describe('test SMS', () => {
      async function form(): Promise<string> {
        const html = await (await get(h.app, path('test-sms'), cookie)).text()
        const match = /<input type="hidden" name="form_id" value="([\w-]+)"\/>/.exec(html)
        assert.ok(match, 'no form_id')
        return match[1]
      }

      it('records a test SMS queued, with its number and id; not a repeat, not a refusal', async () => {
        const fields = { form_id: await form(), number: '06 12 34 56 78', text: 'Essai' }
        assert.equal((await send(path('test-sms'), fields)).status, 303)
        const [sms] = await h.db('outbound_sms').select('id')
        const entry = await latest()
        assertWhoWhereWhen(entry)
        assert.equal(entry.action, 'test_sms.queue')
        assert.equal(entry.subject, '+33612345678')
        assert.deepEqual(entry.after, {
          number: '+33612345678',
          smsId: Number(sms.id),
          segments: 1,
        })
        await assertShown(
          entry,
          { fr: 'SMS de test mis en file d’attente', en: 'Test SMS queued' },
          [shown('Numéro', null, '+33612345678'), shown('N° du SMS', null, String(sms.id))],
        )
        // The same form again queues nothing; a bad number is refused (400).
        assert.equal((await send(path('test-sms'), fields)).status, 303)
        const bad = { form_id: await form(), number: '06 12', text: 'Essai' }
        assert.equal((await send(path('test-sms'), bad)).status, 400)
        assert.equal(await count(), 1)
      })
    })

    it('has words in both languages for every field an entry may hold', async () => {
      const account = await h.db('accounts').where({ id: h.accounts.acme.id }).first()
      const others = ['email', 'accepted', 'invitationExpiresAt', 'invitationToken']
      others.push('cidr', 'cidrs', 'note', 'number', 'smsId', 'segments', 'reason')
      const names = [...Object.keys(accountAuditFields(account)), ...others]
      await recordAuditEntry(h.db, {
        accountId: h.accounts.acme.id,
        adminId: h.admins.alice.id,
        adminEmail: 'alice@acme.test',
        action: 'preferences.update',
        subject: 'acme',
        after: Object.fromEntries(names.map((name) => [name, 'x'])),
        at: h.clock.now,
      })
      for (const lang of ['fr', 'en']) {
        const res = await get(h.app, path('audit'), cookie, { 'accept-language': lang })
        const html = decoded(await res.text())
        const labels = [...html.matchAll(/<span class="audit-field">([^<]*)<\/span>/g)]
        assert.equal(labels.length, names.length)
        for (const name of names) {
          assert.ok(!html.includes(`<span class="audit-field">${name}</span>`), `${lang}: ${name}`)
        }
      }
    })

    describe('one account, one transaction', () => {
      it('records a change in the account it was made in only', async () => {
        const bob = await login(h.app, 'bob@multi.test', PASSWORD)
        const res = await send(
          path('preferences', h.accounts.globex.id),
          { signatureMarker: 'Bob', senderName: '', defaultCountry: 'FR', segmentCap: '4' },
          bob,
        )
        assert.equal(res.status, 303)
        assert.deepEqual(await entries(), [])
        const [entry] = await entries(h.accounts.globex.id)
        assert.equal(entry.adminEmail, 'bob@multi.test')
        assert.equal(entry.subject, 'globex')
        assert.deepEqual(entry.after, { signatureMarker: 'Bob' })
        // Alice does not administer globex: its log is not hers to read.
        assert.equal((await get(h.app, path('audit', h.accounts.globex.id), cookie)).status, 404)
      })

      it('keeps no change whose entry could not be written', async () => {
        // The audit table refuses every row, as a full disk would.
        if (kind === 'sqlite') {
          await h.db.raw(
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END",
          )
        } else {
          await h.db.raw(
            "CREATE TRIGGER audit_refused BEFORE INSERT ON audit_log FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'audit refused'",
          )
        }
        try {
          await addSender(h.db, h.accounts.acme.id, 'kept@acme.test', { status: 'accepted' })
          const senderId = (await h.db('account_senders').first('id')).id
          await makeOperator()
          for (const [to, fields] of [
            [path('preferences'), { senderName: 'Lost', defaultCountry: 'FR', segmentCap: '4' }],
            [path('limits'), { smsPerMinute: '5', destinations: '' }],
            [path('ips'), { address: '192.0.2.10', note: '' }],
            [`${path('users')}/${senderId}/delete`, { confirm: 'yes' }],
            [path('users'), { email: 'lost@acme.test' }],
            [`${path('receiving')}/virtual-number`, { virtualNumber: '+33700000009' }],
          ] as const) {
            assert.equal((await send(to, fields)).status, 500, to)
          }
          const account = await h.db('accounts').where({ id: h.accounts.acme.id }).first()
          assert.equal(account.sender_name, null)
          assert.equal(account.sms_per_minute, null)
          assert.equal(account.virtual_number, null)
          assert.deepEqual(await h.db('account_ip_allowlist').select(), [])
          const emails = (await h.db('account_senders').select('email')).map((r) => r.email)
          assert.deepEqual(emails, ['kept@acme.test'])
        } finally {
          await h.db.raw('DROP TRIGGER audit_refused')
        }
      })
    })
  })
}
