/**
 * CSV as RFC 4180 writes it: fields separated by commas, records ended by CRLF, a field that
 * holds a comma, a double quote, CR or LF enclosed in double quotes, with its quotes doubled.
 *
 * Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that starts with = + - @
 * (or a tab or CR, which some strip before looking) as a formula, and an SMS text or a sender
 * address is written by whoever sent the email. Such a cell gets a leading apostrophe, which
 * spreadsheets show as text and never evaluate; a tab would do too, but is invisible and
 * survives a copy back into another file. Plain numbers are left alone (a phone number written
 * +33612345678, an amount -2), as OWASP allows: they evaluate to themselves.
 */

const NEEDS_QUOTES = /[",\r\n]/
const FORMULA_START = /^[=+\-@\t\r]/
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/

/** The cell as a spreadsheet will read it safely: text that could run is marked as text. */
export function defuseFormula(value: string): string {
  return FORMULA_START.test(value) && !PLAIN_NUMBER.test(value) ? `'${value}` : value
}

export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return ''
  const text = typeof value === 'number' ? String(value) : defuseFormula(value)
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

export function csvRecord(values: ReadonlyArray<string | number | null | undefined>): string {
  return values.map(csvField).join(',') + '\r\n'
}
