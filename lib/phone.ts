import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type NumberType,
  type PhoneNumber,
} from 'libphonenumber-js/max'

export type SmsNumberParse =
  | {
      ok: true
      e164: string
      /** ISO 3166 region; undefined for non-geographic ranges (satellite, +882/+883…). */
      country: string | undefined
      /** The country calling code, without `+`: `33`, `881`. */
      callingCode: string
      type: string | undefined
    }
  | { ok: false; reason: 'invalid' | 'not_mobile'; message: string }

/**
 * Types a carrier can deliver an SMS to. FIXED_LINE_OR_MOBILE is what the
 * metadata says when a country's ranges do not tell the two apart (the US,
 * Canada): refusing it would refuse every North American mobile.
 */
const SMS_TYPES: ReadonlySet<NumberType> = new Set<NumberType>(['MOBILE', 'FIXED_LINE_OR_MOBILE'])

/**
 * Everything else is refused, each with a name a sender understands. VoIP and
 * personal (follow-me) ranges sometimes take SMS, but not reliably through an
 * SMSC, and an SMS that silently vanishes is worse than a bounce that says why.
 */
const REFUSED_TYPES: Record<string, string> = {
  FIXED_LINE: 'a landline number',
  PREMIUM_RATE: 'a premium-rate number',
  TOLL_FREE: 'a toll-free number',
  SHARED_COST: 'a shared-cost number',
  VOIP: 'a VoIP number',
  PERSONAL_NUMBER: 'a personal (follow-me) number',
  PAGER: 'a pager number',
  UAN: 'a company switchboard number',
  VOICEMAIL: 'a voicemail access number',
}

// Digits with the separators people type; a leading + or a bracketed trunk
// prefix like `+33 (0)6…`. Letters are refused outright: without this the
// parser would pick a number out of surrounding text.
const PHONE_CHARS = /^\+?[\d\s.\-()/]+$/

function toCountry(code: string): CountryCode | undefined {
  const upper = code.trim().toUpperCase()
  return isSupportedCountry(upper) ? upper : undefined
}

export function isValidCountry(code: string): boolean {
  return /^[A-Za-z]{2}$/.test(code.trim()) && toCountry(code) !== undefined
}

function lengthProblem(text: string, country: CountryCode | undefined): string {
  switch (validatePhoneNumberLength(text, country)) {
    case 'TOO_SHORT':
      return 'is too short for a phone number'
    case 'TOO_LONG':
      return 'is too long for a phone number'
    case 'INVALID_COUNTRY':
      return country
        ? 'has an unknown country code'
        : 'needs a country code (no valid default country is set)'
    default:
      return 'is not a valid phone number'
  }
}

function parseValid(text: string, country: CountryCode | undefined): PhoneNumber | undefined {
  const number = parsePhoneNumberFromString(text, { defaultCountry: country, extract: false })
  return number?.isValid() ? number : undefined
}

/**
 * Reads the local part of an SMS address (or a number typed in the admin)
 * into E.164, for a sender whose account has `defaultCountry`.
 *
 * A number without `+` is read as national first, so `0612345678` in France
 * is French. libphonenumber also reads the default country's calling code
 * without `+` (`33612345678`) when, and only when, the digits are not a valid
 * national number. Other countries' codes without `+` or `00` are not
 * guessed: a national number with a typo can look like a valid foreign one,
 * and the SMS would go abroad.
 *
 * A valid number whose type the metadata cannot tell is accepted: that is
 * rare with the full metadata, and the carrier's delivery report will say
 * if it was not a mobile.
 */
export function parseSmsNumber(input: string, defaultCountry: string): SmsNumberParse {
  const key = `${defaultCountry}\0${input}`
  const known = recentParses.get(key)
  if (known) return known
  const parsed = Object.freeze(readSmsNumber(input, defaultCountry))
  if (recentParses.size >= RECENT_PARSES) recentParses.clear()
  recentParses.set(key, parsed)
  return parsed
}

/**
 * The numbers read lately, with their country: the MX reads one per RCPT, and mail goes again
 * and again to the same few numbers (an on-call phone, a team's mobiles); libphonenumber spends
 * 10–20 µs on each. Cleared whole when full: a simple bound for what is only a shortcut.
 */
const recentParses = new Map<string, SmsNumberParse>()
const RECENT_PARSES = 10_000

function readSmsNumber(input: string, defaultCountry: string): SmsNumberParse {
  const text = input.trim()
  const country = toCountry(defaultCountry)
  if (!text || !PHONE_CHARS.test(text) || !/\d/.test(text)) {
    return { ok: false, reason: 'invalid', message: `"${input}" is not a phone number` }
  }

  // `00` is the international prefix almost everywhere; libphonenumber only
  // knows it for countries whose prefix it is (not the US, for instance).
  const number =
    parseValid(text, country) ??
    (/^00[1-9]/.test(text) ? parseValid(`+${text.slice(2)}`, country) : undefined)
  if (!number) {
    return { ok: false, reason: 'invalid', message: `${text} ${lengthProblem(text, country)}` }
  }

  const e164 = number.number
  const type = number.getType()
  if (type !== undefined && !SMS_TYPES.has(type)) {
    const what = REFUSED_TYPES[type] ?? `a ${type.toLowerCase().replace(/_/g, ' ')} number`
    return { ok: false, reason: 'not_mobile', message: `${e164} is ${what}, not a mobile` }
  }
  return { ok: true, e164, country: number.country, callingCode: number.countryCallingCode, type }
}

export type NumberParse = { ok: true; e164: string } | { ok: false; message: string }

/**
 * An account's virtual number (the number inbound SMS arrive on, and the sender of its SMS
 * when it has no sender name), to E.164. Written in international form, or national in the
 * account's `defaultCountry`. Only the length is checked against the country's plan, not the
 * ranges: carriers hand out numbers from ranges newer than libphonenumber's metadata, and a
 * number the carrier gave must not be refused. Short codes are not numbers here: inbound SMS
 * are matched on E.164.
 */
export function parseVirtualNumber(input: string, defaultCountry?: string): NumberParse {
  const text = input.trim()
  if (!text || !PHONE_CHARS.test(text) || !/\d/.test(text)) {
    return { ok: false, message: `"${input.trim()}" is not a phone number` }
  }
  const country = defaultCountry ? toCountry(defaultCountry) : undefined
  const international = /^00[1-9]/.test(text) ? `+${text.slice(2)}` : text
  const number = parsePhoneNumberFromString(international, {
    defaultCountry: country,
    extract: false,
  })
  if (!number?.isPossible()) {
    return { ok: false, message: `${text} ${lengthProblem(international, country)}` }
  }
  return { ok: true, e164: number.number }
}

/**
 * A number people call (the operator's help line): international form only, since the admin
 * has no country of its own, and valid for its country, since a typo here sends callers
 * nowhere.
 */
export function parseContactPhone(input: string): NumberParse {
  const text = input.trim()
  const international = /^00[1-9]/.test(text) ? `+${text.slice(2)}` : text
  if (!international.startsWith('+') || !PHONE_CHARS.test(international)) {
    return { ok: false, message: `"${text}" does not start with + and a country code` }
  }
  const number = parseValid(international, undefined)
  if (!number) return { ok: false, message: `${text} ${lengthProblem(international, undefined)}` }
  return { ok: true, e164: number.number }
}

/** E.164 as people read it: `+33 1 23 45 67 89`. */
export function formatInternational(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164
}
