import assert from 'node:assert/strict'
import fc from 'fast-check'
import { formatJson, formatLogfmt, logfmtValue, type LogHead } from '../../../lib/log/format'
import { readFreeText, readPairs } from '../../../lib/log/free-text'
import { redactFields, redactText } from '../../../lib/log/redact'

const HEAD: LogHead = {
  time: '2026-12-06T10:00:00.000Z',
  level: 'info',
  service: 'worker',
  event: 'sms.submitted',
}

/** Values that break naive formatters: quotes, breaks, separators, non-ASCII, bad UTF-16. */
const AWKWARD = [
  '',
  'plain',
  'two words',
  'a=b',
  'say "hi"',
  'back\\slash',
  'line\nbreak',
  'cr\rlf',
  'tab\there',
  'nul\u0000bel\u0007esc\u001b',
  'c1\u0085next',
  'sep\u2028para\u2029',
  'nbsp\u00a0here',
  'é ê ç œ — “quotes”',
  '😀 emoji',
  'lone \ud800 high',
  'lone \udc00 low',
]

/** A logfmt line of head + fields, read back into key → value. */
function readLogfmt(line: string): Record<string, string> {
  const pairs = readPairs(line)
  assert.ok(pairs, `not logfmt: ${line}`)
  return pairs
}

describe('lib/log format', () => {
  it('keeps every value on one line and reads it back, in logfmt and in JSON', () => {
    for (const value of AWKWARD) {
      const logfmt = formatLogfmt(HEAD, { value })
      const json = formatJson(HEAD, { value })
      for (const line of [logfmt, json]) {
        assert.doesNotMatch(
          line,
          /[\n\r\u2028\u2029\u0085]/,
          `one line for ${JSON.stringify(value)}`,
        )
      }
      // Escaped, even a lone surrogate (not valid UTF-8) comes back exactly.
      assert.equal(readLogfmt(logfmt).value, value, logfmt)
      assert.equal(JSON.parse(json).value, value, json)
    }
  })

  it('any string survives both formats (property)', () => {
    fc.assert(
      // Any UTF-16 code unit, lone surrogates included.
      fc.property(
        fc.string({ unit: fc.nat(0xffff).map((n) => String.fromCharCode(n)) }),
        (value) => {
          const logfmt = formatLogfmt(HEAD, { value })
          const json = formatJson(HEAD, { value })
          return (
            !/[\n\r\u0085\u2028\u2029]/.test(logfmt + json) &&
            readLogfmt(logfmt).value === value &&
            JSON.parse(json).value === value
          )
        },
      ),
      { numRuns: 500 },
    )
  })

  it('writes the head first, in order, and a field cannot replace it', () => {
    const line = formatLogfmt(HEAD, { level: 'error', event: 'x', trace: 'abc.1', sms: 12 })
    assert.equal(
      line,
      'time=2026-12-06T10:00:00.000Z level=info service=worker event=sms.submitted level_=error event_=x trace=abc.1 sms=12',
    )
    const json = JSON.parse(formatJson(HEAD, { level: 'error', sms: 12, ids: ['a', 'b'] }))
    assert.deepEqual(Object.keys(json).slice(0, 4), ['time', 'level', 'service', 'event'])
    assert.equal(json.level, 'info')
    assert.equal(json.level_, 'error')
    assert.equal(json.sms, 12)
    assert.deepEqual(json.ids, ['a', 'b'])
  })

  it('quotes only what needs it; lists are comma-joined in logfmt', () => {
    assert.equal(logfmtValue('0612345678'), '0612345678')
    assert.equal(logfmtValue('+33612345678'), '+33612345678')
    assert.equal(logfmtValue('été'), 'été')
    assert.equal(logfmtValue(''), '""')
    assert.equal(logfmtValue(null), '""')
    assert.equal(logfmtValue('a b'), '"a b"')
    assert.equal(logfmtValue(['x', 2]), 'x,2')
    assert.equal(formatLogfmt(HEAD, { 'bad key!': 1 }).endsWith(' bad_key_=1'), true)
  })
})

describe('lib/log redact', () => {
  it('masks passwords in URLs, in key=value text and in secret-named fields', () => {
    assert.equal(
      redactText('database mysql://mail2sms:s3cr%21t@db.example.com:3306/m2s down'),
      'database mysql://mail2sms:[redacted]@db.example.com:3306/m2s down',
    )
    assert.equal(
      redactText('relay smtps://bob:pa:ss@relay.example:465 refused'),
      'relay smtps://bob:[redacted]@relay.example:465 refused',
    )
    assert.equal(
      redactText('bind system_id=x password=hunter2 ok'),
      'bind system_id=x password=[redacted] ok',
    )
    assert.equal(redactText('token: "abc def" then'), 'token: [redacted] then')
    const fields = redactFields({
      password: 'hunter2',
      smpp_password: 'x',
      session_secret: 'y',
      invitation_token: 'z',
      url: 'mysql://root:pw@127.0.0.1/db',
      tokens: 3,
      sms: 5,
    })
    assert.deepEqual(fields, {
      password: '[redacted]',
      smpp_password: '[redacted]',
      session_secret: '[redacted]',
      invitation_token: '[redacted]',
      url: 'mysql://root:[redacted]@127.0.0.1/db',
      tokens: 3,
      sms: 5,
    })
  })

  it('leaves text without secrets as it is (same object when nothing changes)', () => {
    const fields = { sms: 1, msg: 'cannot claim SMS: timeout' }
    assert.equal(redactFields(fields), fields)
    assert.equal(redactText('mysql://db.example.com/m2s'), 'mysql://db.example.com/m2s')
  })
})

describe('lib/log free text', () => {
  it('reads the leading words as the event and key=value pairs as fields', () => {
    assert.deepEqual(readFreeText('smpp bound host=127.0.0.1:2775 system_id=acme', 'log'), {
      event: 'smpp.bound',
      fields: { host: '127.0.0.1:2775', system_id: 'acme' },
    })
    assert.deepEqual(
      readFreeText('smpp connection closed host=h:1 reason="3 submit_sm unanswered"', 'log'),
      {
        event: 'smpp.connection.closed',
        fields: { host: 'h:1', reason: '3 submit_sm unanswered' },
      },
    )
    assert.deepEqual(readFreeText('database ready', 'log'), {
      event: 'database.ready',
      fields: { msg: 'database ready' },
    })
  })

  it('keeps a sentence whole as msg, so it can still be searched for as written', () => {
    assert.deepEqual(readFreeText('cannot claim SMS: connect ECONNREFUSED; retrying', 'log'), {
      event: 'cannot.claim',
      fields: { msg: 'cannot claim SMS: connect ECONNREFUSED; retrying' },
    })
    assert.deepEqual(readFreeText('database unavailable: timeout; mail gets 451', 'log'), {
      event: 'database.unavailable',
      fields: { msg: 'database unavailable: timeout; mail gets 451' },
    })
    assert.deepEqual(readFreeText('SIGTERM: stopping', 'worker'), {
      event: 'worker',
      fields: { msg: 'SIGTERM: stopping' },
    })
  })
})
