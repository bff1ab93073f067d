import type { SpfOutcome } from '../auth/spf'
import { accept, type Decision } from './decision'
import { answer } from './replies'
import type { Directory, Membership } from './directory'

export type SpfCheck = () => Promise<SpfOutcome>

/** What the MX knows about the envelope sender, kept on the transaction between hooks. */
export interface SenderState {
  ip: string
  sender: string
  accepted: Membership[]
  /** Accounts whose allowlist contains the client IP. */
  ipAccounts: Set<number>
  spf: SpfOutcome | null
}

export function lookupSender(
  directory: Directory,
  sender: string,
): { decision: Decision; accepted: Membership[] } {
  const memberships = directory.membershipsByEmail.get(sender.toLowerCase()) ?? []
  const accepted = memberships.filter((m) => m.status === 'accepted')
  if (accepted.length > 0) return { decision: accept(), accepted }
  if (memberships.length > 0) {
    return { decision: answer('senderPending', { sender }), accepted }
  }
  return { decision: answer('senderNotAuthorised', { sender }), accepted }
}

function spfDecision(state: SenderState, spf: SpfOutcome, label: string): Decision {
  const domain = spf.domain || (state.sender.split('@').pop() ?? '')
  switch (spf.result) {
    case 'pass':
      return accept()
    case 'temperror':
      return answer('spfTempError', { domain, explanation: spf.explanation })
    case 'permerror':
      return answer('spfPermError', { domain, explanation: spf.explanation, ip: state.ip })
    default:
      return answer('ipNotAllowed', { ip: state.ip, label, domain, spf: spf.result })
  }
}

/**
 * `label` names what was asked for in the reply: the sender's address at MAIL FROM (an
 * unauthenticated client learns no account names), the chosen account at RCPT TO.
 *
 * A sender may use an account when the client IP is on that account's list, or when SPF says
 * the IP may send for the sender's domain. SPF runs at most once per transaction.
 */
export async function authoriseForAccounts(
  state: SenderState,
  candidates: Membership[],
  checkSpf: SpfCheck,
  label: string,
): Promise<Decision> {
  if (candidates.some((m) => state.ipAccounts.has(m.account.id))) return accept()
  state.spf ??= await checkSpf()
  return spfDecision(state, state.spf, label)
}

/** The sender's account for a recipient: the `+ref` one, or their default. */
export function chooseMembership(
  accepted: Membership[],
  accountRef: string | null,
  sender: string,
): { membership: Membership } | { decision: Decision } {
  if (accountRef) {
    const m = accepted.find((a) => a.account.ref === accountRef)
    if (m) return { membership: m }
    return { decision: answer('notAccountSender', { sender, account: accountRef }) }
  }
  const membership = accepted.find((m) => m.isDefault) ?? accepted[0]
  return { membership }
}
