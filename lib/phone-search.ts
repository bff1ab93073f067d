import {
  AsYouType,
  isSupportedCountry,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/max'

/**
 * What an admin typed in a "number" search box, read against numbers stored in E.164:
 * - a whole number, national (in the account's country) or international: that number;
 * - the beginning of one, international (`+336`, `00336`) or national (`06 12`, read in the
 *   account's country as `+33612`): every number that starts so;
 * - digits alone (`12 34`): every number that contains them, wherever they are.
 * Spaces, dots, dashes, brackets and slashes are ignored. Null for anything else.
 */
export type NumberSearch =
  | { kind: 'exact'; number: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'digits'; digits: string }

/** The longest E.164 number has 15 digits; a few more for a trunk prefix or 00. */
const MAX_TYPED_DIGITS = 17

const SEARCH_CHARS = /^(\+|00)?\d+$/

function wholeNumber(text: string, country: CountryCode | undefined): string | null {
  const parsed = parsePhoneNumberFromString(text, { defaultCountry: country, extract: false })
  return parsed?.isValid() ? parsed.number : null
}

export function parseNumberSearch(input: string, defaultCountry: string): NumberSearch | null {
  const compact = input.replace(/[\s.\-()/]/g, '')
  if (!SEARCH_CHARS.test(compact) || compact.replace(/\D/g, '').length > MAX_TYPED_DIGITS) {
    return null
  }
  const upper = defaultCountry.toUpperCase()
  const country = isSupportedCountry(upper) ? upper : undefined
  if (/^(\+|00)/.test(compact)) {
    const international = `+${compact.replace(/^(\+|00)/, '')}`
    if (international === '+') return null
    const whole = wholeNumber(international, undefined)
    return whole ? { kind: 'exact', number: whole } : { kind: 'prefix', prefix: international }
  }
  if (compact.startsWith('0') && country) {
    const whole = wholeNumber(compact, country)
    if (whole) return { kind: 'exact', number: whole }
    // The country's trunk prefix dropped and its calling code put in front, as the number
    // is stored: "06 12" in France is "+33612", "0151" in Germany "+49151".
    const typing = new AsYouType(country)
    typing.input(compact)
    const begun = typing.getNumberValue()
    if (begun && /^\+\d{2,}$/.test(begun)) return { kind: 'prefix', prefix: begun }
  }
  return { kind: 'digits', digits: compact }
}

/** A number search as SQL LIKE matches it: digits and '+' are never wildcards. */
export function likePattern(search: Exclude<NumberSearch, { kind: 'exact' }>): string {
  return search.kind === 'prefix' ? `${search.prefix}%` : `%${search.digits}%`
}

/** Whether a stored number matches the search, as likePattern does in SQL. */
export function matchesNumberSearch(number: string, search: NumberSearch): boolean {
  if (search.kind === 'exact') return number === search.number
  if (search.kind === 'prefix') return number.startsWith(search.prefix)
  return number.includes(search.digits)
}
