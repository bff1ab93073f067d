import { once } from 'node:events'
import type { Writable } from 'node:stream'
import type { Db } from '../db/connection'
import { PURGED_ADDRESSES, PURGED_TEXT } from '../db/retention'
import {
  logStatusOf,
  readExportPage,
  type ExportCursor,
  type ExportedSms,
  type ExportRange,
} from '../db/outbound'
import { csvRecord } from './csv'
import { timeZone, type TimeZone } from '../time/zone'

/**
 * The columns of `mail2sms sms export`, one SMS (one recipient) per line. Times are ISO 8601 in
 * the export's zone, with its offset, so that no line is ambiguous across a clock change.
 */
export const EXPORT_HEADER = [
  'id',
  'created',
  'sender',
  'recipient',
  // The five states of the admin's log, then the worker's own (undeliverable, expired…).
  'status',
  'detail',
  'encoding',
  // What the carrier bills: one per SMS part.
  'segments',
  'text',
  'sent',
  'final',
  'error_code',
  'error',
  // The MX transaction id that every log line about this SMS carries as trace=.
  'trace',
  // What the retention purge removed: text, addresses, or both; the cells are then blank.
  'purged',
] as const

function purgedLabel(bits: number): string {
  const removed = []
  if (bits & PURGED_TEXT) removed.push('text')
  if (bits & PURGED_ADDRESSES) removed.push('addresses')
  return removed.join('+')
}

export function exportLine(sms: ExportedSms, clock: TimeZone): string {
  const time = (ms: number | null) => (ms === null ? null : clock.format(ms))
  return csvRecord([
    sms.id,
    time(sms.createdAt),
    sms.senderEmail,
    sms.recipient,
    logStatusOf(sms.status),
    sms.status,
    sms.encoding,
    sms.segments,
    sms.body,
    time(sms.sentAt),
    time(sms.finalAt),
    sms.errorCode,
    sms.lastError,
    sms.mxTransaction,
    purgedLabel(sms.purged),
  ])
}

export interface SmsExportOptions {
  range: ExportRange
  clock: TimeZone
  /** Rows per read. */
  pageSize?: number
  /** A UTF-8 byte order mark first, for spreadsheets that otherwise read the file as ANSI. */
  bom?: boolean
}

/**
 * Writes the header and every SMS of the range to `out`, a page at a time, waiting for `out`
 * to drain whenever it asks to, so memory holds one page whatever the size of the export.
 * Returns the number of SMS written.
 */
export async function writeSmsCsv(db: Db, out: Writable, opts: SmsExportOptions): Promise<number> {
  const pageSize = opts.pageSize ?? 1000
  const write = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain')
  }
  await write((opts.bom ? '\ufeff' : '') + csvRecord([...EXPORT_HEADER]))
  let after: ExportCursor | null = null
  let count = 0
  for (;;) {
    const page = await readExportPage(db, opts.range, after, pageSize)
    if (page.length === 0) break
    await write(page.map((sms) => exportLine(sms, opts.clock)).join(''))
    count += page.length
    const last = page[page.length - 1]
    after = { createdAt: last.createdAt, id: last.id }
    if (page.length < pageSize) break
  }
  return count
}

/**
 * The export's window from the command line: --from and --to are calendar days in `zone`
 * (the CLI passes the account's zone when --tz is not given), both included: from the first instant of --from to the first instant
 * of the day after --to. Throws RangeError or TimeZoneError with a message for the user.
 */
export function exportRange(
  from: string | undefined,
  to: string | undefined,
  zone = 'UTC',
): { from: number | null; to: number | null; clock: TimeZone } {
  const clock = timeZone(zone)
  const range = {
    from: from === undefined ? null : clock.startOfDate(from),
    to: to === undefined ? null : clock.startOfNextDate(to),
    clock,
  }
  if (range.from !== null && range.to !== null && range.to <= range.from) {
    throw new RangeError(`--to ${to} is before --from ${from}`)
  }
  return range
}
