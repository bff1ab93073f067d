import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { run } from '../../bin/cli'
import { setTimeZone } from '../../lib/db/account-settings'
import { createAccount } from '../../lib/db/accounts'
import { DAY_MS } from '../../lib/retention/purge'
import { parseCsv } from '../support/csv'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'

for (const kind of databaseKinds()) {
  describe(`mail2sms sms export and purge (${kind})`, function () {
    this.timeout(60_000)
    let t: TestDatabase
    let dir: string
    const saved = { config: process.env.MAIL2SMS_CONFIG, url: process.env.DATABASE_URL }

    async function cli(...argv: string[]) {
      const out: string[] = []
      const err: string[] = []
      const stdout = new PassThrough()
      const chunks: Buffer[] = []
      stdout.on('data', (c: Buffer) => chunks.push(c))
      const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stdout })
      return {
        code,
        out: out.join('\n'),
        err: err.join('\n'),
        csv: Buffer.concat(chunks).toString('utf8'),
      }
    }

    async function sms(accountId: number, createdAt: number, extra: Record<string, unknown> = {}) {
      const [id] = await t.db('outbound_sms').insert({
        account_id: accountId,
        sender_email: 'alice@acme.example',
        recipient: '+33612345678',
        body: `created ${new Date(createdAt).toISOString()}`,
        encoding: 'gsm7',
        segments: 1,
        status: 'delivered',
        next_attempt_at: createdAt,
        dedupe_key: `k${createdAt}-${Math.random()}`,
        created_at: createdAt,
        updated_at: createdAt,
        final_at: createdAt + 5000,
        ...extra,
      })
      return Number(id)
    }

    let january: number[]

    before(async () => {
      t = await createTestDatabase(kind)
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-retention-cli-'))
      const ini = path.join(dir, 'mail2sms.ini')
      fs.writeFileSync(
        ini,
        `[database]\nsqlite_file=${t.config.sqliteFile}\n[retention]\ntext_days=30\naddresses_days=90\npurge_pause_ms=0\n`,
      )
      process.env.MAIL2SMS_CONFIG = ini
      process.env.DATABASE_URL = t.config.url ?? ''
      const acme = await createAccount(t.db, { ref: 'acme', name: 'Acme' })
      // 1 and 31 January at midnight in Paris (23:00 UTC the day before), and 1 February.
      january = [
        await sms(acme.id, Date.UTC(2025, 11, 31, 23, 0)),
        await sms(acme.id, Date.UTC(2026, 0, 31, 22, 59, 59)),
      ]
      await sms(acme.id, Date.UTC(2026, 0, 31, 23, 0))
      await sms(acme.id, Date.now() - 5 * DAY_MS)
    })

    after(async () => {
      for (const [key, value] of [
        ['MAIL2SMS_CONFIG', saved.config],
        ['DATABASE_URL', saved.url],
      ] as const) {
        if (value === undefined) delete process.env[key]
        else process.env[key] = value
      }
      fs.rmSync(dir, { recursive: true, force: true })
      await t?.drop()
    })

    it('streams one account’s SMS of the given days as CSV on standard output', async () => {
      const r = await cli(
        'sms',
        'export',
        '--account',
        'acme',
        '--from',
        '2026-01-01',
        '--to',
        '2026-01-31',
        '--tz',
        'Europe/Paris',
      )
      assert.equal(r.code, 0, r.err)
      const [header, ...lines] = parseCsv(r.csv)
      assert.equal(header[0], 'id')
      assert.deepEqual(
        lines.map((l) => Number(l[0])),
        january,
      )
      assert.deepEqual(
        lines.map((l) => l[1]),
        ['2026-01-01T00:00:00+01:00', '2026-01-31T23:59:59+01:00'],
      )
      assert.equal(r.err, 'exported 2 SMS of acme')
    })

    it('gives the same export whatever the time zone of the machine', async () => {
      // Node applies a change of TZ at once: any local-time reading would show here.
      const machineTz = process.env.TZ
      const outputs: string[] = []
      try {
        for (const tz of ['Pacific/Auckland', 'America/Los_Angeles', 'UTC']) {
          process.env.TZ = tz
          const r = await cli('sms', 'export', '--account', 'acme', '--to', '2026-01-31')
          assert.equal(r.code, 0, r.err)
          outputs.push(r.csv)
        }
      } finally {
        if (machineTz === undefined) delete process.env.TZ
        else process.env.TZ = machineTz
      }
      assert.equal(outputs[0], outputs[1])
      assert.equal(outputs[0], outputs[2])
      // UTC days by default: 31 January 22:59:59 UTC is in, 23:00 is too (still the 31st).
      const lines = parseCsv(outputs[0]).slice(1)
      assert.equal(lines.length, 3)
      assert.equal(lines[2][1], '2026-01-31T23:00:00Z')
    })

    it('takes the days in the account’s own zone when --tz is not given', async () => {
      const acme = await t.db('accounts').where('ref', 'acme').first('id')
      await setTimeZone(t.db, acme.id, 'Europe/Paris')
      try {
        const r = await cli(
          'sms',
          'export',
          '--account',
          'acme',
          '--from',
          '2026-01-01',
          '--to',
          '2026-01-31',
        )
        assert.equal(r.code, 0, r.err)
        const lines = parseCsv(r.csv).slice(1)
        assert.deepEqual(
          lines.map((l) => [Number(l[0]), l[1]]),
          [
            [january[0], '2026-01-01T00:00:00+01:00'],
            [january[1], '2026-01-31T23:59:59+01:00'],
          ],
        )
        // --tz still wins.
        const utc = await cli(
          'sms',
          'export',
          '--account',
          'acme',
          '--to',
          '2026-01-31',
          '--tz',
          'UTC',
        )
        assert.equal(parseCsv(utc.csv).length - 1, 3)
      } finally {
        await setTimeZone(t.db, acme.id, 'UTC')
      }
    })

    it('refuses an unknown account, zone or date with a clear message and no CSV', async () => {
      const unknown = await cli('sms', 'export', '--account', 'nope')
      assert.equal(unknown.code, 1)
      assert.match(unknown.err, /no account with reference "nope"/)
      assert.equal(unknown.csv, '')
      for (const [args, message] of [
        [['--account', 'acme', '--tz', 'Paris'], /unknown time zone "Paris"/],
        [['--account', 'acme', '--from', '2026-02-30'], /"2026-02-30" is not a date/],
        [['--account', 'acme', '--from', '2026-02-02', '--to', '2026-02-01'], /before --from/],
        [[], /sms export needs --account/],
      ] as const) {
        const r = await cli('sms', 'export', ...args)
        assert.equal(r.code, 2, args.join(' '))
        assert.match(r.err, message)
        assert.equal(r.csv, '')
      }
    })

    it('purge --dry-run counts, purge removes, as [retention] says', async () => {
      // Times from today's date, whatever it is: the export's fixed days go first.
      await t.db('outbound_sms').del()
      const acme = await t.db('accounts').where('ref', 'acme').first('id')
      const ago = (days: number) => Date.now() - days * DAY_MS
      const both = await sms(acme.id, ago(100))
      const text = await sms(acme.id, ago(40))
      const kept = await sms(acme.id, ago(5))
      const dry = await cli('purge', '--dry-run')
      assert.equal(dry.code, 0, dry.err)
      assert.match(dry.out, /text kept 30 days, addresses kept 90 days/)
      assert.match(dry.out, /outbound_both\t1 rows would be purged/)
      assert.match(dry.out, /outbound_text\t1 rows would be purged/)
      assert.match(dry.out, /outbound_addresses\t0 rows would be purged/)
      assert.equal(
        Number((await t.db('outbound_sms').where('purged', 0).count({ n: '*' }))[0].n),
        3,
      )
      const done = await cli('purge')
      assert.equal(done.code, 0, done.err)
      assert.match(
        done.out,
        /outbound_both\t1 rows purged .*\n(.*\n)*outbound_text\t1 rows purged /,
      )
      const row = (id: number) => t.db('outbound_sms').where('id', id).first()
      assert.deepEqual(
        [(await row(both)).body, (await row(both)).recipient, (await row(text)).recipient],
        ['', '', '+33612345678'],
      )
      assert.equal((await row(text)).body, '')
      assert.match((await row(kept)).body, /^created /)
    })
  })
}
