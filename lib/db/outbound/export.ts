import { isMysql, type Db } from '../connection'

/**
 * An account's SMS for export, oldest first, read in pages by keyset on (created_at, id): each
 * page starts where the last one ended, through the (account_id, created_at) index, whose
 * entries are also in id order within one time (InnoDB and SQLite keep the primary key in
 * every index), so a page costs the same at the first row and the millionth, and nothing but
 * one page is ever held in memory.
 */

const INDEX = 'outbound_sms_account_created_at'

export interface ExportRange {
  accountId: number
  /** First instant included (UTC ms), or null for the account's first SMS. */
  from: number | null
  /** First instant excluded (UTC ms), or null for up to now. */
  to: number | null
}

/** Where the previous page ended. */
export interface ExportCursor {
  createdAt: number
  id: number
}

export interface ExportedSms {
  id: number
  createdAt: number
  senderEmail: string
  recipient: string
  status: string
  encoding: string
  segments: number
  body: string
  sentAt: number | null
  finalAt: number | null
  errorCode: number | null
  lastError: string | null
  /** The MX transaction id: the `trace=` of every log line about this SMS. */
  mxTransaction: string | null
  /** What the retention purge removed: bits of lib/db/retention.ts. */
  purged: number
}

const COLUMNS = [
  'id',
  'created_at',
  'sender_email',
  'recipient',
  'status',
  'encoding',
  'segments',
  'body',
  'sent_at',
  'final_at',
  'error_code',
  'last_error',
  'mx_transaction',
  'purged',
]

const optional = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

function toExported(r: Record<string, unknown>): ExportedSms {
  return {
    id: Number(r.id),
    createdAt: Number(r.created_at),
    senderEmail: String(r.sender_email),
    recipient: String(r.recipient),
    status: String(r.status),
    encoding: String(r.encoding),
    segments: Number(r.segments),
    body: String(r.body),
    sentAt: optional(r.sent_at),
    finalAt: optional(r.final_at),
    errorCode: optional(r.error_code),
    lastError: (r.last_error as string | null) ?? null,
    mxTransaction: (r.mx_transaction as string | null) ?? null,
    purged: Number(r.purged ?? 0),
  }
}

/** Up to `limit` SMS of the range after `after` (or from its start), in (created_at, id) order. */
export async function readExportPage(
  db: Db,
  range: ExportRange,
  after: ExportCursor | null,
  limit: number,
): Promise<ExportedSms[]> {
  // Named: MariaDB may otherwise read the (account_id, id) index and sort the account's rows.
  const q = (
    isMysql(db)
      ? db.from(db.raw('?? FORCE INDEX (??)', ['outbound_sms', INDEX]))
      : db.from(db.raw('?? INDEXED BY ??', ['outbound_sms', INDEX]))
  )
    .select(COLUMNS)
    .where('account_id', range.accountId)
  const start = Math.max(range.from ?? -Infinity, after?.createdAt ?? -Infinity)
  if (start !== -Infinity) q.where('created_at', '>=', start)
  if (range.to !== null) q.where('created_at', '<', range.to)
  if (after) {
    // The range above starts at the cursor's time; this skips what the last page gave of it.
    q.where((w) =>
      w
        .where('created_at', '>', after.createdAt)
        .orWhere((same) => same.where('created_at', after.createdAt).where('id', '>', after.id)),
    )
  }
  const rows = (await q.orderBy('created_at').orderBy('id').limit(limit)) as Array<
    Record<string, unknown>
  >
  return rows.map(toExported)
}
