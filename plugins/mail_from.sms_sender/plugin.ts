import type { Address, Connection, Next, Plugin } from 'haraka'
import { authoriseForAccounts, lookupSender, type SenderState } from '../../lib/mx/sender-policy'
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
  this.register_hook('mail', 'check_sender')
}

/** MAIL FROM: an accepted sender of some account, from an allowed IP or with SPF pass. */
export function check_sender(
  this: Plugin,
  nextHook: Next,
  connection: Connection,
  params: Address[],
): void {
  const next = once(nextHook)
  const deadline = hookDeadline(this)
  const ip = connection.remote.ip
  const work = async () => {
    const from = params[0]
    const notes = smsNotes(connection)
    if (from.isNull()) {
      // Refused at RCPT rather than here, so each recipient's reply names the reason.
      notes.sender = null
      connection.loginfo(this, `sender=<> ip=${ip} decision=refuse-at-rcpt`)
      return next()
    }
    const sender = from.address.toLowerCase()
    const rt = runtime()
    const directory = await rt.directory.get()
    const found = lookupSender(directory, sender)
    if (found.decision.action !== 'accept') {
      logDecision(this, connection, found.decision, `sender=${sender} ip=${ip} accounts=none`)
      return reply(next, found.decision)
    }
    const state: SenderState = {
      ip,
      sender,
      accepted: found.accepted,
      ipAccounts: directory.allowlist.accountsFor(ip),
      spf: null,
    }
    const helo = connection.hello?.host ?? ''
    const decision = await authoriseForAccounts(
      state,
      found.accepted,
      () => rt.spf(ip, sender, helo, deadline),
      sender,
    )
    const accounts = found.accepted.map((m) => m.account.ref).join(',')
    logDecision(
      this,
      connection,
      decision,
      `sender=${sender} accounts=${accounts} ip=${ip} ip_allowed=${state.ipAccounts.size > 0} spf=${state.spf?.result ?? 'skipped'}`,
    )
    connection.transaction?.results.add(this, {
      [decision.action === 'accept' ? 'pass' : 'fail']: 'sms_sender',
    })
    if (decision.action === 'accept') notes.sender = state
    reply(next, decision.action === 'accept' ? { action: 'accept' } : decision)
  }
  work().catch((err) => replyTemporaryFailure(this, connection, next, err, 'sender check'))
}
