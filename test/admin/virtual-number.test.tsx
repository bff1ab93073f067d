import assert from 'node:assert/strict'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import { decoded, follow, get, openSection, postForm, type AdminHarness } from './harness'

for (const kind of databaseKinds()) {
  describe(`admin receiving: the virtual number, set by operators (${kind})`, function () {
    this.timeout(30_000)
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const numberOf = async (id: number) =>
      (await h.db('accounts').where({ id }).first()).virtual_number as string | null
    const makeOperator = (yes: boolean) =>
      h.db('admins').where({ id: h.admins.alice.id }).update({ is_operator: yes })
    const post = (number: string, options: { origin?: string; omitOrigin?: boolean } = {}) =>
      postForm(h.app, `${base}/virtual-number`, { virtualNumber: number }, { cookie, ...options })

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'receiving'))
    })
    beforeEach(async () => {
      await h.db('accounts').update({ virtual_number: null })
      await makeOperator(false)
    })
    after(async () => h?.drop())

    it('shows account admins the number but no form, and refuses their change with 403', async () => {
      await h
        .db('accounts')
        .where({ id: h.accounts.acme.id })
        .update({ virtual_number: '+33700000001' })
      const html = decoded(await (await get(h.app, base, cookie)).text())
      assert.ok(html.includes('<strong class="virtual-number">+33700000001</strong>'))
      assert.doesNotMatch(html, /\/virtual-number"|name="virtualNumber"/)
      const res = await post('+33700000002')
      assert.equal(res.status, 403)
      assert.equal(await numberOf(h.accounts.acme.id), '+33700000001')
    })

    it('lets an operator set it, in national form, and the MX’s cache is told', async () => {
      await makeOperator(true)
      const page = decoded(await (await get(h.app, base, cookie)).text())
      assert.match(page, new RegExp(`<form method="post" action="${base}/virtual-number"`))
      assert.match(page, /<label for="virtualNumber">Changer le numéro virtuel<\/label>/)
      const before = await readCacheVersion(h.db, 'directory')
      const res = await post('07 00 00 00 09')
      assert.equal(res.status, 303)
      assert.equal(res.headers.get('location'), base)
      assert.equal(await numberOf(h.accounts.acme.id), '+33700000009')
      assert.ok((await readCacheVersion(h.db, 'directory')) > before)
      const { res: shown } = await follow(h.app, res, cookie)
      const html = decoded(await shown.text())
      assert.ok(html.includes('Le numéro virtuel du compte est maintenant +33700000009.'))
      assert.ok(html.includes('<strong class="virtual-number">+33700000009</strong>'))
      assert.match(html, /name="virtualNumber" type="tel" value="\+33700000009"/)
    })

    it('refuses what is not a number, and another account’s number, naming that account', async () => {
      await makeOperator(true)
      await h
        .db('accounts')
        .where({ id: h.accounts.acme.id })
        .update({ virtual_number: '+33700000001' })
      await h
        .db('accounts')
        .where({ id: h.accounts.globex.id })
        .update({ virtual_number: '+33700000002' })
      const bad = await post('06 12')
      assert.equal(bad.status, 400)
      const badHtml = decoded(await bad.text())
      assert.ok(badHtml.includes('« 06 12 » n’est pas un numéro de téléphone valide.'))
      assert.match(badHtml, /name="virtualNumber" type="tel" value="06 12"/)
      const taken = await post('+33 7 00 00 00 02')
      assert.equal(taken.status, 409)
      assert.ok(
        decoded(await taken.text()).includes(
          '+33700000002 est déjà le numéro virtuel du compte « globex ».',
        ),
      )
      assert.equal(await numberOf(h.accounts.acme.id), '+33700000001')
      assert.equal(await numberOf(h.accounts.globex.id), '+33700000002')
    })

    it('lets an operator take the number away with an empty field', async () => {
      await makeOperator(true)
      await h
        .db('accounts')
        .where({ id: h.accounts.acme.id })
        .update({ virtual_number: '+33700000001' })
      const res = await post('  ')
      assert.equal(res.status, 303)
      assert.equal(await numberOf(h.accounts.acme.id), null)
      const { res: shown } = await follow(h.app, res, cookie)
      assert.ok(decoded(await shown.text()).includes('Le compte n’a plus de numéro virtuel.'))
    })

    it('keeps an operator to the accounts they administer, and to the admin’s origin', async () => {
      await makeOperator(true)
      const other = await postForm(
        h.app,
        `${globexBase}/virtual-number`,
        { virtualNumber: '+33700000003' },
        { cookie },
      )
      assert.equal(other.status, 404)
      assert.equal(await numberOf(h.accounts.globex.id), null)
      assert.equal((await post('+33700000003', { omitOrigin: true })).status, 403)
      assert.equal((await post('+33700000003', { origin: 'http://evil.test' })).status, 403)
      assert.equal(await numberOf(h.accounts.acme.id), null)
    })
  })
}
