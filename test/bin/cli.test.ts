import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { run } from '../../bin/cli'
import { openDb } from '../../lib/db/connection'

const ROOT = path.resolve(__dirname, '..', '..')

describe('mail2sms CLI', function () {
  this.timeout(20_000)
  let dir: string
  const saved = process.env.MAIL2SMS_CONFIG

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = []
    const err: string[] = []
    const code = await run(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-cli-'))
    fs.writeFileSync(path.join(dir, 'mail2sms.ini'), `[database]\nsqlite_file=${dir}/cli.sqlite\n`)
    process.env.MAIL2SMS_CONFIG = path.join(dir, 'mail2sms.ini')
  })

  after(() => {
    if (saved === undefined) delete process.env.MAIL2SMS_CONFIG
    else process.env.MAIL2SMS_CONFIG = saved
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('migrates, then reports the schema up to date', async () => {
    const first = await cli('migrate')
    assert.equal(first.code, 0, first.err)
    assert.match(first.out, /applied .*create_outbound_sms/)
    const again = await cli('migrate', '--status')
    const migrations = fs
      .readdirSync(path.join(ROOT, 'migrations'))
      .filter((f) => f.endsWith('.ts'))
    assert.match(again.out, new RegExp(`${migrations.length} applied, 0 pending`))
  })

  it('creates an account, a sender and allowed IPs, and lists them', async () => {
    assert.equal(
      (await cli('account', 'create', 'acme', '--name', 'Acme SA', '--sender-name', 'Acme')).code,
      0,
    )
    const added = await cli('sender', 'add', 'acme', 'Alice@Example.COM', '--default')
    assert.equal(added.code, 0, added.err)
    assert.match(
      added.out,
      /alice@example\.com is now an accepted sender of acme \(default account\)/,
    )
    assert.equal((await cli('ip', 'add', 'acme', '2001:db8::/48')).code, 0)
    assert.equal((await cli('ip', 'add', 'acme', '192.0.2.7')).code, 0)
    assert.equal((await cli('ip', 'list', 'acme')).out, 'acme\t192.0.2.7/32\nacme\t2001:db8::/48')
    assert.equal((await cli('sender', 'list', 'acme')).out, 'alice@example.com\taccepted\tdefault')
    assert.equal((await cli('ip', 'remove', 'acme', '192.0.2.7')).code, 0)
    assert.equal((await cli('ip', 'list')).out, 'acme\t2001:db8::/48')
  })

  it('shows and sets an account\'s spend limits, back to the defaults with "default"', async () => {
    const shown = await cli('account', 'limits', 'acme')
    assert.equal(shown.code, 0, shown.err)
    assert.equal(
      shown.out,
      [
        'account acme',
        'sms_per_minute\t300 SMS (default)',
        'sender_sms_per_minute\t60 SMS (default)',
        'segments_per_day\tno limit (default)',
        'segments_per_month\tno limit (default)',
        'destinations\tFR (default)',
      ].join('\n'),
    )
    const set = await cli(
      'account',
      'limits',
      'acme',
      '--segments-per-day',
      '500',
      '--sms-per-minute',
      '0',
      '--destinations',
      'be,+881',
    )
    assert.equal(set.code, 0, set.err)
    assert.match(set.out, /sms_per_minute\tno limit \(account\)/)
    assert.match(set.out, /segments_per_day\t500 segments \(account\)/)
    assert.match(set.out, /destinations\tFR,\+881,BE \(account\)/)
    const reset = await cli('account', 'limits', 'acme', '--segments-per-day', 'default')
    assert.match(reset.out, /segments_per_day\tno limit \(default\)/)
    assert.match(reset.out, /destinations\tFR,\+881,BE \(account\)/)
    const bad = await cli('account', 'limits', 'acme', '--destinations', 'Belgium')
    assert.equal(bad.code, 1)
    assert.match(bad.err, /"Belgium" is neither a country code/)
    const notNumber = await cli('account', 'limits', 'acme', '--segments-per-month', 'lots')
    assert.equal(notNumber.code, 2)
  })

  it('turns "stay in GSM" on and off for an account, off by default', async () => {
    const shown = await cli('account', 'set', 'acme')
    assert.equal(shown.code, 0, shown.err)
    assert.equal(shown.out, 'account acme\ngsm_only\toff\nvirtual_number\tnone\ntz\tUTC')
    const on = await cli('account', 'set', 'acme', '--gsm-only', 'on')
    assert.equal(on.code, 0, on.err)
    assert.equal(on.out, 'account acme\ngsm_only\ton\nvirtual_number\tnone\ntz\tUTC')
    assert.match((await cli('account', 'list')).out, /^acme\t.*\tgsm_only=on\ttz=UTC$/m)
    const off = await cli('account', 'set', 'acme', '--gsm-only', 'off')
    assert.equal(off.out, 'account acme\ngsm_only\toff\nvirtual_number\tnone\ntz\tUTC')
    assert.match((await cli('account', 'list')).out, /^acme\t.*\tgsm_only=off\ttz=UTC$/m)

    const created = await cli('account', 'create', 'cheap', '--name', 'Cheap', '--gsm-only')
    assert.equal(created.code, 0, created.err)
    assert.match(created.out, /created account cheap .* gsm_only=on tz=UTC$/)

    const bad = await cli('account', 'set', 'acme', '--gsm-only', 'yes')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /--gsm-only must be on or off/)
    const unknown = await cli('account', 'set', 'nope', '--gsm-only', 'on')
    assert.equal(unknown.code, 1)
    assert.match(unknown.err, /no account with reference "nope"/)
  })

  it('sets an account’s time zone, refusing one it does not know', async () => {
    const set = await cli('account', 'set', 'acme', '--tz', 'europe/paris')
    assert.equal(set.code, 0, set.err)
    assert.equal(set.out, 'account acme\ngsm_only\toff\nvirtual_number\tnone\ntz\tEurope/Paris')
    const bad = await cli('account', 'set', 'acme', '--tz', 'Mars/Olympus', '--gsm-only', 'on')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /--tz: unknown time zone "Mars\/Olympus"/)
    // Nothing changed, not even the other option.
    assert.equal(
      (await cli('account', 'set', 'acme')).out,
      'account acme\ngsm_only\toff\nvirtual_number\tnone\ntz\tEurope/Paris',
    )
    const created = await cli(
      'account',
      'create',
      'kiwi',
      '--name',
      'Kiwi',
      '--tz',
      'Pacific/Auckland',
    )
    assert.match(created.out, /created account kiwi .* tz=Pacific\/Auckland$/)
    const wrong = await cli('account', 'create', 'nowhere', '--name', 'Nowhere', '--tz', 'Nowhere')
    assert.equal(wrong.code, 1)
    assert.match(wrong.err, /time zone "Nowhere" is not an IANA zone name/)
    assert.equal((await cli('account', 'set', 'acme', '--tz', 'UTC')).code, 0)
  })

  it('refuses an IP range that would open more than allowlist.max_ipv4_prefix allows', async () => {
    const ini = path.join(dir, 'mail2sms.ini')
    const original = fs.readFileSync(ini, 'utf8')
    fs.writeFileSync(ini, `${original}[allowlist]\nmax_ipv4_prefix=24\n`)
    try {
      assert.equal((await cli('account', 'create', 'wide', '--name', 'Wide')).code, 0)
      assert.equal((await cli('ip', 'add', 'wide', '198.51.100.0/25')).code, 0)
      assert.equal((await cli('ip', 'add', 'wide', '198.51.100.128/25')).code, 0)
      const over = await cli('ip', 'add', 'wide', '203.0.113.7')
      assert.equal(over.code, 1)
      assert.equal(
        over.err,
        'mail2sms: with this entry the IP list would cover 257 IPv4 addresses; the limit is ' +
          '256 IPv4 addresses (one /24) (allowlist.max_ipv4_prefix)',
      )
      const half = await cli('ip', 'add', 'wide', '128.0.0.0/1')
      assert.equal(half.code, 1)
      assert.match(half.err, /would cover 2,147,483,648 IPv4 addresses \(one \/1\);/)
      assert.equal((await cli('ip', 'list', 'wide')).out.split('\n').length, 2)
    } finally {
      fs.writeFileSync(ini, original)
    }
  })

  it('lists SMS by status, partly delivered and without a receipt included', async () => {
    const db = openDb({ url: null, sqliteFile: path.join(dir, 'cli.sqlite'), poolMax: 1 })
    try {
      const account = await db('accounts').where({ ref: 'acme' }).first()
      const at = Date.UTC(2026, 10, 27, 9, 0)
      for (const status of ['partial', 'unknown', 'delivered']) {
        await db('outbound_sms').insert({
          account_id: account.id,
          sender_email: 'alice@example.com',
          recipient: '+33612345678',
          body: `${status} SMS`,
          encoding: 'gsm7',
          segments: 2,
          status,
          attempts: 1,
          next_attempt_at: at,
          dedupe_key: `cli-${status}`,
          created_at: at,
          updated_at: at,
        })
      }
    } finally {
      await db.destroy()
    }
    for (const status of ['partial', 'unknown']) {
      const listed = await cli('sms', 'list', '--status', status)
      assert.equal(listed.code, 0, listed.err)
      assert.match(
        listed.out,
        new RegExp(
          `^\\d+\\t2026-11-27T09:00:00.000Z\\t${status}\\t\\+33612345678\\t.*"${status} SMS"$`,
        ),
      )
    }
    const bad = await cli('sms', 'list', '--status', 'lost')
    assert.equal(bad.code, 2)
    assert.match(bad.err, /--status must be one of .*partial.*unknown/)
    assert.match(
      (await cli('help')).out,
      /\(S: .*partial.*\n.*unknown: accepted by the carrier, no final receipt\)/,
    )
  })

  it('refuses bad input with a message and a non-zero exit', async () => {
    const badIp = await cli('ip', 'add', 'acme', '300.1.2.3')
    assert.equal(badIp.code, 1)
    assert.match(badIp.err, /not an IP address or CIDR range/)
    const noAccount = await cli('sender', 'add', 'nope', 'x@example.com')
    assert.equal(noAccount.code, 1)
    assert.match(noAccount.err, /no account with reference "nope"/)
    const badName = await cli(
      'account',
      'create',
      'beta',
      '--name',
      'Beta',
      '--sender-name',
      'Too Long Name',
    )
    assert.equal(badName.code, 1)
    assert.match(badName.err, /1-11 characters .* without spaces/)
    const badNumber = await cli(
      'account',
      'create',
      'gamma',
      '--name',
      'G',
      '--virtual-number',
      '0612',
    )
    assert.equal(badNumber.code, 1)
    assert.match(badNumber.err, /international form/)
    const dup = await cli('account', 'create', 'acme', '--name', 'Again')
    assert.equal(dup.code, 1)
    assert.match(dup.err, /already exists/)
    const missing = await cli('sender', 'add', 'acme')
    assert.equal(missing.code, 2)
    assert.match(missing.err, /expected <account-ref> <email>/)
    const unknownFlag = await cli('account', 'list', '--bogus')
    assert.equal(unknownFlag.code, 2)
    const badEmail = await cli('sender', 'add', 'acme', 'not-an-email')
    assert.equal(badEmail.code, 1)
    assert.match(badEmail.err, /not a valid email address/)
  })

  it('stops on an unknown setting, naming the key', async () => {
    fs.writeFileSync(path.join(dir, 'bad.ini'), '[mx]\ndomians=sms.example.com\n')
    process.env.MAIL2SMS_CONFIG = path.join(dir, 'bad.ini')
    try {
      const r = await cli('account', 'list')
      assert.equal(r.code, 78)
      assert.match(r.err, /unknown key "mx\.domians"/)
    } finally {
      process.env.MAIL2SMS_CONFIG = path.join(dir, 'mail2sms.ini')
    }
  })

  it('runs as a real command with exit codes', async function () {
    // Two processes starting under ts-node: slow on a loaded machine.
    this.timeout(90_000)
    const exec = promisify(execFile)
    const env = { ...process.env, MAIL2SMS_CONFIG: path.join(dir, 'mail2sms.ini') }
    const ok = await exec(
      process.execPath,
      [path.join(ROOT, 'bin', 'mail2sms.js'), 'account', 'list'],
      // Run from outside the project, as from a service manager or another folder.
      { env, cwd: dir },
    )
    assert.match(
      ok.stdout,
      /^acme\tAcme SA\tcountry=FR\tsender_name=Acme\tcap=4\tgsm_only=off\ttz=UTC$/m,
    )
    await assert.rejects(
      exec(process.execPath, [path.join(ROOT, 'bin', 'mail2sms.js'), 'frobnicate'], { env }),
      (err: { code: number; stderr: string }) =>
        err.code === 2 && /unknown command "frobnicate"/.test(err.stderr),
    )
  })
})
