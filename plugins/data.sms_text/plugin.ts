import type { Connection, Next, Plugin } from 'haraka'
import { parseEmail } from '../../lib/mail/parse'
import { draftSms } from '../../lib/mx/message'
import { logDecision, once, reply, replyTemporaryFailure, smsNotes } from '../_shared/haraka'

export function register(this: Plugin): void {
  this.register_hook('data_post', 'prepare_sms')
}

/** End of DATA: MIME to SMS text, refused when automatic, empty or over the account's cap. */
export function prepare_sms(this: Plugin, nextHook: Next, connection: Connection): void {
  const next = once(nextHook)
  const txn = connection.transaction
  if (!txn) return next()
  const notes = smsNotes(connection)
  txn.message_stream.get_data((raw) => {
    // Started inside a promise: a synchronous throw in this callback would reach Haraka's
    // uncaughtException handler, which stops the whole MX.
    Promise.resolve()
      .then(() => parseEmail(raw))
      .then((mail) => draftSms(mail, notes.recipients).then((r) => ({ mail, ...r })))
      .then(({ mail, decision, drafts }) => {
        if (decision.action !== 'accept') {
          logDecision(
            this,
            connection,
            decision,
            `message_id=${mail.messageId ?? 'none'} bytes=${raw.length}`,
          )
          return reply(next, decision)
        }
        // Accepted messages are logged once, by queue.sms_outbox, with the ids they got.
        notes.drafts = drafts
        txn.notes.sms_mail = mail
        next()
      })
      .catch((err) => replyTemporaryFailure(this, connection, next, err, 'message parsing'))
  })
}
