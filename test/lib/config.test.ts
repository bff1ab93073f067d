import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ConfigError, loadConfig } from '../../lib/config'

describe('lib/config', () => {
  let dir: string

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2s-config-'))
  })

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  function load(text: string, env: NodeJS.ProcessEnv = {}) {
    const file = path.join(dir, 'mail2sms.ini')
    fs.writeFileSync(file, text)
    return loadConfig(file, env)
  }

  it('loads the shipped file as it is', () => {
    const config = loadConfig(path.resolve(__dirname, '../../config/mail2sms.ini'), {})
    assert.equal(config.admin.baseUrl, 'http://127.0.0.1:8080')
    assert.equal(config.mailer.transport, 'file')
    // The embedded mailer keeps its .eml files in the project's data/ folder.
    assert.equal(config.mailer.directory, path.resolve(__dirname, '../../data/mail'))
    assert.equal(config.mailer.from, 'Mail2SMS <mail2sms@sms.example.com>')
    assert.equal(config.inbound.directReplyWindowHours, 72)
  })

  it('gives SPF the 20 s of RFC 7208 §4.6.4, and MAIL FROM fits in Haraka’s plugin timeout', () => {
    const shipped = loadConfig(path.resolve(__dirname, '../../config/mail2sms.ini'), {})
    const defaults = load('')
    assert.equal(shipped.mx.spfTimeoutMs, 20_000)
    assert.equal(defaults.mx.spfTimeoutMs, 20_000)
    // Haraka's value files take their first line that is not a comment.
    const pluginTimeout = fs
      .readFileSync(path.resolve(__dirname, '../../config/plugin_timeout'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line && !/^[#;]/.test(line))
    // MAIL FROM may wait for the database, then SPF; the hook stops a second before Haraka.
    const needed = shipped.mx.spfTimeoutMs + (shipped.database.queryTimeoutMs ?? 0) + 1000
    assert.ok(Number(pluginTimeout) * 1000 >= needed, `plugin_timeout ${pluginTimeout} s`)
  })

  it('reads [ops]: loopback listeners by default, empty for none, IPv6 in brackets', () => {
    assert.deepEqual(load('').ops, {
      mx: { host: '127.0.0.1', port: 9471 },
      worker: { host: '127.0.0.1', port: 9472 },
      admin: { host: '127.0.0.1', port: 9473 },
    })
    const shipped = loadConfig(path.resolve(__dirname, '../../config/mail2sms.ini'), {})
    assert.deepEqual(shipped.ops, load('').ops)
    const set = load('[ops]\nmx_listen=\nworker_listen=[::1]:9100\nadmin_listen=10.0.0.5:9200\n')
    assert.deepEqual(set.ops, {
      mx: null,
      worker: { host: '::1', port: 9100 },
      admin: { host: '10.0.0.5', port: 9200 },
    })
    for (const bad of ['localhost:9471', '127.0.0.1', '127.0.0.1:70000', '::1:9471']) {
      assert.throws(
        () => load(`[ops]\nworker_listen=${bad}\n`),
        /ops\.worker_listen must be IP:port/,
      )
    }
  })

  it('names an unknown key', () => {
    assert.throws(
      () => load('[admin]\nprot=1\n'),
      (err: Error) => {
        assert.ok(err instanceof ConfigError)
        assert.match(err.message, /admin\.prot/)
        return true
      },
    )
  })

  it('reads [log]: logfmt at info by default, json or another level when set, nothing else', () => {
    assert.deepEqual(load('').log, { format: 'logfmt', level: 'info' })
    assert.deepEqual(load('[log]\nformat=json\nlevel=debug\n').log, {
      format: 'json',
      level: 'debug',
    })
    assert.throws(() => load('[log]\nformat=xml\n'), /log\.format must be one of logfmt, json/)
    assert.throws(() => load('[log]\nlevel=notice\n'), /log\.level must be one of debug, info/)
  })

  it('reads the IP list limits, between /1 and the family’s full length', () => {
    const defaults = load('')
    assert.deepEqual(defaults.allowlist, { maxIpv4Prefix: 16, maxIpv6Prefix: 48 })
    const set = load('[allowlist]\nmax_ipv4_prefix=24\nmax_ipv6_prefix=56\n')
    assert.deepEqual(set.allowlist, { maxIpv4Prefix: 24, maxIpv6Prefix: 56 })
    assert.throws(
      () => load('[allowlist]\nmax_ipv4_prefix=33\n'),
      /max_ipv4_prefix must be at most 32/,
    )
    assert.throws(
      () => load('[allowlist]\nmax_ipv6_prefix=0\n'),
      /max_ipv6_prefix must be at least 1/,
    )
  })

  it('names a value out of range', () => {
    assert.throws(
      () => load('[admin]\nsession_ttl_hours=0\n'),
      /session_ttl_hours must be at least 1/,
    )
    assert.throws(() => load('[worker]\nbatch_size=ten\n'), /batch_size must be a whole number/)
  })

  it('takes base_url without its trailing slash, and refuses one that is not http(s)', () => {
    assert.equal(
      load('[admin]\nbase_url=https://sms.example.com/\n').admin.baseUrl,
      'https://sms.example.com',
    )
    assert.throws(() => load('[admin]\nbase_url=sms.example.com\n'), /admin\.base_url/)
  })

  it('refuses a short session secret, from the file or the environment', () => {
    assert.throws(() => load('[admin]\nsession_secret=short\n'), /at least 32 characters/)
    assert.throws(() => load('', { MAIL2SMS_SESSION_SECRET: 'short' }), /at least 32 characters/)
    const secret = 'x'.repeat(40)
    assert.equal(load('', { MAIL2SMS_SESSION_SECRET: secret }).admin.sessionSecret, secret)
  })

  it('reads trusted proxies as addresses or ranges, naming a bad one', () => {
    const config = load('[admin]\ntrusted_proxies=127.0.0.1, 10.0.0.0/8, ::1\n')
    assert.deepEqual(config.admin.trustedProxies, ['127.0.0.1', '10.0.0.0/8', '::1'])
    assert.throws(
      () => load('[admin]\ntrusted_proxies=proxy.local\n'),
      /trusted_proxies entry "proxy.local"/,
    )
  })

  it('needs an smtp URL when the mailer sends by SMTP; the environment may give it', () => {
    assert.throws(() => load('[mailer]\ntransport=smtp\n'), /mailer\.smtp_url/)
    const config = load('[mailer]\ntransport=smtp\n', {
      MAIL2SMS_SMTP_URL: 'smtp://127.0.0.1:2526',
    })
    assert.equal(config.mailer.smtpUrl, 'smtp://127.0.0.1:2526')
  })

  it('derives the mailer From from the first SMS domain', () => {
    const config = load('[mx]\ndomains=SMS.Example.org, sms2.example.org\n')
    assert.equal(config.mailer.from, 'Mail2SMS <mail2sms@sms.example.org>')
  })

  it('needs SMPP credentials when the worker sends by SMPP', () => {
    assert.throws(() => load('[worker]\ntransport=smpp\n'), /smpp\.system_id/)
  })

  it('refuses a database URL that is not MySQL', () => {
    assert.throws(() => load('', { DATABASE_URL: 'postgres://x' }), /must start with mysql:\/\//)
  })
  it('keeps text and addresses for ever unless [retention] says otherwise', () => {
    const shipped = loadConfig(path.resolve(__dirname, '../../config/mail2sms.ini'), {})
    for (const config of [shipped, load('')]) {
      assert.deepEqual(config.retention, {
        textDays: 0,
        addressesDays: 0,
        purgeIntervalMinutes: 60,
        purgeBatchSize: 100,
        purgePauseMs: 100,
      })
    }
    const set = load('[retention]\ntext_days=30\naddresses_days=365\npurge_batch_size=200\n')
    assert.equal(set.retention.textDays, 30)
    assert.equal(set.retention.addressesDays, 365)
    assert.equal(set.retention.purgeBatchSize, 200)
  })

  it('refuses a retention shorter than the direct reply window, naming the key', () => {
    assert.throws(
      () => load('[retention]\naddresses_days=2\n'),
      (err: Error) => {
        assert.ok(err instanceof ConfigError)
        assert.match(
          err.message,
          /retention\.addresses_days is 2 day.*direct_reply_window_hours \(72 h\).*at least 3 days/,
        )
        return true
      },
    )
    assert.equal(
      load('[inbound]\ndirect_reply_window_hours=24\n[retention]\ntext_days=1\n').retention
        .textDays,
      1,
    )
    assert.throws(
      () => load('[retention]\ntext_days=-1\n'),
      /retention\.text_days must be a whole number/,
    )
    assert.throws(
      () => load('[retention]\npurge_batch_size=0\n'),
      /retention\.purge_batch_size must be at least 1/,
    )
  })

  it('reads the help contact of [admin], each part optional and checked, naming the key', () => {
    assert.deepEqual(load('').admin.help, { email: null, phone: null, url: null })
    const shipped = loadConfig(path.resolve(__dirname, '../../config/mail2sms.ini'), {})
    assert.deepEqual(shipped.admin.help, { email: null, phone: null, url: null })
    assert.deepEqual(
      load(
        '[admin]\nhelp_email=Support@Operator.test\nhelp_phone=+33 1 23 45 67 89\nhelp_url=https://help.operator.test/sms\n',
      ).admin.help,
      {
        email: 'support@operator.test',
        phone: '+33123456789',
        url: 'https://help.operator.test/sms',
      },
    )
    assert.equal(load('[admin]\nhelp_phone=0033123456789\n').admin.help?.phone, '+33123456789')
    assert.throws(() => load('[admin]\nhelp_email=support\n'), /admin\.help_email must be an email/)
    assert.throws(
      () => load('[admin]\nhelp_phone=01 23 45 67 89\n'),
      /admin\.help_phone must be a phone number in international form/,
    )
    assert.throws(() => load('[admin]\nhelp_phone=+33 1 23\n'), /admin\.help_phone .* too short/)
    assert.throws(
      () => load('[admin]\nhelp_url=javascript:alert(1)\n'),
      /admin\.help_url must be an http:\/\/ or https:\/\/ address/,
    )
    assert.throws(() => load('[admin]\nhelp_url=help.operator.test\n'), /admin\.help_url/)
  })

  it('reads the password reset settings of [admin], with bounds', () => {
    assert.deepEqual(load('').admin.passwordReset, {
      ttlMinutes: 60,
      mailsPerAddress: 3,
      requestsPerClient: 10,
      windowMinutes: 60,
    })
    const set = load(
      '[admin]\npassword_reset_ttl_minutes=30\npassword_reset_mails_per_address=2\npassword_reset_requests_per_client=5\npassword_reset_window_minutes=120\n',
    )
    assert.deepEqual(set.admin.passwordReset, {
      ttlMinutes: 30,
      mailsPerAddress: 2,
      requestsPerClient: 5,
      windowMinutes: 120,
    })
    assert.throws(
      () => load('[admin]\npassword_reset_ttl_minutes=2000\n'),
      /admin\.password_reset_ttl_minutes must be at most 1440/,
    )
    assert.throws(
      () => load('[admin]\npassword_reset_mails_per_address=0\n'),
      /admin\.password_reset_mails_per_address must be at least 1/,
    )
  })
})
