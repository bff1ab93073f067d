import assert from 'node:assert/strict'
import {
  formatInternational,
  isValidCountry,
  parseContactPhone,
  parseSmsNumber,
  parseVirtualNumber,
} from '../../lib/phone'

function e164Of(input: string, country: string): string {
  const parsed = parseSmsNumber(input, country)
  assert.ok(
    parsed.ok,
    `expected ${input} (${country}) to be accepted: ${parsed.ok ? '' : parsed.message}`,
  )
  return parsed.e164
}

function refusal(input: string, country: string): { reason: string; message: string } {
  const parsed = parseSmsNumber(input, country)
  assert.ok(
    !parsed.ok,
    `expected ${input} (${country}) to be refused, got ${parsed.ok ? parsed.e164 : ''}`,
  )
  return { reason: parsed.reason, message: parsed.message }
}

describe('lib/phone', () => {
  describe('parseSmsNumber', () => {
    it('reads every usual way of writing a French mobile', () => {
      for (const input of [
        '+33612345678',
        '0033612345678',
        '33612345678',
        '0612345678',
        '06.12.34.56.78',
        '06-12-34-56-78',
        '06 12 34 56 78',
        '+33 6 12 34 56 78',
        '+33 (0)6 12 34 56 78',
      ]) {
        assert.equal(e164Of(input, 'FR'), '+33612345678', input)
      }
    })

    it('reports the country and the type', () => {
      assert.deepEqual(parseSmsNumber('0612345678', 'FR'), {
        ok: true,
        e164: '+33612345678',
        country: 'FR',
        callingCode: '33',
        type: 'MOBILE',
      })
    })

    it('reads a UK mobile in international form from a French account', () => {
      const parsed = parseSmsNumber('+44 7400 123456', 'FR')
      assert.deepEqual(parsed, {
        ok: true,
        e164: '+447400123456',
        country: 'GB',
        callingCode: '44',
        type: 'MOBILE',
      })
      assert.equal(e164Of('0044 7400 123456', 'FR'), '+447400123456')
    })

    it('reads a UK mobile in national form for a UK account', () => {
      assert.equal(e164Of('07400 123456', 'GB'), '+447400123456')
      assert.equal(e164Of('447400123456', 'GB'), '+447400123456')
    })

    it('reads 00 as the international prefix even where the national one differs', () => {
      assert.equal(e164Of('0033612345678', 'US'), '+33612345678')
    })

    it('accepts numbers whose ranges do not tell mobile from landline', () => {
      const parsed = parseSmsNumber('+1 415 555 2671', 'FR')
      assert.ok(parsed.ok)
      assert.equal(parsed.type, 'FIXED_LINE_OR_MOBILE')
    })

    it('accepts a lower-case default country', () => {
      assert.equal(e164Of('0612345678', 'fr'), '+33612345678')
    })

    it('refuses a landline, saying so', () => {
      assert.deepEqual(refusal('+33142685300', 'FR'), {
        reason: 'not_mobile',
        message: '+33142685300 is a landline number, not a mobile',
      })
      assert.equal(refusal('01 42 68 53 00', 'FR').reason, 'not_mobile')
    })

    it('refuses numbers no carrier delivers SMS to', () => {
      assert.match(refusal('0800123456', 'FR').message, /toll-free/)
      assert.match(refusal('0912345678', 'FR').message, /VoIP/)
      assert.match(refusal('+1 900 555 0199', 'FR').message, /premium-rate/)
      assert.match(refusal('+44 70 1122 3344', 'FR').message, /personal/)
    })

    it('refuses garbage', () => {
      for (const input of [
        '',
        '   ',
        'abc',
        'john.doe',
        '+',
        '---',
        'Call 0612345678',
        '0612345678x12',
      ]) {
        assert.equal(refusal(input, 'FR').reason, 'invalid', input)
      }
      assert.match(refusal('abc', 'FR').message, /"abc" is not a phone number/)
    })

    it('says when a number is too short or too long', () => {
      assert.deepEqual(refusal('061234', 'FR'), {
        reason: 'invalid',
        message: '061234 is too short for a phone number',
      })
      assert.match(refusal('+33 6 12 34 56 78 90', 'FR').message, /too long/)
    })

    it('does not guess a foreign country code written without + or 00', () => {
      // Valid as +44 7400 123456, but a French account typing this most likely mistyped.
      assert.equal(refusal('447400123456', 'FR').reason, 'invalid')
    })

    it('refuses an unallocated range', () => {
      // Ofcom keeps 07700 900xxx for drama: it looks like a mobile but is never assigned.
      assert.equal(refusal('+44 7700 900123', 'FR').reason, 'invalid')
    })

    it('needs a country code when the default country is unknown', () => {
      assert.match(refusal('0612345678', 'XX').message, /country code/)
      assert.equal(e164Of('+33612345678', 'XX'), '+33612345678')
    })
  })

  describe('isValidCountry', () => {
    it('knows ISO 3166 two-letter codes the metadata covers', () => {
      assert.equal(isValidCountry('FR'), true)
      assert.equal(isValidCountry('GB'), true)
      assert.equal(isValidCountry('fr'), true)
    })

    it('refuses anything else', () => {
      for (const code of ['', 'XX', 'UK', 'FRA', 'F', '33', '+33']) {
        assert.equal(isValidCountry(code), false, code)
      }
    })
  })
})

describe('lib/phone parseVirtualNumber', () => {
  it('reads international and national forms into E.164, ranges newer than the metadata too', () => {
    // +33 7 00… is not among the ranges libphonenumber knows, but has the length of one.
    for (const input of ['+33700000001', '+33 7 00 00 00 01', '0033700000001', '07.00.00.00.01']) {
      assert.deepEqual(parseVirtualNumber(input, 'FR'), { ok: true, e164: '+33700000001' }, input)
    }
    assert.deepEqual(parseVirtualNumber('07700 900123', 'GB'), { ok: true, e164: '+447700900123' })
  })

  it('refuses text, short codes, wrong lengths and unknown country codes', () => {
    for (const input of ['', 'abc', '36180', '0612', '+33 7 00 00 00 01 23', '+999123456789']) {
      assert.equal(parseVirtualNumber(input, 'FR').ok, false, input)
    }
  })
})

describe('lib/phone parseContactPhone', () => {
  it('takes a valid number in international form only', () => {
    assert.deepEqual(parseContactPhone('+33 1 23 45 67 89'), { ok: true, e164: '+33123456789' })
    assert.deepEqual(parseContactPhone('0033123456789'), { ok: true, e164: '+33123456789' })
    for (const input of ['01 23 45 67 89', '+33 1 23', '+33 0 00 00 00 00', 'support']) {
      assert.equal(parseContactPhone(input).ok, false, input)
    }
    assert.equal(formatInternational('+33123456789'), '+33 1 23 45 67 89')
  })

  it("reads a number again the same way, and never with another country's reading", () => {
    const french = parseSmsNumber('0612345678', 'FR')
    assert.equal(parseSmsNumber('0612345678', 'FR'), french, 'the reading kept, not made again')
    assert.equal(french.ok && french.e164, '+33612345678')
    const belgian = parseSmsNumber('0470123456', 'BE')
    assert.equal(belgian.ok && belgian.e164, '+32470123456')
    assert.equal(parseSmsNumber('0470123456', 'FR').ok, false)
    assert.equal(parseSmsNumber(' 0612345678', 'FR').ok && french.ok, true)
    for (let i = 0; i < 12_000; i++) parseSmsNumber(`06${String(i).padStart(8, '0')}`, 'FR')
    assert.deepEqual(parseSmsNumber('0612345678', 'FR'), french)
  })
})
