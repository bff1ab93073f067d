import type { Address, Connection, Next, Plugin } from 'haraka'
import { accept } from '../../lib/mx/decision'
import { answer } from '../../lib/mx/replies'
import { checkRecipient } from '../../lib/mx/recipient-policy'
import {
  hookDeadline,
  logDecision,
  once,
  reply,
  replyTemporaryFailure,
  runtime,
  smsNotes,
} from '../_shared/haraka'

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
  const deadline = hookDeadline(this)
  const rcpt = params[0]
  const notes = smsNotes(connection)
  const work = async () => {
    const rt = runtime()
    const max = rt.config.mx.maxRecipients
    if (notes.recipients.length >= max) {
      return reply(next, answer('tooManyRecipients', { max }))
    }
    const sender = notes.sender
    // Served from memory; reloaded when an opt-out (or any account change) moves its version.
    const directory = await rt.directory.get()
    const result = await checkRecipient({
      localPart: rcpt.user ?? '',
      domain: rcpt.host ?? '',
      sender,
      domains: rt.config.mx.domains,
      checkSpf: () =>
        rt.spf(connection.remote.ip, sender?.sender ?? '', connection.hello?.host ?? '', deadline),
      optOuts: directory.optOuts,
      defaultDestinations: rt.config.limits.allowedDestinations,
    })
    if ('decision' in result) {
      logDecision(
        this,
        connection,
        result.decision,
        `rcpt=${rcpt.address} sender=${sender?.sender ?? '<>'}`,
      )
      return reply(next, result.decision)
    }
    const planned = result.recipient
    // The same mobile written twice (06… and +336…) is one SMS.
    const repeated = notes.recipients.some(
      (r) => r.e164 === planned.e164 && r.membership.account.id === planned.membership.account.id,
    )
    if (!repeated) notes.recipients.push(planned)
    const decision = accept()
    logDecision(
      this,
      connection,
      decision,
      `rcpt=${rcpt.address} number=${result.recipient.e164} account=${result.recipient.membership.account.ref}`,
    )
    reply(next, decision)
  }
  work().catch((err) => replyTemporaryFailure(this, connection, next, err, 'recipient check'))
}
