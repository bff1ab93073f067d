import assert from 'node:assert/strict'
import Database from 'better-sqlite3'
import { createAccount } from '../../../lib/db/accounts'
import {
  acceptMoPart,
  MISSING_PART_MARK,
  sweepParts,
  type AssemblyOptions,
} from '../../../lib/inbound/assembly'
import type { MoPart } from '../../../lib/inbound/decode'
import { encodeGsm7 } from '../../../lib/sms/gsm7'
import { encodeUcs2 } from '../../../lib/sms/ucs2'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../support/databases'

const options: AssemblyOptions = { source: 'smpp' }

/** Splits `octets` into `total` parts of one set, as a phone would. */
function parts(octets: Buffer, total: number, ref: number, fields: Partial<MoPart> = {}): MoPart[] {
  const size = Math.ceil(octets.length / total)
  return Array.from({ length: total }, (_, i) => ({
    from: '33612345678',
    fromTon: 1,
    to: '33700000001',
    toTon: 1,
    dataCoding: 8,
    body: octets.subarray(i * size, (i + 1) * size),
    concat: { ref, total, seq: i + 1 },
    ...fields,
  }))
}

for (const kind of databaseKinds()) {
  describe(`lib/inbound/assembly (${kind})`, () => {
    let t: TestDatabase
    let now = Date.UTC(2026, 10, 27, 9, 0, 0)
    /** Parts waiting for the rest of their set (assembled ones are kept with a negative total). */
    const partsLeft = async () =>
      Number((await t.db('inbound_sms_parts').where('total', '>', 0).count({ n: '*' }).first())?.n)
    const body = async (id: number) => (await t.db('inbound_sms').where({ id }).first()).body

    before(async () => {
      t = await createTestDatabase(kind)
      await createAccount(t.db, { ref: 'acme', name: 'Acme', virtualNumber: '+33700000001' })
    })

    after(() => t?.drop())

    if (kind === 'sqlite') {
      it('assembles when another process writes between its read and its delete', async () => {
        const other = new Database(t.config.sqliteFile)
        let armed = false
        const writeFromElsewhere = (_response: unknown, query: { sql: string }) => {
          if (armed && /from `inbound_sms_parts` where/.test(query.sql)) {
            armed = false
            try {
              other.exec("update cache_versions set version = version + 1 where name = 'directory'")
            } catch (err) {
              // Refused while this transaction holds the lock: another process would wait.
              assert.match((err as Error).message, /database is locked/)
            }
          }
        }
        t.db.on('query-response', writeFromElsewhere)
        try {
          const [first, second] = parts(encodeGsm7('lu puis écrit'), 2, 0x77, { dataCoding: 0 })
          await acceptMoPart(t.db, first, (now += 1000), options)
          armed = true
          const result = await acceptMoPart(t.db, second, (now += 1000), options)
          assert.equal(armed, false, 'the other process tried to write')
          assert.equal(result?.status, 'received')
          assert.equal(await body(result!.id), 'lu puis écrit')
        } finally {
          t.db.off('query-response', writeFromElsewhere)
          other.close()
        }
      })
    }

    it('stores a single-part SMS at once', async () => {
      const [single] = parts(encodeGsm7('Hello [world]'), 1, 0, { dataCoding: 0 })
      const result = await acceptMoPart(t.db, { ...single, concat: null }, (now += 1000), options)
      assert.equal(result?.status, 'received')
      assert.equal(await body(result!.id), 'Hello [world]')
    })

    it('reassembles parts arriving out of order and twice, keeping them until complete', async () => {
      const text = 'Première partie, ' + 'deuxième partie 😀, ' + 'et la fin. ' + 'ê'.repeat(60)
      const [p1, p2, p3] = parts(encodeUcs2(text), 3, 42)
      assert.equal(await acceptMoPart(t.db, p3, (now += 1000), options), null)
      assert.equal(await acceptMoPart(t.db, p1, (now += 1000), options), null)
      assert.equal(await acceptMoPart(t.db, p3, (now += 1000), options), null)
      // What a worker restart would find: the parts, in the database.
      assert.equal(await partsLeft(), 2)
      const result = await acceptMoPart(t.db, p2, (now += 1000), options)
      assert.ok(result)
      const row = await t.db('inbound_sms').where({ id: result.id }).first()
      assert.equal(row.body, text)
      assert.equal(row.encoding, 'ucs2')
      assert.equal(Number(row.parts), 3)
      assert.equal(Number(row.missing_parts), 0)
      assert.equal(row.from_number, '+33612345678')
      assert.equal(await partsLeft(), 0)
      // A late duplicate of a part after assembly does not make a second SMS, now or later.
      const lines: string[] = []
      const late = { ...options, log: (l: string) => lines.push(l) }
      assert.equal(await acceptMoPart(t.db, p1, (now += 1000), late), null)
      assert.equal(await partsLeft(), 0, 'the repeat starts no new set')
      assert.ok(lines.some((l) => /repeated after its SMS was stored .* seq=1: dropped/.test(l)))
      assert.deepEqual(await sweepParts(t.db, now + 2 * 24 * 3600_000), [])
      assert.equal(
        Number((await t.db('inbound_sms').where({ body: text }).count({ n: '*' }).first())?.n),
        1,
      )
      assert.equal(
        Number((await t.db('inbound_sms_parts').count({ n: '*' }).first())?.n),
        0,
        'assembled parts are forgotten once stale',
      )
    })

    it('assembles a new SMS that reuses the reference of one already stored', async () => {
      const first = parts(encodeGsm7('premier message'), 2, 42, { dataCoding: 0 })
      const second = parts(encodeGsm7('second message!'), 2, 42, { dataCoding: 0 })
      let result = null
      for (const p of first) result = await acceptMoPart(t.db, p, (now += 1000), options)
      assert.equal(await body(result!.id), 'premier message')
      for (const p of second) result = await acceptMoPart(t.db, p, (now += 1000), options)
      assert.equal(await body(result!.id), 'second message!')
      assert.equal(await partsLeft(), 0)
    })

    it('joins a surrogate pair that the phone split across two parts', async () => {
      const octets = encodeUcs2('ab😀cd')
      // 12 octets in 3 parts of 4: the emoji's high surrogate ends part 2, its low one starts part 3.
      const split = parts(octets, 3, 7)
      assert.equal(split[1].body.length, 4)
      let result = null
      for (const p of split) result = await acceptMoPart(t.db, p, (now += 1000), options)
      assert.equal(await body(result!.id), 'ab😀cd')
    })

    it('keeps sets with different references or senders apart', async () => {
      const a = parts(encodeGsm7('aaaa bbbb'), 2, 9, { dataCoding: 0 })
      const b = parts(encodeGsm7('cccc dddd'), 2, 9, { dataCoding: 0, from: '33699999999' })
      assert.equal(await acceptMoPart(t.db, a[0], (now += 1000), options), null)
      assert.equal(await acceptMoPart(t.db, b[1], (now += 1000), options), null)
      const ra = await acceptMoPart(t.db, a[1], (now += 1000), options)
      const rb = await acceptMoPart(t.db, b[0], (now += 1000), options)
      assert.equal(await body(ra!.id), 'aaaa bbbb')
      assert.equal(await body(rb!.id), 'cccc dddd')
    })

    it('stores a stale incomplete set with what came, the gaps marked', async () => {
      const [p1, , p3, , p5] = parts(encodeGsm7('11112222333344445555'), 5, 200, {
        dataCoding: 0,
      })
      const start = (now += 1000)
      await acceptMoPart(t.db, p1, start, options)
      await acceptMoPart(t.db, p3, start + 10, options)
      await acceptMoPart(t.db, p5, start + 20, options)
      const young = await acceptMoPart(
        t.db,
        { ...p1, concat: { ref: 201, total: 2, seq: 1 } },
        start,
        options,
      )
      assert.equal(young, null)
      const day = 24 * 3600_000
      assert.deepEqual(await sweepParts(t.db, start + day - 1, day), [])
      const stored = await sweepParts(t.db, start + day + 15, day)
      assert.equal(stored.length, 2)
      const row = await t
        .db('inbound_sms')
        .whereIn(
          'id',
          stored.map((s) => s.id),
        )
        .where({ parts: 3 })
        .first()
      assert.equal(row.body, `1111 ${MISSING_PART_MARK} 3333 ${MISSING_PART_MARK} 5555`)
      assert.equal(Number(row.missing_parts), 2)
      assert.equal(Number(row.received_at), start)
      assert.equal(await partsLeft(), 0)
    })

    it('stores a complete set the sweep finds, e.g. after a failed assembly', async () => {
      const [p1, p2] = parts(encodeGsm7('left over'), 2, 77, { dataCoding: 0 })
      await t.db('inbound_sms_parts').insert(
        [p1, p2].map((p) => ({
          from_addr: p.from,
          to_addr: p.to,
          ref: 77,
          total: 2,
          seq: p.concat!.seq,
          from_ton: 1,
          to_ton: 1,
          data_coding: 0,
          body: p.body,
          source: 'smpp',
          received_at: now,
        })),
      )
      const [result] = await sweepParts(t.db, now + 1000)
      assert.equal(await body(result.id), 'left over')
    })

    it('assembles once when the last parts arrive together', async () => {
      const set = parts(encodeGsm7('one two three four'), 4, 99, { dataCoding: 0 })
      const results = await Promise.all(set.map((p) => acceptMoPart(t.db, p, now, options)))
      const stored = results.filter((r) => r !== null)
      assert.equal(stored.length >= 1, true)
      assert.equal(new Set(stored.map((r) => r!.id)).size, 1)
      assert.equal(await body(stored[0]!.id), 'one two three four')
      assert.equal(await partsLeft(), 0)
    })
  })
}
