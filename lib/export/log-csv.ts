import type { Db } from '../db/connection'
import { listAccountSms, type SmsLogEntry, type SmsLogFilter } from '../db/outbound'
import { csvRecord } from './csv'
import { EXPORT_HEADER, exportLine } from './sms-csv'
import type { TimeZone } from '../time/zone'

export interface LogCsvOptions {
  clock: TimeZone
  /** SMS read per page. */
  pageSize?: number
  /** A UTF-8 byte order mark first, for spreadsheets that otherwise read the file as ANSI. */
  bom?: boolean
  /** SMS a partial search reads per page (see listAccountSms). */
  searchBudget?: number
}

function toExported(e: SmsLogEntry) {
  return {
    id: e.id,
    createdAt: e.createdAt,
    senderEmail: e.senderEmail,
    recipient: e.recipient,
    status: e.detail,
    encoding: e.encoding,
    segments: e.segments,
    body: e.body,
    sentAt: e.sentAt,
    finalAt: e.finalAt,
    errorCode: e.errorCode,
    lastError: e.lastError,
    mxTransaction: e.trace,
    purged: e.purged,
  }
}

/**
 * The admin's log as CSV, with the log's own filters and order (newest first), in the columns
 * of `mail2sms sms export`. A pull stream: the next page is read only when the client has taken
 * the previous one, so memory holds one page however many SMS there are and however slowly
 * the browser downloads. A database error mid-way aborts the download rather than end a file
 * that looks complete.
 */
export function smsLogCsv(
  db: Db,
  accountId: number,
  filter: SmsLogFilter,
  opts: LogCsvOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const pageSize = opts.pageSize ?? 5000
  let before = filter.before
  let done = false
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(
          encoder.encode((opts.bom ? '\ufeff' : '') + csvRecord([...EXPORT_HEADER])),
        )
      },
      async pull(controller) {
        // A partial search may read a window without a match: go on until something is written.
        while (!done) {
          const page = await listAccountSms(db, accountId, { ...filter, before }, pageSize, {
            searchBudget: opts.searchBudget,
          })
          if (page.nextBefore === null) done = true
          else before = page.nextBefore
          if (page.rows.length > 0) {
            const lines = page.rows.map((e) => exportLine(toExported(e), opts.clock)).join('')
            controller.enqueue(encoder.encode(lines))
            break
          }
        }
        if (done) controller.close()
      },
      cancel() {
        done = true
      },
    },
    { highWaterMark: 1 },
  )
}
