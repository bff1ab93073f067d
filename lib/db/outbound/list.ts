import type { Db } from '../connection'
import type { SmsEncoding } from '../../sms/segments'
import type { SmsStatus } from './sms-status'

/** SMS as the operator CLI lists them (`sms list`): any account, newest first. */
export interface OutboundSms {
  id: number
  accountId: number
  senderEmail: string
  recipient: string
  body: string
  encoding: SmsEncoding
  segments: number
  status: SmsStatus
  attempts: number
  sourceMessageId: string | null
  createdAt: number
}

function toOutbound(row: Record<string, unknown>): OutboundSms {
  return {
    id: Number(row.id),
    accountId: Number(row.account_id),
    senderEmail: String(row.sender_email),
    recipient: String(row.recipient),
    body: String(row.body),
    encoding: row.encoding as SmsEncoding,
    segments: Number(row.segments),
    status: row.status as SmsStatus,
    attempts: Number(row.attempts),
    sourceMessageId: (row.source_message_id as string | null) ?? null,
    createdAt: Number(row.created_at),
  }
}

export interface ListSmsFilter {
  accountId?: number
  status?: SmsStatus
  limit?: number
  /** Keyset pagination: only rows with a smaller id. */
  beforeId?: number
}

export async function listSms(db: Db, filter: ListSmsFilter = {}): Promise<OutboundSms[]> {
  const q = db('outbound_sms')
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50)
  if (filter.accountId !== undefined) q.where({ account_id: filter.accountId })
  if (filter.status) q.where({ status: filter.status })
  if (filter.beforeId !== undefined) q.where('id', '<', filter.beforeId)
  return (await q).map(toOutbound)
}
