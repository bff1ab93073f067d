import { parseSmsNumber } from '../phone'
import type { Decision } from './decision'
import { answer } from './replies'
import { effectiveDestinations, refusedDestination } from '../limits/destinations'
import type { Membership } from './directory'
import { splitRecipient } from './recipient'
import {
  authoriseForAccounts,
  chooseMembership,
  type SenderState,
  type SpfCheck,
} from './sender-policy'

export interface PlannedRecipient {
  address: string
  e164: string
  membership: Membership
}

export interface RecipientInput {
  localPart: string
  domain: string
  sender: SenderState | null
  domains: string[]
  checkSpf: SpfCheck
  /** Numbers that texted STOP, by account id (the directory's). */
  optOuts?: ReadonlyMap<number, ReadonlyMap<string, { keyword: string }>>
  /** `limits.allowed_destinations`: for accounts without a list of their own. */
  defaultDestinations?: readonly string[]
}

/** A definite no: the person asked this account for no more SMS, and only they can undo it. */
export function optedOut(e164: string, keyword: string): Decision {
  return answer('optedOut', { e164, keyword })
}

/** The RCPT TO row of the decision table: relay, bounce, account, authorisation, number. */
export async function checkRecipient(
  input: RecipientInput,
): Promise<{ decision: Decision } | { recipient: PlannedRecipient }> {
  const { localPart, sender } = input
  const rcpt = splitRecipient(localPart, input.domain)
  const address = `${localPart}@${rcpt.domain}`
  if (!input.domains.includes(rcpt.domain)) {
    return { decision: answer('relayDenied', { domain: input.domains[0] }) }
  }
  if (!sender) {
    return { decision: answer('nullSender', {}) }
  }
  const chosen = chooseMembership(sender.accepted, rcpt.accountRef, sender.sender)
  if ('decision' in chosen) return chosen
  const { membership } = chosen
  const auth = await authoriseForAccounts(
    sender,
    [membership],
    input.checkSpf,
    `account "${membership.account.ref}"`,
  )
  if (auth.action !== 'accept') return { decision: auth }
  const parsed = parseSmsNumber(rcpt.number, membership.account.defaultCountry)
  if (!parsed.ok) {
    return {
      decision: answer('invalidNumber', { address, problem: parsed.message, domain: rcpt.domain }),
    }
  }
  const account = membership.account
  const allowed = effectiveDestinations(
    account.defaultCountry,
    account.limits.allowedDestinations ?? input.defaultDestinations ?? [],
  )
  const destination = refusedDestination(parsed, allowed)
  if (destination) {
    return {
      decision: answer('destinationNotAllowed', {
        e164: parsed.e164,
        destination,
        account: account.ref,
        allowed: allowed.join(', '),
      }),
    }
  }
  const optOut = input.optOuts?.get(membership.account.id)?.get(parsed.e164)
  if (optOut) return { decision: optedOut(parsed.e164, optOut.keyword) }
  return { recipient: { address, e164: parsed.e164, membership } }
}
