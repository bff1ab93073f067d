import type { Connection, Next, Plugin } from 'haraka'
import { prepareMessage } from '../../lib/mx/message'
import {
  logDecision,
  once,
  reply,
  replyTemporaryFailure,
  runtime,
  smsNotes,
} from '../_shared/haraka'
import { captureMessage, readMessage } from '../_shared/message-capture'

export function register(this: Plugin): void {
  // First of the MAIL hooks, so that it runs whatever the others answer: the transaction exists
  // from MAIL FROM on, and Haraka writes its Received line into the message at DATA, before
  // any data hook could start keeping the lines.
  this.register_hook('mail', 'capture_message', -100)
  this.register_hook('data_post', 'prepare_sms')
}

/** Keeps the message's lines as they arrive, for prepare_sms (see _shared/message-capture). */
export function capture_message(this: Plugin, next: Next, connection: Connection): void {
  const txn = connection.transaction
  if (txn) captureMessage(txn.message_stream)
  next()
}

/**
 * End of DATA: MIME to SMS text, refused when unreadable, automatic, empty, over the account's
 * cap or over a spend limit.
 */
export function prepare_sms(this: Plugin, nextHook: Next, connection: Connection): void {
  const next = once(nextHook)
  const txn = connection.transaction
  if (!txn) return next()
  const notes = smsNotes(connection)
  readMessage(txn.message_stream, (raw) => {
    // Started inside a promise: a synchronous throw in this callback would reach Haraka's
    // uncaughtException handler, which stops the whole MX.
    Promise.resolve()
      .then(() =>
        prepareMessage({
          raw,
          recipients: notes.recipients,
          sender: notes.sender?.sender ?? '',
          mxTransaction: txn.uuid,
          spend: runtime().spend,
        }),
      )
      .then(({ decision, mail, rows, usage }) => {
        if (decision.action !== 'accept') {
          logDecision(
            this,
            connection,
            decision,
            // The numbers too: their accepted RCPT lines are debug.
            `sender=${notes.sender?.sender ?? '<>'} to=${notes.recipients.map((r) => r.e164).join(',') || 'none'} message_id=${mail?.messageId ?? 'none'} bytes=${raw.length}`,
          )
          return reply(next, decision)
        }
        // Accepted messages are logged once, by queue.sms_outbox, with the ids they got.
        notes.rows = rows
        notes.usage = usage
        txn.notes.sms_message_id = mail?.messageId ?? 'none'
        next()
      })
      .catch((err) => replyTemporaryFailure(this, connection, next, err, 'SMS queue'))
  })
}
