import assert from 'node:assert/strict'
import fc from 'fast-check'
import examples from 'libphonenumber-js/examples.mobile.json'
import {
  getCountries,
  parsePhoneNumberFromString,
  type CountryCode,
  type PhoneNumber,
} from 'libphonenumber-js/max'
import { parseSmsNumber } from '../../../lib/phone'
import { checkProperty, show } from '../../support/fuzz'

const E164 = /^\+[1-9]\d{6,14}$/

// Every region libphonenumber has a mobile example for: the generator varies its last digits.
const REGIONS = getCountries().filter((c) => (examples as Record<string, string>)[c])

const countryArgument = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...REGIONS) },
  { weight: 1, arbitrary: fc.constantFrom('fr', ' FR ', 'ZZ', 'XK', '', 'FRA', '33') },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
)

const phoneish = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...'0123456789') },
      { weight: 1, arbitrary: fc.constantFrom(...'+ .-()/') },
      { weight: 1, arbitrary: fc.constantFrom('00', '+33', '0033', '06', '(0)', '\t', 'x', '٣') },
    ),
    { maxLength: 24 },
  )
  .map((pieces) => pieces.join(''))

interface Mobile {
  region: CountryCode
  number: PhoneNumber
}

// A region's example mobile with its last three digits replaced, kept when it is still a
// valid number that can take an SMS and belongs to the region.
const validMobile: fc.Arbitrary<Mobile> = fc
  .tuple(fc.constantFrom(...REGIONS), fc.integer({ min: 0, max: 999 }))
  .map(([region, tail]) => {
    const national = (examples as Record<string, string>)[region]
    const digits = national.slice(0, -3) + String(tail).padStart(3, '0').slice(-national.length)
    return { region, number: parsePhoneNumberFromString(digits, region) }
  })
  .filter(
    (m): m is Mobile =>
      m.number !== undefined &&
      m.number.isValid() &&
      m.number.country === m.region &&
      ['MOBILE', 'FIXED_LINE_OR_MOBILE'].includes(m.number.getType() ?? ''),
  )

/** The ways people write one number for a sender in its own region. */
function writings(number: PhoneNumber): string[] {
  const national = number.formatNational()
  const nationalDigits = national.replace(/\D/g, '')
  return [
    number.number,
    `00${number.number.slice(1)}`,
    national,
    nationalDigits,
    nationalDigits.replace(/(\d\d)(?=\d)/g, '$1.'),
    nationalDigits.replace(/(\d\d)(?=\d)/g, '$1 '),
    number.formatInternational(),
  ]
}

// A real writing of a mobile, sometimes damaged (a digit dropped, doubled or changed, a stray
// character): half of these still parse, so the acceptance side gets exercised too.
const nearlyValid = fc
  .tuple(validMobile, fc.nat(), fc.nat(), fc.constantFrom('', 'drop', 'double', 'change', 'insert'))
  .map(([{ region, number }, pick, at, damage]) => {
    const all = writings(number)
    const written = all[pick % all.length]
    const i = at % written.length
    const damaged =
      damage === 'drop'
        ? written.slice(0, i) + written.slice(i + 1)
        : damage === 'double'
          ? written.slice(0, i) + written[i] + written.slice(i)
          : damage === 'change'
            ? written.slice(0, i) + String((at >> 4) % 10) + written.slice(i + 1)
            : damage === 'insert'
              ? written.slice(0, i) + ' -./()+#a'[(at >> 4) % 9] + written.slice(i)
              : written
    return { input: damaged, country: region as string }
  })

const anyLocalPart = fc.oneof(
  fc.record({
    input: fc.oneof(phoneish, fc.string({ unit: 'binary', maxLength: 30 })),
    country: countryArgument,
  }),
  nearlyValid,
)

describe('fuzz: lib/phone', () => {
  it('never throws, and whatever it accepts is E.164 and reads back the same', () => {
    let accepted = 0
    checkProperty(
      fc.property(anyLocalPart, ({ input, country }) => {
        const parsed = parseSmsNumber(input, country)
        if (parsed.ok) accepted++
        if (!parsed.ok) {
          assert.ok(['invalid', 'not_mobile'].includes(parsed.reason))
          assert.ok(parsed.message.length > 0)
          return
        }
        assert.match(parsed.e164, E164, `${show(input)} (${country})`)
        // The E.164 form is international: it means the same number whatever the region.
        const again = parseSmsNumber(parsed.e164, 'US')
        assert.ok(again.ok && again.e164 === parsed.e164, `${parsed.e164} does not read back`)
      }),
      300,
    )
    assert.ok(accepted > 0, 'no input was accepted: the acceptance side went untested')
  })

  it('reads every usual writing of a mobile the same, for a sender in its region', () => {
    checkProperty(
      fc.property(validMobile, ({ region, number }) => {
        for (const written of writings(number)) {
          const parsed = parseSmsNumber(written, region)
          assert.ok(
            parsed.ok,
            `${show(written)} (${region}) refused: ${parsed.ok || parsed.message}`,
          )
          assert.equal(parsed.e164, number.number, `${show(written)} (${region})`)
        }
      }),
      200,
    )
  })

  it('reads the calling code without + as the same mobile, unless the digits are a national number', () => {
    checkProperty(
      fc.property(validMobile, ({ region, number }) => {
        const digits = number.number.slice(1)
        const parsed = parseSmsNumber(digits, region)
        if (parsed.ok && parsed.e164 === number.number) return
        // The documented exception: digits that form a valid national number are read as one.
        const national = parsePhoneNumberFromString(digits, region)
        assert.ok(
          national?.isValid() && national.number !== number.number,
          `${digits} (${region}) gave ${parsed.ok ? parsed.e164 : parsed.message}`,
        )
      }),
      150,
    )
  })
})
