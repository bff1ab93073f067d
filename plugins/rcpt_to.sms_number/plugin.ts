import type { Address, Connection, Next, Plugin } from 'haraka'
import { defer } from '../../lib/mx/decision'
import { checkRecipient } from '../../lib/mx/recipient-policy'
import { once, reply, replyTemporaryFailure, runtime, smsNotes } from '../_shared/haraka'

export function register(this: Plugin): void {
  this.register_hook('rcpt', 'check_number')
}

/** RCPT TO: our domain, a valid mobile number, an account the sender may use. */
export function check_number(
  this: Plugin,
  nextHook: Next,
  connection: Connection,
  params: Address[],
): void {
  const next = once(nextHook)
  const rcpt = params[0]
  const notes = smsNotes(connection)
  const work = async () => {
    const rt = runtime()
    const max = rt.config.mx.maxRecipients
    if (notes.recipients.length >= max) {
      return reply(
        next,
        defer(
          '4.5.3',
          `too many recipients: at most ${max} numbers per message; send the rest in another message`,
          452,
        ),
      )
    }
    const sender = notes.sender
    const result = await checkRecipient({
      localPart: rcpt.user ?? '',
      domain: rcpt.host ?? '',
      sender,
      domains: rt.config.mx.domains,
      checkSpf: () =>
        rt.spf(connection.remote.ip, sender?.sender ?? '', connection.hello?.host ?? ''),
    })
    if ('decision' in result) {
      const status = result.decision.action === 'accept' ? '' : result.decision.status
      connection.loginfo(
        this,
        `rcpt=${rcpt.address} decision=${result.decision.action} status=${status}`,
      )
      return reply(next, result.decision)
    }
    notes.recipients.push(result.recipient)
    connection.loginfo(
      this,
      `rcpt=${rcpt.address} number=${result.recipient.e164} account=${result.recipient.membership.account.ref} decision=accept`,
    )
    reply(next, { action: 'accept' })
  }
  work().catch((err) => replyTemporaryFailure(this, connection, next, err, 'recipient check'))
}
