import { parseSmsNumber } from '../phone'
import { deny, type Decision } from './decision'
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
}

/** A definite no: the person asked this account for no more SMS, and only they can undo it. */
export function optedOut(e164: string, keyword: string): Decision {
  return deny(
    '5.7.1',
    `${e164} has opted out of SMS from this account (they texted ${keyword}); they can text START to opt back in`,
  )
}

/** The RCPT TO row of the decision table: relay, bounce, account, authorisation, number. */
export async function checkRecipient(
  input: RecipientInput,
): Promise<{ decision: Decision } | { recipient: PlannedRecipient }> {
  const { localPart, sender } = input
  const rcpt = splitRecipient(localPart, input.domain)
  const address = `${localPart}@${rcpt.domain}`
  if (!input.domains.includes(rcpt.domain)) {
    return {
      decision: deny(
        '5.7.1',
        `relaying denied: this gateway only takes mail for <mobile number>@${input.domains[0]}`,
      ),
    }
  }
  if (!sender) {
    return {
      decision: deny(
        '5.7.1',
        'mail from the null sender <> (bounces, notices) is never sent as SMS',
      ),
    }
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
      decision: deny(
        '5.1.3',
        `${address}: ${parsed.message}; write the mobile number in international form, e.g. +33612345678@${rcpt.domain}`,
      ),
    }
  }
  const optOut = input.optOuts?.get(membership.account.id)?.get(parsed.e164)
  if (optOut) return { decision: optedOut(parsed.e164, optOut.keyword) }
  return { recipient: { address, e164: parsed.e164, membership } }
}
