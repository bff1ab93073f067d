import type { Connection, Next, Plugin } from 'haraka'
import type { Decision } from '../../lib/mx/decision'
import { answer } from '../../lib/mx/replies'
import { once, reply, replyTemporaryFailure, runtime, smsNotes } from '../_shared/haraka'
import { directLogger } from '../_shared/log'

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
  if (!txn || !notes.sender || notes.rows.length === 0) {
    return replyTemporaryFailure(this, connection, next, new Error('no prepared SMS'), 'SMS queue')
  }
  const sender = notes.sender.sender
  Promise.resolve()
    .then(() => runtime().outbox.write(notes.rows, notes.usage))
    .then(({ ids, duplicates }) => {
      runtime().metrics.queued(ids.length - duplicates)
      // One line per SMS, under this transaction's id: the trace its later lines carry. The
      // line every accepted message gets, so it goes to our logger directly when it can.
      const log = directLogger()
      for (const [i, id] of ids.entries()) {
        const fields = {
          sms: id,
          to: notes.rows[i].recipient,
          sender,
          encoding: notes.rows[i].encoding,
          segments: notes.rows[i].segments,
          message_id: String(txn.notes.sms_message_id ?? 'none'),
          // A retry of a message already queued: its SMS keep the first try's trace.
          duplicates: duplicates > 0 ? duplicates : undefined,
        }
        if (log) log.info('sms.queued', { trace: txn.uuid, origin: this.name, ...fields })
        else connection.lognotice(this, { event: 'sms.queued', ...fields })
      }
      const what = ids.length === 1 ? `SMS ${ids[0]}` : `${ids.length} SMS (${ids.join(', ')})`
      txn.notes.sms_queued = answer('queued', { what, duplicate: duplicates === ids.length })
      next()
    })
    .catch((err) => replyTemporaryFailure(this, connection, next, err, 'SMS queue'))
}

export function confirm_queued(this: Plugin, next: Next, connection: Connection): void {
  const queued = connection.transaction?.notes.sms_queued as Decision | undefined
  if (!queued)
    return replyTemporaryFailure(this, connection, next, new Error('nothing stored'), 'SMS queue')
  reply(next, queued)
}
