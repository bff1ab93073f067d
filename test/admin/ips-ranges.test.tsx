import assert from 'node:assert/strict'
import { addAllowedIp } from '../../lib/db/allowlist'
import { readCacheVersion } from '../../lib/db/versions'
import { databaseKinds } from '../support/databases'
import {
  BASE_ORIGIN,
  BASE_URL,
  decoded,
  follow,
  openSection,
  postForm,
  type AdminHarness,
} from './harness'

/** The hidden `block` fields of the page's one-click forms, in order. */
function offeredBlocks(html: string): string[] {
  return [...html.matchAll(/<input type="hidden" name="block" value="([^"]+)"\/>/g)].map(
    (m) => m[1],
  )
}

for (const kind of databaseKinds()) {
  describe(`admin ips: ranges and the networks meant (${kind})`, () => {
    let h: AdminHarness
    let cookie: string
    let base: string
    let globexBase: string

    const cidrsOf = async (accountId: number) =>
      (await h.db('account_ip_allowlist').where({ account_id: accountId }).orderBy('id')).map(
        (r: { cidr: string }) => r.cidr,
      )
    const add = (address: string, lang = 'fr', note = '') =>
      postForm(h.app, base, { address, note }, { cookie, headers: { 'accept-language': lang } })
    /** Posts the blocks as the page's form does: one `block` field each. */
    const postBlocks = (path: string, blocks: string[], note = '', lang = 'fr') => {
      const body = new URLSearchParams(blocks.map((b): [string, string] => ['block', b]))
      body.set('note', note)
      return Promise.resolve(
        h.app.request(`${BASE_URL}${path}/blocks`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            origin: BASE_ORIGIN,
            cookie,
            'accept-language': lang,
          },
          body: body.toString(),
        }),
      )
    }

    before(async () => {
      ;({ h, cookie, base, globexBase } = await openSection(kind, 'ips'))
    })
    beforeEach(async () => {
      await h.db('account_ip_allowlist').delete()
    })
    after(async () => h?.drop())

    it('shows the CIDR blocks of a range and adds exactly those in one click', async () => {
      const res = await add('192.168.1.1-192.168.1.20', 'fr', 'Relais')
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      const blocks = [
        '192.168.1.1/32',
        '192.168.1.2/31',
        '192.168.1.4/30',
        '192.168.1.8/29',
        '192.168.1.16/30',
        '192.168.1.20/32',
      ]
      assert.ok(html.includes('<h2 id="ip-proposal-title">Ajouter cette plage d’adresses</h2>'))
      assert.ok(
        html.includes(
          'La plage « 192.168.1.1-192.168.1.20 » correspond exactement à ces 6 blocs CIDR :',
        ),
      )
      for (const block of blocks) assert.ok(html.includes(`<li><code>${block}</code></li>`), block)
      assert.deepEqual(offeredBlocks(html), blocks)
      assert.match(html, /<form method="post" action="[^"]+\/ips\/blocks">/)
      assert.ok(html.includes('<input type="hidden" name="note" value="Relais"/>'))
      assert.ok(html.includes('>Ajouter ces 6 blocs</button>'))
      // The range stays in the field; nothing is stored before the click.
      assert.ok(html.includes('value="192.168.1.1-192.168.1.20"'))
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])

      const version = await readCacheVersion(h.db, 'directory')
      const added = await postBlocks(base, blocks, 'Relais')
      assert.equal(added.status, 303)
      assert.equal(added.headers.get('location'), base)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), blocks)
      const rows = await h.db('account_ip_allowlist').where({ account_id: h.accounts.acme.id })
      assert.ok(rows.every((r: { note: string }) => r.note === 'Relais'))
      assert.equal(await readCacheVersion(h.db, 'directory'), version + 1)
      const page = decoded(await (await follow(h.app, added, cookie)).res.text())
      assert.ok(page.includes(`Ces 6 plages sont autorisées : ${blocks.join(', ')}.`))
    })

    it('reads ranges with spaces, an en dash, IPv6 and IPv4-mapped ends', async () => {
      const cases: Array<[string, string[]]> = [
        [' 192.0.2.0 - 192.0.2.255 ', ['192.0.2.0/24']],
        ['192.0.2.0 – 192.0.2.1', ['192.0.2.0/31']],
        ['2001:db8::1 - 2001:db8::3', ['2001:db8::1/128', '2001:db8::2/127']],
        ['::ffff:198.51.100.0-198.51.100.3', ['198.51.100.0/30']],
      ]
      for (const [range, blocks] of cases) {
        const res = await add(range, 'en')
        assert.equal(res.status, 200, range)
        const html = decoded(await res.text())
        assert.deepEqual(offeredBlocks(html), blocks, range)
        const n = blocks.length
        assert.ok(
          html.includes(
            n === 1 ? `is exactly this CIDR block:` : `is exactly these ${n} CIDR blocks:</p>`,
          ),
          range,
        )
        assert.ok(html.includes(n === 1 ? '>Add this block</button>' : `>Add these ${n} blocks`))
      }
    })

    const REFUSED: Array<[string, string]> = [
      [
        '192.168.1.20-192.168.1.1',
        '« 192.168.1.20-192.168.1.1 » : la première adresse vient après la seconde. Écrivez la plus basse en premier',
      ],
      [
        '192.0.2.1 - 2001:db8::1',
        '« 192.0.2.1 - 2001:db8::1 » va d’une adresse IPv4 à une adresse IPv6',
      ],
      [
        '192.0.2.0/24-192.0.3.0',
        '« 192.0.2.0/24-192.0.3.0 » n’est pas une plage d’adresses : écrivez la première et la dernière adresse IP séparées par un tiret',
      ],
      [
        '0.0.0.0-255.255.255.255',
        '« 0.0.0.0-255.255.255.255 » couvre tout l’Internet (toutes les adresses IPv4) : n’importe quel serveur pourrait alors envoyer des SMS au nom des utilisateurs de ce compte.',
      ],
      [
        ':: - ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
        'couvre tout l’Internet (toutes les adresses IPv6)',
      ],
      [
        '2001:db8::1-2001:db8::3:ffff:fffe',
        'Cette plage correspond à 66 blocs CIDR, et 64 au plus s’ajoutent à la fois',
      ],
    ]
    for (const [range, message] of REFUSED) {
      it(`refuses the range ${JSON.stringify(range)} in French, offering nothing`, async () => {
        const res = await add(range)
        assert.equal(res.status, 400)
        const html = decoded(await res.text())
        assert.ok(html.includes(message), html.slice(html.indexOf('field-error') - 200))
        assert.deepEqual(offeredBlocks(html), [])
        assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
      })
    }

    it('does not offer what the list already holds, and says so', async () => {
      await addAllowedIp(h.db, h.accounts.acme.id, '192.168.1.0/29')
      const res = await add('192.168.1.1-192.168.1.20')
      assert.equal(res.status, 200)
      const html = decoded(await res.text())
      assert.ok(html.includes('<li><code>192.168.1.1/32</code> (déjà autorisée)</li>'))
      assert.ok(html.includes('<li><code>192.168.1.8/29</code></li>'))
      assert.deepEqual(offeredBlocks(html), [
        '192.168.1.8/29',
        '192.168.1.16/30',
        '192.168.1.20/32',
      ])
      assert.ok(html.includes('>Ajouter ces 3 blocs</button>'))

      const all = await add('192.168.1.2-192.168.1.5')
      assert.equal(all.status, 400)
      assert.ok(
        decoded(await all.text()).includes(
          'Toutes les adresses de « 192.168.1.2-192.168.1.5 » sont déjà autorisées pour ce compte.',
        ),
      )
    })

    it('refuses a range that takes the list past the coverage limit, judged as a whole', async () => {
      // 65,537 addresses: each block fits the /16 limit alone, not all of them together.
      const res = await add('10.0.0.0-10.1.0.0')
      assert.equal(res.status, 400)
      const html = decoded(await res.text())
      assert.ok(
        html.includes(
          "Avec cette entrée, la liste couvrirait 65\u202f537 adresses IPv4, alors que l'opérateur en permet au plus 65\u202f536 adresses IPv4 (un /16). C’est trop : tout serveur de ces adresses pourrait envoyer des SMS au nom des utilisateurs de ce compte.",
        ),
      )
      assert.deepEqual(offeredBlocks(html), [])
      // The same blocks posted by hand: all or none.
      const posted = await postBlocks(base, ['10.0.0.0/16', '10.1.0.0/32'])
      assert.equal(posted.status, 400)
      assert.match(decoded(await posted.text()), /la liste couvrirait 65\u202f537 adresses IPv4/)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
    })

    it('takes only blocks in the list’s own form, 64 at most, a short note', async () => {
      for (const blocks of [
        [],
        ['192.0.2.1'],
        ['192.0.2.0/24', '192.0.2.7/24'],
        ['0.0.0.0/0'],
        ['2001:DB8::/48'],
        Array.from({ length: 65 }, (_, i) => `192.0.2.${i}/32`),
      ]) {
        const res = await postBlocks(base, blocks)
        assert.equal(res.status, 400, blocks.join(' '))
      }
      assert.equal((await postBlocks(base, ['192.0.2.0/24'], 'n'.repeat(201))).status, 400)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
      const sixtyFour = Array.from({ length: 64 }, (_, i) => `192.0.2.${i}/32`)
      assert.equal((await postBlocks(base, sixtyFour)).status, 303)
      assert.equal((await cidrsOf(h.accounts.acme.id)).length, 64)
    })

    it('skips blocks added meanwhile, and says when there was nothing left to add', async () => {
      await addAllowedIp(h.db, h.accounts.acme.id, '192.0.2.0/31')
      const res = await postBlocks(base, ['192.0.2.0/31', '192.0.2.2/32'])
      assert.equal(res.status, 303)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['192.0.2.0/31', '192.0.2.2/32'])
      const again = await postBlocks(base, ['192.0.2.0/31', '192.0.2.2/32'])
      assert.equal(again.status, 303)
      const page = decoded(await (await follow(h.app, again, cookie)).res.text())
      assert.ok(page.includes('Ces plages étaient déjà autorisées pour ce compte.'))
    })

    it('adds nothing to an account the admin does not administer', async () => {
      const res = await postBlocks(globexBase, ['192.0.2.0/24'])
      assert.equal(res.status, 404)
      assert.deepEqual(await cidrsOf(h.accounts.globex.id), [])
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
    })

    it('offers the network and the address an entry with host bits meant', async () => {
      const res = await add('192.0.2.7/24', 'fr', 'Relais')
      assert.equal(res.status, 400)
      const html = decoded(await res.text())
      assert.ok(html.includes('Vous pensiez sans doute au réseau 192.0.2.0/24'))
      assert.ok(
        html.includes('<h2 id="ip-proposal-title">Ce que vous vouliez peut-être ajouter</h2>'),
      )
      assert.deepEqual(offeredBlocks(html), ['192.0.2.0/24', '192.0.2.7/32'])
      assert.ok(html.includes('>Ajouter le réseau 192.0.2.0/24</button>'))
      assert.ok(html.includes('>Ajouter 192.0.2.7 seule</button>'))
      const added = await postBlocks(base, ['192.0.2.0/24'], 'Relais')
      assert.equal(added.status, 303)
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), ['192.0.2.0/24'])
      const page = decoded(await (await follow(h.app, added, cookie)).res.text())
      assert.ok(page.includes('192.0.2.0/24 est autorisée.'))

      // Now held: the page says so rather than offer it again.
      const again = decoded(await (await add('192.0.2.9/24')).text())
      assert.ok(again.includes('<p>192.0.2.0/24 est déjà autorisée pour ce compte.</p>'))
      assert.ok(again.includes('<p>192.0.2.9/32 est déjà autorisée pour ce compte.</p>'))
      assert.deepEqual(offeredBlocks(again), [])
    })

    it('names a network past the coverage limit without offering it (10.0.0.5/8, IPv6)', async () => {
      const html = decoded(await (await add('10.0.0.5/8')).text())
      assert.ok(
        html.includes(
          '« 10.0.0.5/8 » désigne une adresse à l’intérieur d’une plage, pas le début de cette plage',
        ),
      )
      assert.ok(html.includes('Vous pensiez sans doute au réseau 10.0.0.0/8'))
      assert.ok(
        html.includes(
          '<p>10.0.0.0/8 couvrirait plus d’adresses que l’opérateur n’en permet pour ce compte.</p>',
        ),
      )
      assert.deepEqual(offeredBlocks(html), ['10.0.0.5/32'])
      assert.ok(!html.includes("n'est pas une adresse IP"))

      const v6 = decoded(await (await add('2001:db8::1/32', 'en')).text())
      assert.ok(
        v6.includes(
          '"2001:db8::1/32" names an address inside a range, not the start of the range (host bits are set after the prefix). You probably meant the network 2001:db8::/32; for that one address alone, enter 2001:db8::1.',
        ),
      )
      assert.ok(v6.includes('<p>2001:db8::/32 would cover more addresses than the operator'))
      assert.deepEqual(offeredBlocks(v6), ['2001:db8::1/128'])
      assert.ok(v6.includes('>Add 2001:db8::1 alone</button>'))
      const v6ok = decoded(await (await add('2001:db8:0:1::5/64', 'en')).text())
      assert.deepEqual(offeredBlocks(v6ok), ['2001:db8:0:1::/64', '2001:db8:0:1::5/128'])
    })

    it('calls /0 in every form the whole Internet, in both languages', async () => {
      for (const [address, family] of [
        ['0.0.0.0/0', 4],
        ['10.0.0.5/0', 4],
        ['::/0', 6],
        ['2001:db8::/0', 6],
        ['::ffff:0.0.0.0/96', 4],
      ] as const) {
        const fr = decoded(await (await add(address)).text())
        assert.ok(
          fr.includes(
            `« ${address} » couvre tout l’Internet (toutes les adresses IPv${family}) : n’importe quel serveur pourrait alors envoyer des SMS au nom des utilisateurs de ce compte.`,
          ),
          address,
        )
        assert.deepEqual(offeredBlocks(fr), [], address)
        const en = decoded(await (await add(address, 'en')).text())
        assert.ok(
          en.includes(
            `"${address}" covers the whole Internet (every IPv${family} address): any server at all could then send SMS as this account’s users.`,
          ),
          address,
        )
      }
      assert.deepEqual(await cidrsOf(h.accounts.acme.id), [])
    })
  })
}
