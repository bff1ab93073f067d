export interface RecipientAddress {
  number: string
  accountRef: string | null
  domain: string
}

/**
 * Splits `<number>[+<account-ref>]@<domain>`. A leading "+" belongs to the number
 * (`+33612345678@…`), so the sub-address separator is the first "+" after the first character.
 */
export function splitRecipient(localPart: string, domain: string): RecipientAddress {
  const sep = localPart.indexOf('+', 1)
  const number = sep === -1 ? localPart : localPart.slice(0, sep)
  const ref = sep === -1 ? null : localPart.slice(sep + 1).toLowerCase()
  return { number, accountRef: ref || null, domain: domain.toLowerCase() }
}
