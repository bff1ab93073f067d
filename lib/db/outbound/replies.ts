/** The SMS an inbound SMS answers, for a direct reply to its sender. */
import type { Db } from '../connection'

/** An SMS an inbound SMS may answer, with what its reply mail is threaded and addressed by. */
export interface AnsweredSms {
  id: number
  senderEmail: string
  body: string
  sourceMessageId: string | null
  createdAt: number
  /** The MX transaction that queued it, for the log. */
  trace: string | null
}

/**
 * The newest SMS of the account to `recipient`, in one of `statuses`, created between `since`
 * and `until` (both included); null when there is none.
 */
export async function findLatestSmsTo(
  db: Db,
  accountId: number,
  recipient: string,
  statuses: readonly string[],
  since: number,
  until: number,
): Promise<AnsweredSms | null> {
  const last = await db('outbound_sms')
    .where({ account_id: accountId, recipient })
    .whereIn('status', statuses)
    .where('created_at', '>=', since)
    .where('created_at', '<=', until)
    .orderBy('id', 'desc')
    .first('id', 'sender_email', 'body', 'source_message_id', 'created_at', 'mx_transaction')
  if (!last) return null
  return {
    id: Number(last.id),
    senderEmail: String(last.sender_email),
    body: String(last.body),
    sourceMessageId: (last.source_message_id as string | null) ?? null,
    createdAt: Number(last.created_at),
    trace: (last.mx_transaction as string | null) ?? null,
  }
}
