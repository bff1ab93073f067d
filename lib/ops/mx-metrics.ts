import { Counter, type Registry } from 'prom-client'
import type { Decision } from '../mx/decision'
import { REPLIES, type ReplyName } from '../mx/replies'
import { METRIC_PREFIX } from './metrics'

/** What the MX counts: every answer it gives of its own, and the SMS it commits. */
export interface MxMetrics {
  /** A decision mapped to SMTP (plugins/_shared/haraka.ts reply()). */
  replied(decision: Decision): void
  /** SMS rows committed for an accepted email (retries of an email already taken excluded). */
  queued(sms: number): void
}

export const noMxMetrics: MxMetrics = { replied: () => undefined, queued: () => undefined }

export function mxMetrics(registry: Registry): MxMetrics {
  const accepted = new Counter({
    name: `${METRIC_PREFIX}mx_emails_accepted_total`,
    help: 'Emails the MX answered 250 for, their SMS committed (a retry already taken included)',
    registers: [registry],
  })
  const refused = new Counter({
    name: `${METRIC_PREFIX}mx_refusals_total`,
    help: 'Refusals the MX gave (one per refused command or recipient), by SMTP code and reply name in lib/mx/replies.ts',
    labelNames: ['code', 'reply'],
    registers: [registry],
  })
  const queued = new Counter({
    name: `${METRIC_PREFIX}mx_sms_queued_total`,
    help: 'SMS rows the MX committed (one per recipient)',
    registers: [registry],
  })
  // Every refusal of the catalogue exists from the start at 0, so an alert on its rise sees
  // the first one.
  for (const name of Object.keys(REPLIES) as ReplyName[]) {
    const r = REPLIES[name]
    if (r.code >= 400) refused.inc({ code: String(r.code), reply: name }, 0)
  }
  return {
    replied(decision) {
      if (decision.action === 'accept') {
        if (decision.reason === 'queued') accepted.inc()
        return
      }
      refused.inc({ code: String(decision.code), reply: decision.reason })
    },
    queued(sms) {
      if (sms > 0) queued.inc(sms)
    },
  }
}
