import { Hono } from 'hono'
import type { AdminEnv } from '../env'
import { logLabels, readFilter, readQuery } from './messages'
import { smsLogCsv } from '../../lib/export/log-csv'
import { accountClock } from '../account'

/**
 * The SMS log as a CSV file: the same filters as the page (its query string), every matching
 * SMS rather than one page, streamed as it is read (see lib/export/log-csv.ts), so a million
 * rows download in flat memory. A filter the page would refuse gets the same 400.
 */
export const messagesExportRoutes = new Hono<AdminEnv>()

messagesExportRoutes.get('/', async (c) => {
  const { db } = c.get('deps')
  const account = c.get('account')
  const l = logLabels(c.get('lang'))
  const clock = await accountClock(c)
  const { filter, errors } = await readFilter(db, account.id, readQuery(c), l, clock)
  const problems = Object.values(errors)
  if (problems.length > 0) {
    return c.text(`${l.notFiltered}\n${problems.join('\n')}\n`, 400)
  }
  const body = smsLogCsv(db, account.id, filter, { clock, bom: true })
  const file = `sms-${account.ref}.csv`
  return c.body(body, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${file}"`,
  })
})
