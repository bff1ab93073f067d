import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { run } from '../../bin/cli'
import { readCacheVersion } from '../../lib/db/versions'
import { createTestDatabase, databaseKinds, type TestDatabase } from '../support/databases'

for (const kind of databaseKinds()) {
  describe(`mail2sms account set --virtual-number (${kind})`, function () {
    this.timeout(30_000)
    let t: TestDatabase
    let dir: string
    const saved = process.env.MAIL2SMS_CONFIG

    async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
      const out: string[] = []
      const err: string[] = []
      const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
      return { code, out: out.join('\n'), err: err.join('\n') }
    }

    const numberOf = async (ref: string) =>
      (await t.db('accounts').where({ ref }).first()).virtual_number as string | null

    before(async () => {
      t = await createTestDatabase(kind)
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-cli-number-'))
      const database =
        kind === 'mysql' ? `url=${t.config.url}` : `sqlite_file=${t.config.sqliteFile}`
      fs.writeFileSync(path.join(dir, 'mail2sms.ini'), `[database]\n${database}\n`)
      process.env.MAIL2SMS_CONFIG = path.join(dir, 'mail2sms.ini')
      for (const [ref, country] of [
        ['acme', 'FR'],
        ['globex', 'GB'],
      ]) {
        const made = await cli('account', 'create', ref, '--name', ref, '--country', country)
        assert.equal(made.code, 0, made.err)
      }
    })

    after(async () => {
      if (saved === undefined) delete process.env.MAIL2SMS_CONFIG
      else process.env.MAIL2SMS_CONFIG = saved
      fs.rmSync(dir, { recursive: true, force: true })
      await t?.drop()
    })

    it('sets a number, national in the account’s country, and shows it', async () => {
      const before = await readCacheVersion(t.db, 'directory')
      const set = await cli('account', 'set', 'acme', '--virtual-number', '07 00 00 00 09')
      assert.equal(set.code, 0, set.err)
      assert.equal(set.out, 'account acme\ngsm_only\toff\nvirtual_number\t+33700000009\ntz\tUTC')
      assert.equal(await numberOf('acme'), '+33700000009')
      assert.ok((await readCacheVersion(t.db, 'directory')) > before, 'the MX reloads accounts')
      const shown = await cli('account', 'set', 'acme')
      assert.equal(shown.out, 'account acme\ngsm_only\toff\nvirtual_number\t+33700000009\ntz\tUTC')
      const gb = await cli('account', 'set', 'globex', '--virtual-number', '07700 900123')
      assert.match(gb.out, /virtual_number\t\+447700900123$/m)
    })

    it('refuses another account’s number, naming that account, and changes nothing', async () => {
      const taken = await cli('account', 'set', 'globex', '--virtual-number', '+33700000009')
      assert.equal(taken.code, 1)
      assert.equal(
        taken.err,
        'mail2sms: +33700000009 is already the virtual number of account "acme"',
      )
      assert.equal(await numberOf('globex'), '+447700900123')
      const created = await cli(
        'account',
        'create',
        'copy',
        '--name',
        'Copy',
        '--virtual-number',
        '+33700000009',
      )
      assert.equal(created.code, 1)
      assert.match(created.err, /already the virtual number of account "acme"/)
    })

    it('refuses what is not a number, and leaves the other settings alone', async () => {
      const bad = await cli(
        'account',
        'set',
        'acme',
        '--virtual-number',
        '0612',
        '--gsm-only',
        'on',
      )
      assert.equal(bad.code, 1)
      assert.match(bad.err, /virtual number: 0612 is too short .* international form/)
      assert.equal(await numberOf('acme'), '+33700000009')
      assert.equal((await t.db('accounts').where({ ref: 'acme' }).first()).gsm_only ? 1 : 0, 0)
      const unknown = await cli('account', 'set', 'nope', '--virtual-number', '+33700000001')
      assert.equal(unknown.code, 1)
      assert.match(unknown.err, /no account with reference "nope"/)
      const missing = await cli('account', 'set', 'acme', '--virtual-number')
      assert.equal(missing.code, 2)
    })

    it('takes the number away with none, then another account may have it', async () => {
      const cleared = await cli('account', 'set', 'acme', '--virtual-number', 'none')
      assert.equal(cleared.code, 0, cleared.err)
      assert.match(cleared.out, /virtual_number\tnone$/m)
      assert.equal(await numberOf('acme'), null)
      const moved = await cli('account', 'set', 'globex', '--virtual-number', '+33700000009')
      assert.equal(moved.code, 0, moved.err)
      const empty = await cli('account', 'set', 'globex', '--virtual-number', '')
      assert.equal(empty.code, 0, empty.err)
      assert.equal(await numberOf('globex'), null)
    })

    it('documents the option in the usage', async () => {
      const help = await cli('help')
      assert.match(help.out, /account set <ref> \[--gsm-only on\|off\] \[--virtual-number/)
    })
  })
}
