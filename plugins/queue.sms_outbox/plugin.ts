import type { ParsedMail } from 'mailparser'
import type { Connection, Next, Plugin } from 'haraka'
import { toOutboundRows } from '../../lib/mx/message'
import { accept } from '../../lib/mx/decision'
import { once, reply, replyTemporaryFailure, runtime, smsNotes } from '../_shared/haraka'

export function register(this: Plugin): void {
  // The commit happens at the end of DATA, after data.sms_text, rather than in the queue hook:
  // Haraka answers a DENYSOFT from the queue hook with a bare 450 whatever reply code it is
  // given, while at data_post the 451 of a database failure reaches the client as written.
  this.register_hook('data_post', 'store_sms')
  this.register_hook('queue', 'confirm_queued')
}

/** Commits one row per recipient, atomically; only then can the client get 250. */
export function store_sms(this: Plugin, nextHook: Next, connection: Connection): void {
  const next = once(nextHook)
  const txn = connection.transaction
  const notes = smsNotes(connection)
  const mail = txn?.notes.sms_mail as ParsedMail | undefined
  if (!txn || !mail || !notes.sender || notes.drafts.length === 0) {
    return replyTemporaryFailure(this, connection, next, new Error('no prepared SMS'), 'SMS queue')
  }
  const sender = notes.sender.sender
  const first = notes.drafts[0]
  Promise.resolve()
    .then(() => runtime().outbox.write(toOutboundRows(notes.drafts, mail, sender, txn.uuid)))
    .then(({ ids, duplicates }) => {
      connection.lognotice(
        this,
        `queued sms_ids=${ids.join(',')} duplicates=${duplicates} sender=${sender} encoding=${first.analysis.encoding} segments=${first.analysis.segments} message_id=${mail.messageId ?? 'none'}`,
      )
      const what = ids.length === 1 ? `SMS ${ids[0]}` : `${ids.length} SMS (${ids.join(', ')})`
      txn.notes.sms_queued =
        duplicates === ids.length ? `already queued as ${what}` : `queued as ${what}`
      next()
    })
    .catch((err) => replyTemporaryFailure(this, connection, next, err, 'SMS queue'))
}

export function confirm_queued(this: Plugin, next: Next, connection: Connection): void {
  const queued = connection.transaction?.notes.sms_queued as string | undefined
  if (!queued)
    return replyTemporaryFailure(this, connection, next, new Error('nothing stored'), 'SMS queue')
  reply(next, accept(queued))
}
