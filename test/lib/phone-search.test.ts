import assert from 'node:assert/strict'
import { matchesNumberSearch, parseNumberSearch } from '../../lib/phone-search'

describe('lib/phone-search parseNumberSearch', () => {
  it('reads a whole number, national in the account’s country or international, as that number', () => {
    for (const [typed, country] of [
      ['06 12 34 56 78', 'FR'],
      ['06.12.34.56.78', 'FR'],
      ['+33 6 12 34 56 78', 'GB'],
      ['0033612345678', 'DE'],
      ['(+33) 612-345-678', 'FR'],
    ]) {
      assert.deepEqual(parseNumberSearch(typed, country), {
        kind: 'exact',
        number: '+33612345678',
      })
    }
  })

  it('reads the beginning of a number as the start of its E.164 form', () => {
    assert.deepEqual(parseNumberSearch('+336', 'FR'), { kind: 'prefix', prefix: '+336' })
    assert.deepEqual(parseNumberSearch('0033 6 1', 'FR'), { kind: 'prefix', prefix: '+3361' })
    // The trunk 0 dropped and the country code put in front, per the account's country.
    assert.deepEqual(parseNumberSearch('06 12', 'FR'), { kind: 'prefix', prefix: '+33612' })
    assert.deepEqual(parseNumberSearch('0151', 'DE'), { kind: 'prefix', prefix: '+49151' })
  })

  it('reads digits alone as digits found anywhere in the number', () => {
    assert.deepEqual(parseNumberSearch('56 78', 'FR'), { kind: 'digits', digits: '5678' })
    assert.deepEqual(parseNumberSearch('33612345678', 'FR'), {
      kind: 'digits',
      digits: '33612345678',
    })
    // Without a country to read it in, a national beginning is only digits.
    assert.deepEqual(parseNumberSearch('06 12', 'XX'), { kind: 'digits', digits: '0612' })
  })

  it('refuses what is not digits, and numbers longer than any', () => {
    for (const typed of ['', '+', '00', 'abc', '06 12 x', '+33%', "1' OR 1=1", '1'.repeat(18)]) {
      assert.equal(parseNumberSearch(typed, 'FR'), null, typed)
    }
  })

  it('matches stored numbers as the SQL pattern does', () => {
    const number = '+33612345678'
    assert.ok(matchesNumberSearch(number, { kind: 'exact', number }))
    assert.ok(matchesNumberSearch(number, { kind: 'prefix', prefix: '+3361' }))
    assert.ok(!matchesNumberSearch(number, { kind: 'prefix', prefix: '+3362' }))
    assert.ok(matchesNumberSearch(number, { kind: 'digits', digits: '4567' }))
    assert.ok(!matchesNumberSearch(number, { kind: 'digits', digits: '4568' }))
  })
})
