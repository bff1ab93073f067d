import path from 'node:path'
import constants from 'haraka-constants'
import DSN from 'haraka-dsn'
import type { Connection, Next, Plugin } from 'haraka'
import type { Decision } from '../../lib/mx/decision'
import { getMxRuntime, peekMxRuntime, type MxRuntime } from '../../lib/mx/runtime'
import type { SenderState } from '../../lib/mx/sender-policy'
import type { PlannedRecipient } from '../../lib/mx/recipient-policy'
import type { NewSms } from '../../lib/db/outbound'
import type { CounterDelta } from '../../lib/db/usage-counters'
import { answer } from '../../lib/mx/replies'

/** Our notes on the transaction, shared by the hooks of one message. */
export interface SmsTransactionNotes {
  sender: SenderState | null
  recipients: PlannedRecipient[]
  /** Set by data.sms_text once the message is accepted: what queue.sms_outbox commits. */
  rows: NewSms[]
  usage: CounterDelta[]
}

/** mail2sms.ini: MAIL2SMS_CONFIG, else the one in Haraka's config folder. */
export function configFile(): string {
  const haraka = process.env.HARAKA ?? process.cwd()
  return process.env.MAIL2SMS_CONFIG ?? path.join(haraka, 'config', 'mail2sms.ini')
}

/**
 * The process's runtime; `log` serves the first call, which makes it (at Haraka's start).
 * Once made, it is returned as it is: every hook asks for it, and reading the environment for
 * the config file's name on each call cost more than the rest of the lookup.
 */
export function runtime(log?: (line: string) => void): MxRuntime {
  return peekMxRuntime() ?? getMxRuntime(configFile(), log)
}

export function smsNotes(connection: Connection): SmsTransactionNotes {
  const txn = connection.transaction
  if (!txn) throw new Error('no transaction')
  const existing = txn.notes.sms as SmsTransactionNotes | undefined
  if (existing) return existing
  const created: SmsTransactionNotes = { sender: null, recipients: [], rows: [], usage: [] }
  txn.notes.sms = created
  return created
}

/**
 * One key=value line per decision. Refusals and queued messages are notices, seen at the
 * default log level; accepted steps are info, for tracing a message through every hook.
 */
export function logDecision(
  plugin: Plugin,
  connection: Connection,
  decision: Decision,
  line: string,
): void {
  if (decision.action === 'accept') connection.loginfo(plugin, `${line} decision=accept`)
  else
    connection.lognotice(
      plugin,
      `${line} decision=${decision.action} status=${decision.status} reason=${decision.reason}`,
    )
}

/**
 * When a hook must have answered: a second before Haraka's timeout for its plugin
 * (`config/<plugin>.timeout`, else `config/plugin_timeout`), as haraka-plugin-spf does. Past
 * Haraka's own timeout the client would get a bare `450 plugin timeout` and our reply would be
 * dropped; inside it, a slow SPF lookup ends as our 451 4.7.24 naming the domain. A timeout of
 * 0 means Haraka never times the plugin out.
 */
export function hookDeadline(plugin: Plugin, started = Date.now()): number {
  return plugin.timeout > 0 ? started + Math.max(0, plugin.timeout - 1) * 1000 : Infinity
}

/**
 * Maps a policy decision to Haraka's return code and an enhanced-status reply; `disconnect`
 * closes the connection after a refusal. Every answer of our own passes here, so this is
 * where the MX's metrics count acceptances and refusals (by code and catalogue name).
 */
export function reply(next: Next, decision: Decision, opts: { disconnect?: boolean } = {}): void {
  peekMxRuntime()?.metrics.replied(decision)
  if (decision.action === 'accept') {
    next(constants.ok, decision.message)
    return
  }
  const [, subject, detail] = decision.status.split('.').map(Number)
  const dsn = DSN.create(decision.code, decision.message, subject, detail)
  const code =
    decision.action === 'deny'
      ? opts.disconnect
        ? constants.denydisconnect
        : constants.deny
      : opts.disconnect
        ? constants.denysoftdisconnect
        : constants.denysoft
  next(code, dsn)
}

/** Infrastructure failures ask the client to retry: never a 5xx for our own trouble. */
export function replyTemporaryFailure(
  plugin: Plugin,
  connection: Connection,
  next: Next,
  err: unknown,
  what: string,
): void {
  connection.logerror(plugin, `${what} failed: ${(err as Error)?.message ?? err}`)
  reply(next, answer('temporaryFailure', { what }))
}

/** Wraps `next` so that a second call (a late callback after an error path) is ignored. */
export function once(next: Next): Next {
  let called = false
  return (code?: number, msg?: unknown) => {
    if (called) return
    called = true
    next(code, msg)
  }
}
