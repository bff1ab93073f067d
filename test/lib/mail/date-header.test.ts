import assert from 'node:assert/strict'
import { parseDateHeader } from '../../../lib/mail/date-header'

const at = (iso: string) => Date.parse(iso)

describe('lib/mail/date-header parseDateHeader', () => {
  it('reads RFC 5322 dates with their numeric zone', () => {
    assert.equal(parseDateHeader('Sun, 6 Dec 2026 14:05:09 +0100'), at('2026-12-06T13:05:09Z'))
    assert.equal(parseDateHeader('6 Dec 2026 14:05 -0530'), at('2026-12-06T19:35:00Z'))
    assert.equal(
      parseDateHeader('Sunday, 06 December 2026 09:00:00 +0000'),
      at('2026-12-06T09:00:00Z'),
    )
  })

  it('reads the obsolete forms: named zones, two-digit years, comments and folding', () => {
    assert.equal(parseDateHeader('Fri, 27 Nov 26 11:00:00 EST'), at('2026-11-27T16:00:00Z'))
    assert.equal(parseDateHeader('27 Nov 99 11:00 GMT'), at('1999-11-27T11:00:00Z'))
    assert.equal(
      parseDateHeader('Fri, 27 Nov 2026\r\n 11:00:00 +0200 (CEST)'),
      at('2026-11-27T09:00:00Z'),
    )
  })

  it('reads an ISO 8601 date with its zone', () => {
    assert.equal(parseDateHeader('2026-12-06T14:05:09.123+01:00'), at('2026-12-06T13:05:09Z'))
    assert.equal(parseDateHeader('2026-12-06 14:05:09Z'), at('2026-12-06T14:05:09Z'))
  })

  it('reads a date without a zone, or with an unknown one, as UTC whatever the process zone', () => {
    const zone = process.env.TZ
    try {
      for (const tz of ['Pacific/Auckland', 'America/Los_Angeles']) {
        process.env.TZ = tz
        assert.equal(parseDateHeader('6 Dec 2026 14:05:09'), at('2026-12-06T14:05:09Z'))
        assert.equal(parseDateHeader('6 Dec 2026 14:05:09 XYZ'), at('2026-12-06T14:05:09Z'))
        assert.equal(parseDateHeader('2026-12-06T14:05:09'), at('2026-12-06T14:05:09Z'))
      }
    } finally {
      if (zone === undefined) delete process.env.TZ
      else process.env.TZ = zone
    }
  })

  it('gives null for what is not a date', () => {
    for (const text of [
      '',
      'someday',
      'tomorrow 9am',
      '32 Dec 2026 10:00 +0000',
      '6 Foo 2026 10:00',
      '6 Dec 2026 25:00 +0000',
    ]) {
      assert.equal(parseDateHeader(text), null, text)
    }
  })
})
